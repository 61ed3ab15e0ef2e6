"""Parity with PyTorch: the reference networks (torchvision key names, random weights) and the
converted Flax models give the same logits and intermediates; every source format converts to
the same params; the ``python -m weights_convert`` CLI writes a loadable file and its sidecar.

Every model and layer test runs on both layer sets (``layers``: flax's own, the default, and
jaxdl's XLA:CPU kernels). "Relative error" below is ``max|jax - torch| / max|torch|`` over the
whole array (elementwise
relative error is meaningless for activations near zero).
"""

import json

import flax.traverse_util
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import get_model
from jaxdl.weights import load_params
from tests.conftest import assert_gradients_match
from weights_convert import convert, convert_file
from weights_convert.__main__ import main as convert_main
from weights_convert.sources import sha256

pytestmark = pytest.mark.torch
RTOL = 1e-4


def relative_error(ours, reference):
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


def nchw_to_nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def reference_and_params(torch, arch, seed=0):
    """(torch reference network, its state dict as numpy, converted nested Flax params)."""
    from weights_convert.torch_models import build

    net = build(arch, seed=seed)
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    flat, layout = convert(arch, state, source=f"random {arch}")
    assert layout == "torchvision"
    return net, state, flax.traverse_util.unflatten_dict(flat, sep="/")


def random_images(torch, n, size=224, seed=1):
    """(torch NCHW input, the same numbers as NHWC numpy)."""
    x = torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))
    return x, nchw_to_nhwc(x)


def test_vgg16_logits_relu6_relu7_match_pytorch(torch, layers):
    net, _, params = reference_and_params(torch, "vgg16")
    x_torch, x = random_images(torch, 1)
    with torch.no_grad():
        pool5 = net.avgpool(net.features(x_torch))
        flat = torch.flatten(pool5, 1)
        relu6 = net.classifier[:2](flat)
        relu7 = net.classifier[2:5](relu6)
        logits = net.classifier[5:](relu7)
        np.testing.assert_allclose(logits.numpy(), net(x_torch).numpy(), rtol=1e-6, atol=1e-6)
    out, acts = jax.jit(get_model("vgg16", layers=layers).apply)({"params": params}, x)
    assert relative_error(acts["pool5"], nchw_to_nhwc(pool5)) < RTOL
    assert relative_error(acts["relu6"], relu6.numpy()) < RTOL
    assert relative_error(acts["relu7"], relu7.numpy()) < RTOL
    assert relative_error(out, logits.numpy()) < RTOL
    assert np.argmax(out) == int(logits.argmax())


@pytest.mark.parametrize("arch", ["squeezenet1_0", "squeezenet1_1"])
def test_squeezenet_logits_conv1_fire9_match_pytorch(torch, arch, layers):
    net, _, params = reference_and_params(torch, arch)
    x_torch, x = random_images(torch, 2)
    with torch.no_grad():
        conv1 = net.features[:2](x_torch)
        fire9 = net.features(x_torch)
        logits = net.classifier(fire9).flatten(1)
    out, acts = jax.jit(get_model(arch, layers=layers).apply)({"params": params}, x)
    assert relative_error(acts["conv1"], nchw_to_nhwc(conv1)) < RTOL
    assert relative_error(acts["fire9"], nchw_to_nhwc(fire9)) < RTOL
    assert relative_error(out, logits.numpy()) < RTOL


def test_pth_safetensors_and_npz_sources_convert_to_identical_params(torch, tmp_path):
    from safetensors.numpy import save_file

    net, state, _ = reference_and_params(torch, "squeezenet1_1", seed=3)
    torch.save(net.state_dict(), tmp_path / "sq.pth")
    save_file(state, str(tmp_path / "sq.safetensors"))
    np.savez(tmp_path / "sq.npz", **state)
    converted = [
        convert_file("squeezenet1_1", tmp_path / f"sq.{ext}")[0]
        for ext in ("pth", "safetensors", "npz")
    ]
    for params in converted[1:]:
        jax.tree.map(np.testing.assert_array_equal, params, converted[0])


def test_pth_of_a_whole_checkpoint_dict_and_dataparallel_prefix_convert(torch, tmp_path):
    net, _, params = reference_and_params(torch, "squeezenet1_1", seed=4)
    wrapped = {"state_dict": {f"module.{k}": v for k, v in net.state_dict().items()}}
    torch.save(wrapped, tmp_path / "ckpt.pth")
    converted, _ = convert_file("squeezenet1_1", tmp_path / "ckpt.pth")
    jax.tree.map(np.testing.assert_array_equal, converted, params)


