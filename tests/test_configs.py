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


@pytest.mark.parametrize("assignment,message", [
    ("lrr=1", "unknown config key 'lrr'.*valid: lr, layers"),
    ("lr", "expected key=value"),
    ("flag=maybe", "expected a boolean"),
    ("lr=fast", "override lr='fast'"),
])
def test_bad_overrides_are_clear_errors(assignment, message):
    with pytest.raises(ValueError, match=message):
        configs.override(Example(), [assignment])


def test_saved_config_round_trips(tmp_path):
    config = Example(lr=0.1, layers=("a", "b"))
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"experiment": "x", "config": configs.to_dict(config)}))
    assert configs.load(Example, path) == config


@pytest.mark.slow  # two chapter runs: ~30 s on the AVX2 machine
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
        BasicsConfig(), seed=1, images=(0, 5), eval_images=100)
    assert main(["run", "basics", "--config", str(out / "config.json"), "--out", str(tmp_path / "run2")]) == 0
    assert json.loads((tmp_path / "run2" / "config.json").read_text())["config"] == saved["config"]
