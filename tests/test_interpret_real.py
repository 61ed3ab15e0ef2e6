"""Interpretation methods on the real ImageNet SqueezeNet 1.1 (skip without data), VGG16 shapes,
the bad-input errors (the CLI commands: test_interpret_cli.py)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import imagenet
from jaxdl.interpret import FoolConfig, ModuleLogits, fool, gradcam, perturbation_norms, saliency
from jaxdl.models import get_model
from tests.conftest import assert_gradients_match


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
    assert_gradients_match(maps, xt.grad.abs().amax(dim=1).numpy())


def test_fooling_succeeds_on_real_images_within_range(squeezenet11, inputs):
    params, _ = squeezenet11
    x, _ = inputs
    bounds = imagenet.pixel_bounds()
    result = fool(
        ModuleLogits(get_model("squeezenet1_1")), params, x, jnp.array([6, 6]), bounds, FoolConfig()
    )
    assert bool(jnp.all(result.success))
    assert bool(jnp.all((result.images >= bounds[0] - 1e-5) & (result.images <= bounds[1] + 1e-5)))
    linf, _ = perturbation_norms(result.images, x, bounds)
    assert float(linf.max()) < 64


def test_gradcam_bad_layer_lists_squeezenet_layers(squeezenet11, inputs):
    params, _ = squeezenet11
    with pytest.raises(
        ValueError, match="valid convolutional layers: conv1, fire2, fire3, .*, fire9, classifier$"
    ):
        gradcam(get_model("squeezenet1_1"), params, inputs[0][:1], jnp.array([0]), "fire10")


def test_gradcam_bad_layer_lists_vgg16_layers_in_network_order():
    module = get_model("vgg16")
    params = jax.eval_shape(module.init, jax.random.key(0), jnp.zeros((1, 224, 224, 3)))[
        "params"
    ]  # shapes only
    with pytest.raises(
        ValueError, match="valid convolutional layers: conv1_1, conv1_2, conv2_1, .*, conv5_3$"
    ):
        gradcam(module, params, jnp.zeros((1, 224, 224, 3)), jnp.array([0]), "conv6_1")


@pytest.mark.slow
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
    params = jax.eval_shape(module.init, jax.random.key(0), jnp.zeros((1, 28, 28, 1)))[
        "params"
    ]  # shapes only
    with pytest.raises(
        ValueError, match=r"expected images of shape \(N, 28, 28, 1\), got \(1, 32, 32, 1\)"
    ):
        saliency(
            ModuleLogits(module, (28, 28, 1)), params, jnp.zeros((1, 32, 32, 1)), jnp.array([0])
        )


def test_unknown_class_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown ImageNet class 'dragon'"):
        imagenet.class_index("dragon")