def test_cli_round_trip_writes_npz_and_sidecar(torch, tmp_path, capsys):
    net, _, params = reference_and_params(torch, "squeezenet1_0", seed=5)
    source, out = tmp_path / "sq10.pth", tmp_path / "converted" / "sq10.npz"
    torch.save(net.state_dict(), source)
    assert convert_main(["squeezenet1_0", str(source), str(out)]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["architecture"] == "squeezenet1_0"
    assert sidecar["source_sha256"] == sha256(source) == printed["source_sha256"]
    assert sidecar["preprocessing"] == {"size": 224, "resize": 256, "normalization": "torchvision"}
    loaded, meta = load_params(out)
    assert meta["architecture"] == "squeezenet1_0"
    jax.tree.map(np.testing.assert_array_equal, loaded, params)


def test_load_converted_inverts_the_converter(torch):
    from weights_convert.torch_models import load_converted

    net, state, params = reference_and_params(torch, "squeezenet1_1", seed=6)
    back = load_converted("squeezenet1_1", params).state_dict()
    for key, value in state.items():
        np.testing.assert_array_equal(back[key].numpy(), value)


@pytest.mark.parametrize(
    "shape,window,stride,ceil_mode,ties",
    [
        ((2, 111, 111, 3), 3, 2, True, False),  # SqueezeNet's overlapping ceil-mode pools
        ((2, 12, 13, 3), 3, 2, True, True),  # ties across overlapping windows, even and odd sizes
        ((2, 13, 12, 3), 3, 2, False, True),
        ((1, 10, 11, 2), 3, 1, False, True),  # stride 1: every element in up to 9 windows
        ((1, 11, 11, 2), 4, 2, True, True),
        ((2, 14, 14, 5), 2, 2, False, False),  # VGG's / DANN's non-overlapping tiles
        ((2, 14, 14, 5), 2, 2, False, True),  # ties: the first maximum of a tile takes the gradient
        ((2, 7, 9, 3), 2, 2, False, True),  # floor mode drops the remainder
        ((2, 7, 9, 3), 2, 2, True, True),  # ceil mode pads it
    ],
)
def test_max_pool_value_and_gradient_match_pytorch(
    torch, layers, shape, window, stride, ceil_mode, ties
):
    x = jax.random.normal(jax.random.key(0), shape)
    if ties:
        x = jnp.round(x)
    pool = lambda v: layers.max_pool(v, window, stride, ceil_mode)  # noqa: E731
    g = jax.random.normal(jax.random.key(1), jax.eval_shape(pool, x).shape)
    y, dx = jax.jit(lambda v, cotangent: (pool(v), jax.vjp(pool, v)[1](cotangent)[0]))(x, g)
    x_torch = torch.tensor(np.asarray(x).transpose(0, 3, 1, 2), requires_grad=True)
    y_torch = torch.nn.functional.max_pool2d(x_torch, window, stride, ceil_mode=ceil_mode)
    y_torch.backward(torch.tensor(np.asarray(g).transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(y, nchw_to_nhwc(y_torch))
    np.testing.assert_allclose(dx, nchw_to_nhwc(x_torch.grad), atol=1e-6)


@pytest.mark.parametrize("window,stride", [(3, 2), (2, 2)])
def test_cpu_max_pool_nan_wins_as_in_pytorch(torch, window, stride):
    """jaxdl.cpu's pool: a NaN in a window is its maximum and takes its gradient (PyTorch's CPU
    kernel: the later NaN of two); the compiled gradient has no scatter. (XLA's own
    reduce_window gradient does not follow PyTorch on NaN inputs.)"""
    from jaxdl.cpu.layers import max_pool

    x = np.asarray(jax.random.normal(jax.random.key(0), (1, 9, 9, 2))).copy()
    x[0, 2, 3, 0] = x[0, 4, 4, 1] = x[0, 4, 5, 1] = np.nan
    pool = lambda v: max_pool(v, window, stride, True)  # noqa: E731
    g = jax.random.normal(jax.random.key(1), jax.eval_shape(pool, x).shape)
    both = jax.jit(lambda v, cotangent: (pool(v), jax.vjp(pool, v)[1](cotangent)[0]))
    y, dx = both(x, g)
    x_torch = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    y_torch = torch.nn.functional.max_pool2d(x_torch, window, stride, ceil_mode=True)
    y_torch.backward(torch.tensor(np.asarray(g).transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(y, nchw_to_nhwc(y_torch))
    np.testing.assert_allclose(dx, nchw_to_nhwc(x_torch.grad), atol=1e-6)
    assert "scatter" not in both.lower(x, g).compile().as_text()


def test_squeezenet_input_gradient_matches_pytorch(torch, layers):
    """The saliency gradient d sum_i logit_i[y_i] / d x, as the benchmark and chapter 2 use it.

    Looser than the forward check: float32 rounding flips a few ReLUs whose pre-activation is
    ~0, which changes the gradient locally (``assert_gradients_match``)."""
    net, _, params = reference_and_params(torch, "squeezenet1_1", seed=7)
    x_torch, x = random_images(torch, 2)
    labels = np.array([3, 999])
    model = get_model("squeezenet1_1", layers=layers)

    def score(images):
        logits = model.apply({"params": params}, images)[0]
        return jnp.take_along_axis(logits, jnp.asarray(labels)[:, None], axis=1).sum()

    ours = jax.jit(jax.grad(score))(x)
    x_torch.requires_grad_(True)
    net(x_torch).gather(1, torch.from_numpy(labels)[:, None]).sum().backward()
    assert_gradients_match(ours, nchw_to_nhwc(x_torch.grad))
