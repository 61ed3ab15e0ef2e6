"""Interpretation methods on the real ImageNet SqueezeNet 1.1 (skip without data), VGG16 shapes,
the bad-input errors and the CLI."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import imagenet
from jaxdl.interpret import FoolConfig, ModuleLogits, fool, gradcam, perturbation_norms, saliency
from jaxdl.models import get_model


@pytest.fixture(scope="module")
def inputs(imagenet25):
    x, y = imagenet25
    return imagenet.preprocess(jnp.asarray(x[:2]), resize=None), jnp.asarray(y[:2])


def test_saliency_matches_pytorch_autograd_on_squeezenet(squeezenet11, inputs, torch):
    from weights_convert.torch_models import load_converted

    params, _ = squeezenet11
    x, y = inputs
    maps = np.asarray(saliency(ModuleLogits(get_model("squeezenet1_1")), params, x, y))
    net = load_converted("squeezenet1_1", params)
    xt = torch.tensor(np.asarray(x).transpose(0, 3, 1, 2), requires_grad=True)
    net(xt)[torch.arange(2), torch.tensor(np.asarray(y))].sum().backward()
    expected = xt.grad.abs().amax(dim=1).numpy()
    np.testing.assert_allclose(maps, expected, atol=1e-3 * expected.max())


def test_fooling_succeeds_on_real_images_within_range(squeezenet11, inputs):
    params, _ = squeezenet11
    x, _ = inputs
    bounds = imagenet.pixel_bounds()
    result = fool(ModuleLogits(get_model("squeezenet1_1")), params, x, jnp.array([6, 6]), bounds, FoolConfig())
    assert bool(jnp.all(result.success))
    assert bool(jnp.all((result.images >= bounds[0] - 1e-5) & (result.images <= bounds[1] + 1e-5)))
    linf, _ = perturbation_norms(result.images, x, bounds)
    assert float(linf.max()) < 64


def test_gradcam_bad_layer_lists_squeezenet_layers(squeezenet11, inputs):
    params, _ = squeezenet11
    with pytest.raises(ValueError, match="valid convolutional layers: classifier, conv1, fire2.*fire9$"):
        gradcam(get_model("squeezenet1_1"), params, inputs[0][:1], jnp.array([0]), "fire10")


def test_vgg16_saliency_and_gradcam_shapes_with_random_weights():
    module = get_model("vgg16", num_classes=5)
    x = jax.random.uniform(jax.random.key(0), (2, 32, 32, 3))
    params = module.init(jax.random.key(1), x[:1])["params"]
    maps = saliency(ModuleLogits(module), params, x, jnp.array([0, 4]))
    cams = gradcam(module, params, x, jnp.array([0, 4]), "conv5_3")
    chex.assert_shape([maps, cams], [(2, 32, 32), (2, 2, 2)])
    assert bool(jnp.all(jnp.isfinite(maps))) and bool(jnp.all(cams >= 0))


def test_wrong_image_size_is_a_clear_error():
    module = get_model("mnist_cnn")
    params = module.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)))["params"]
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 28, 28, 1\), got \(1, 32, 32, 1\)"):
        saliency(ModuleLogits(module, (28, 28, 1)), params, jnp.zeros((1, 32, 32, 1)), jnp.array([0]))


def test_unknown_class_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown ImageNet class 'dragon'"):
        imagenet.class_index("dragon")


def test_cli_saliency_saves_documented_npz(data_dir, tmp_path):
    from experiments.cli import main

    x_path = tmp_path / "two.npz"
    with np.load(data_dir / "imagenet/imagenet_val_25.npz", allow_pickle=False) as d:
        np.savez(x_path, X=d["X"][:2], y=d["y"][:2])
    out = tmp_path / "sal.npz"
    assert main(["saliency", str(x_path), "--weights", str(data_dir / "weights/squeezenet1_1_onnx_zoo"),
                 "--out", str(tmp_path), "--save-npz", str(out)]) == 0
    with np.load(out) as saved:
        chex.assert_shape([saved["saliency"], saved["logits"], saved["targets"]], [(2, 224, 224), (2, 1000), (2,)])
    assert main(["fool", str(x_path), "--weights", str(data_dir / "weights/squeezenet1_1_onnx_zoo"),
                 "--target", "dragon"]) == 2
