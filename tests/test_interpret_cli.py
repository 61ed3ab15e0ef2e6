"""The chapter-2 single-use commands (jaxdl saliency|smoothgrad|gradcam|fool|fgsm|pgd|onepixel|
classviz) on one real ImageNet image with the real SqueezeNet 1.1 (skip without data), tiny
settings: each writes its figure, the documented --save-npz keys and the closing JSON line; bad
input is a clear error (exit 2)."""

import json
import re

import chex
import numpy as np
import pytest

from experiments.cli import main
from jaxdl.weights import save_params

# command -> (extra flags, expected --save-npz keys with shapes for N=1 besides targets and logits)
COMMANDS = {
    "saliency": ([], {"saliency": (1, 224, 224)}),
    "smoothgrad": (["--samples", "2", "--batch-size", "2"], {"smoothgrad": (1, 224, 224)}),
    "gradcam": (["--layer", "fire9"], {"gradcam": (1, 13, 13), "gradcam_upsampled": (1, 224, 224)}),
    "fool": (
        ["--target", "wombat", "--steps", "3"],
        {
            "images": (1, 224, 224, 3),
            "iterations": (1,),
            "success": (1,),
            "linf_255": (1,),
            "l2_255": (1,),
        },
    ),
    "fgsm": (["--eps", "2"], {"images": (1, 224, 224, 3), "predicted": (1,), "linf_255": (1,)}),
    "pgd": (["--steps", "2"], {"images": (1, 224, 224, 3), "predicted": (1,), "linf_255": (1,)}),
    "onepixel": (
        ["--population", "4", "--generations", "1"],
        {"images": (1, 224, 224, 3), "pixels": (1, 1, 5), "success": (1,), "generations": (1,)},
    ),
    "classviz": (
        ["--target", "106", "--steps", "2", "--frame-every", "1"],
        {"images": (1, 224, 224, 3), "frames": (1, 3, 224, 224, 3), "prob": (1,)},
    ),
}
SUMMARY = {
    "fool": "success_rate",
    "fgsm": "success_rate",
    "pgd": "success_rate",
    "onepixel": "success_rate",
    "classviz": "min_prob",
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory, squeezenet11, imagenet25):
    """(one-image .npz, converted weights .npz) written once for the module."""
    folder = tmp_path_factory.mktemp("cli")
    x, y = imagenet25
    images = folder / "one.npz"
    np.savez(images, X=x[:1], y=y[:1])
    params, meta = squeezenet11
    return images, save_params(folder / "squeezenet1_1.npz", params, meta)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_writes_figure_npz_and_json_line(command, setup, tmp_path, capsys):
    images, weights = setup
    flags, keys = COMMANDS[command]
    npz = tmp_path / "raw.npz"
    code, out, err = run_cli(
        capsys, command, images, "--weights", weights, "--out", tmp_path, "--save-npz", npz, *flags
    )
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["command"] == command and result["n"] == 1 and result["npz"] == str(npz)
    assert (tmp_path / f"{command}.png").is_file() and result["figure"] == str(
        tmp_path / f"{command}.png"
    )
    if command in SUMMARY:
        assert 0.0 <= result[SUMMARY[command]] <= 1.0
    with np.load(npz, allow_pickle=False) as saved:
        assert set(saved.files) == {"targets", "logits", *keys}
        chex.assert_shape([saved["targets"], saved["logits"]], [(1,), (1, 1000)])
        for key, shape in keys.items():
            chex.assert_shape(saved[key], shape)
        if "images" in keys:
            assert saved["images"].dtype == np.uint8
    if command == "classviz":
        assert (tmp_path / "classviz_one_000.gif").is_file()
        assert int(np.load(npz)["targets"][0]) == 106  # wombat by index


@pytest.mark.parametrize(
    "argv,message",
    [
        (["fool", "--target", "dragon"], "unknown ImageNet class 'dragon'"),
        (["classviz", "--target", "1000"], "class index 1000 out of range: expected 0..999"),
        (["fool"], "--target CLASS"),
        (
            ["gradcam", "--layer", "fire10"],
            "valid convolutional layers: conv1, fire2, fire3, .*fire9, classifier",
        ),
    ],
)
def test_bad_input_is_a_clear_error(argv, message, setup, tmp_path, capsys):
    images, weights = setup
    code, _, err = run_cli(
        capsys, argv[0], images, "--weights", weights, "--out", tmp_path, *argv[1:]
    )
    assert code == 2
    assert err.startswith("jaxdl: error:")
    assert re.search(message, err), err


def test_images_of_the_wrong_shape_are_a_clear_error(setup, tmp_path, capsys):
    _, weights = setup
    grey = tmp_path / "grey.npz"
    np.savez(grey, X=np.zeros((2, 224, 224), np.uint8))
    code, _, err = run_cli(capsys, "saliency", grey, "--weights", weights, "--out", tmp_path)
    assert code == 2 and "'X' must be (N,H,W,C), got shape (2, 224, 224)" in err


@pytest.mark.torch
def test_saliency_of_the_25_images_equals_pytorch_autograd_on_the_images_as_given(
    squeezenet11, imagenet25, torch, tmp_path, capsys
):
    """The CS231n images are 224x224 already: they go in unresampled (no zoom), and the CLI's
    saliency maps equal PyTorch autograd's on the very same pixels and weights."""
    from tests.conftest import assert_gradients_match
    from weights_convert.torch_models import load_converted

    x, y = imagenet25
    np.savez(tmp_path / "val25.npz", X=x, y=y)
    params, meta = squeezenet11
    weights = save_params(tmp_path / "sq11.npz", params, meta)
    npz = tmp_path / "raw.npz"
    code, _, err = run_cli(
        capsys,
        "saliency",
        tmp_path / "val25.npz",
        "--weights",
        weights,
        "--out",
        tmp_path,
        "--save-npz",
        npz,
    )
    assert code == 0, err
    ours = np.load(npz)["saliency"]
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    inputs = ((x / 255.0 - mean) / std).astype(np.float32).transpose(0, 3, 1, 2)
    x_torch = torch.tensor(inputs, requires_grad=True)
    net = load_converted("squeezenet1_1", params).requires_grad_(False)
    net(x_torch).gather(1, torch.from_numpy(y)[:, None]).sum().backward()
    reference = x_torch.grad.abs().amax(dim=1).numpy()
    cosine = (ours * reference).sum() / np.linalg.norm(ours) / np.linalg.norm(reference)
    assert cosine > 0.9999, cosine
    assert_gradients_match(ours, reference)
    logits = np.load(npz)["logits"]
    with torch.no_grad():
        np.testing.assert_allclose(logits, net(torch.tensor(inputs)).numpy(), rtol=1e-4, atol=1e-4)
