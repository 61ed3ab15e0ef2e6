"""The ``jaxdl`` commands of chapter 1 end to end on tiny inputs with a random converted
SqueezeNet 1.1: figures written, a closing JSON line with the documented keys; bad inputs exit 2
with a one-line ``jaxdl: error:`` message. Also ``jaxdl demo`` on the embedded fallback data."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from experiments.cli import main
from jaxdl.models import get_model
from jaxdl.weights import save_params
from tests.conftest import random_params

PREPROCESSING = {"size": 224, "resize": 256, "normalization": "torchvision"}


def random_weights(folder, arch="squeezenet1_1"):
    """A converted-format checkpoint (.npz + sidecar) of randomly initialised ``arch``."""
    params = random_params(get_model(arch), jnp.zeros((1, 224, 224, 3)))
    return str(
        save_params(
            folder / f"{arch}.npz", params, {"architecture": arch, "preprocessing": PREPROCESSING}
        )
    )


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return random_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Two small photos-to-be (non-square PNG and JPEG) and an .npz with X (2,40,40,3), y."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(folder / "cat.png")
    Image.fromarray(rng.integers(0, 256, (60, 40, 3), dtype=np.uint8)).save(folder / "dog.jpg")
    np.savez(
        folder / "batch.npz",
        X=rng.integers(0, 256, (2, 40, 40, 3), dtype=np.uint8),
        y=np.array([1, 2]),
    )
    return folder


def last_json(capsys):
    out = capsys.readouterr().out
    return json.loads(out.strip().splitlines()[-1])


def run_error(capsys, argv):
    """Run a command that must fail; returns its one-line error message."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("jaxdl: error: ") and "\n" not in err, err
    return err


def test_predict_prints_top5_json_and_saves_one_figure_per_image(weights, images, tmp_path, capsys):
    argv = [
        "predict",
        str(images / "cat.png"),
        str(images / "batch.npz"),
        "--weights",
        weights,
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    result = last_json(capsys)
    assert result["command"] == "predict" and result["n"] == 3 and len(result["top1"]) == 3
    for name in ("cat", "batch_000", "batch_001"):
        assert (tmp_path / f"predict_{name}.png").stat().st_size > 0
    predictions = json.loads((tmp_path / "predictions.json").read_text())
    assert [p["label"] for p in predictions] == [None, 1, 2]
    assert all(len(p["top5"]) == 5 for p in predictions)


def test_activations_saves_the_grid_of_the_named_layer(weights, images, tmp_path, capsys):
    argv = [
        "activations",
        str(images / "dog.jpg"),
        "--weights",
        weights,
        "--layer",
        "fire2",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    result = last_json(capsys)
    assert result["command"] == "activations" and result["layer"] == "fire2"
    assert result["figures"] == [str(tmp_path / "activations_fire2_dog.png")]
    assert (tmp_path / "activations_fire2_dog.png").is_file()


def test_eval_imagenet_prints_top1_top5_n(weights, images, tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat.png 3\ndog.jpg 7\n\n")
    argv = [
        "eval-imagenet",
        "--weights",
        weights,
        "--image-dir",
        str(images),
        "--labels",
        str(labels),
        "--json",
    ]
    assert main(argv) == 0
    result = last_json(capsys)
    assert {"top1", "top5", "n"} <= set(result) and result["n"] == 2
    assert 0.0 <= result["top1"] <= result["top5"] <= 1.0


def test_non_image_file_is_an_error(weights, tmp_path, capsys):
    fake = tmp_path / "notes.jpg"
    fake.write_text("not an image\n")
    err = run_error(capsys, ["predict", str(fake), "--weights", weights, "--out", str(tmp_path)])
    assert "notes.jpg: not a readable image" in err


def test_image_of_the_wrong_rank_is_an_error(weights, tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", X=np.zeros((2, 2, 2, 2, 2), np.uint8))
    err = run_error(
        capsys, ["predict", str(tmp_path / "bad.npz"), "--weights", weights, "--out", str(tmp_path)]
    )
    assert "(N,H,W,C)" in err and "(2, 2, 2, 2, 2)" in err


def test_weights_of_another_architecture_are_an_error(images, tmp_path, capsys):
    other = random_weights(tmp_path, "squeezenet1_0")
    err = run_error(
        capsys,
        [
            "predict",
            str(images / "cat.png"),
            "--model",
            "squeezenet1_1",
            "--weights",
            other,
            "--out",
            str(tmp_path),
        ],
    )
    assert "holds squeezenet1_0 weights, not squeezenet1_1" in err


def test_missing_weights_and_unknown_layer_are_errors(weights, images, tmp_path, capsys):
    err = run_error(
        capsys, ["predict", str(images / "cat.png"), "--weights", str(tmp_path / "nope.npz")]
    )
    assert "nope.npz" in err
    err = run_error(
        capsys,
        [
            "activations",
            str(images / "cat.png"),
            "--weights",
            weights,
            "--layer",
            "fc9",
            "--out",
            str(tmp_path),
        ],
    )
    assert "unknown SqueezeNet layer 'fc9'" in err


def test_unknown_model_is_a_usage_error(weights, images, capsys):
    # argparse rejects it (choices) with exit status 2 and the list of valid models
    with pytest.raises(SystemExit) as excinfo:
        main(["predict", str(images / "cat.png"), "--model", "resnet50", "--weights", weights])
    assert excinfo.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert (
        err.startswith("jaxdl predict: error:")
        and "invalid choice: 'resnet50'" in err
        and "vgg16" in err
    )


@pytest.mark.slow  # trains the digits CNN: ~20 s quiet, ~60 s on a shared 2-core machine
def test_demo_runs_offline_on_embedded_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "none"))
    assert main(["demo", "--out", str(tmp_path / "demo"), "--only", "basics"]) == 0
    result = last_json(capsys)
    assert result["command"] == "demo" and (tmp_path / "demo" / "report.md").is_file()
    assert any("embedded data" in note for note in result["notes"])
