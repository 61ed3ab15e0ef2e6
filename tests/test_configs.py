"""Config overrides from the command line and re-running from a saved config.json."""

import dataclasses
import json

import pytest

from experiments import configs
from experiments.configs.basics import BasicsConfig


@dataclasses.dataclass(frozen=True)
class Example:
    lr: float = 1.0
    layers: tuple[str, ...] = ("relu6",)
    seed: int | None = None
    flag: bool = False


def test_overrides_parse_each_field_type():
    config = configs.override(Example(), ["lr=0.5", "layers=relu6,relu7", "seed=3", "flag=true"])
    assert config == Example(lr=0.5, layers=("relu6", "relu7"), seed=3, flag=True)
    assert configs.override(Example(seed=1), ["seed=none"]).seed is None


@pytest.mark.parametrize(
    "assignment,message",
    [
        ("lrr=1", "unknown config key 'lrr'.*valid: lr, layers"),
        ("lr", "expected key=value"),
        ("flag=maybe", "expected a boolean"),
        ("lr=fast", "override lr='fast'"),
    ],
)
def test_bad_overrides_are_clear_errors(assignment, message):
    with pytest.raises(ValueError, match=message):
        configs.override(Example(), [assignment])


def test_saved_config_round_trips(tmp_path):
    config = Example(lr=0.1, layers=("a", "b"))
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"experiment": "x", "config": configs.to_dict(config)}))
    assert configs.load(Example, path) == config


@pytest.mark.slow  # two chapter runs (half a minute)
def test_run_writes_config_and_reruns_from_it(tmp_path, capsys, monkeypatch):
    from experiments.cli import main

    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "no-data"))  # embedded data: fast and offline
    out = tmp_path / "run1"
    assert main(["run", "basics", "--quick", "--seed", "1", "--out", str(out)]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["seed"] == 1 and saved["jaxdl_version"]
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["vgg16_parameters"] == 138_357_544
    assert configs.load(BasicsConfig, out / "config.json") == dataclasses.replace(
        BasicsConfig(), seed=1, image_indices=(0, 5), eval_images=100
    )
    assert (
        main(
            ["run", "basics", "--config", str(out / "config.json"), "--out", str(tmp_path / "run2")]
        )
        == 0
    )
    assert json.loads((tmp_path / "run2" / "config.json").read_text())["config"] == saved["config"]


def test_nested_method_configs_take_dotted_overrides_together():
    from experiments.configs.visualize import VisualizeConfig
    from jaxdl.interpret import PGDConfig

    config = configs.override(
        VisualizeConfig(), ["pgd.steps=20", "classviz.steps=3", "classviz.frame_every=3"]
    )
    assert config.pgd == PGDConfig(steps=20)  # one source of truth: the library's other defaults
    assert (config.classviz.steps, config.classviz.frame_every) == (3, 3)
    with pytest.raises(ValueError, match="unknown config key 'pgd.stepz'.*pgd.steps"):
        configs.override(VisualizeConfig(), ["pgd.stepz=1"])


def test_saved_nested_config_round_trips(tmp_path):
    from experiments.configs.visualize import VisualizeConfig

    config = configs.override(VisualizeConfig(), ["pgd.eps=4", "image_indices=1,2"])
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"config": configs.to_dict(config)}))
    assert configs.load(VisualizeConfig, path) == config


def test_every_run_flag_shows_its_help_and_default(capsys):
    """``jaxdl run CHAPTER --help``: each config field is an option with a description and its
    default; booleans are --x / --no-x switches; nested fields are prefixed (--pgd-steps)."""
    from experiments.cli import build_parser
    from experiments.runner import CHAPTERS

    parser = build_parser()
    for chapter in CHAPTERS:
        with pytest.raises(SystemExit):
            parser.parse_args(["run", chapter, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        module = __import__(f"experiments.{chapter}", fromlist=["Config"])
        for name, field, kind in configs.leaf_fields(module.Config):
            flag = "--" + name.replace(".", "-").replace("_", "-")
            assert flag in text, (chapter, flag)
            if kind is bool:
                assert f"--no-{flag[2:]}" in text, (chapter, flag)
        assert text.count("(default:") >= len(list(configs.leaf_fields(module.Config))), chapter
    args = parser.parse_args(["run", "visualize", "--pgd-steps", "7", "--no-fool-quantized"])
    from experiments.flags import given_fields

    assert given_fields(args) == {"pgd.steps": 7, "fool.quantized": False}
