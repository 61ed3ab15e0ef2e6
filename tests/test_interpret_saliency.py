"""Saliency, SmoothGrad and Grad-CAM against answers known by hand (toy models)."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.interpret import SmoothGradConfig, gradcam, gradcam_layers, saliency, smoothgrad
from jaxdl.interpret.saliency import noise_sample, smoothgrad_gradients
from tests.conftest import random_params


def linear_logits(params, x):
    """logits = flatten(x) @ W: the input gradient of class c is W[:, c] reshaped."""
    return x.reshape(x.shape[0], -1) @ params["w"]


def sine_logits(params, x):
    """logits = flatten(sin x) @ W: under N(0, s^2) noise E[grad_c] = W[:, c] cos(x) exp(-s^2 /
    2)."""
    return jnp.sin(x).reshape(x.shape[0], -1) @ params["w"]


SHAPE = (4, 5, 3)


def toy_params(seed=0, classes=3):
    return {"w": jax.random.normal(jax.random.key(seed), (int(np.prod(SHAPE)), classes))}


def test_saliency_of_linear_model_is_max_abs_weight_over_channels():
    params = toy_params()
    images = jax.random.uniform(jax.random.key(1), (2,) + SHAPE)
    targets = jnp.array([2, 0])
    maps = saliency(linear_logits, params, images, targets)
    chex.assert_shape(maps, (2, 4, 5))
    chex.assert_type(maps, jnp.float32)
    w = np.asarray(params["w"]).reshape(SHAPE + (3,))
    expected = np.stack([np.abs(w[..., c]).max(axis=-1) for c in (2, 0)])
    np.testing.assert_allclose(maps, expected, rtol=1e-6)


@pytest.mark.parametrize("batch", [1, 3, 5, 24])  # 5: 24 copies in 5 calls, the last one padded
def test_smoothgrad_is_the_same_with_and_without_sub_batching(batch):
    params, images, targets = (
        toy_params(),
        jax.random.uniform(jax.random.key(1), (2,) + SHAPE),
        jnp.array([1, 2]),
    )
    whole = smoothgrad(
        sine_logits,
        params,
        images,
        targets,
        SmoothGradConfig(samples=12, batch_size=24),
        jax.random.key(3),
    )
    chunked = smoothgrad(
        sine_logits,
        params,
        images,
        targets,
        SmoothGradConfig(samples=12, batch_size=batch),
        jax.random.key(3),
    )
    chex.assert_shape(whole, (2, 4, 5))
    np.testing.assert_allclose(whole, chunked, rtol=1e-5, atol=1e-6)


def test_smoothgrad_is_the_mean_of_the_per_sample_gradients():
    params, images, targets = (
        toy_params(),
        jax.random.uniform(jax.random.key(1), (2,) + SHAPE),
        jnp.array([1, 2]),
    )
    config, rng = SmoothGradConfig(samples=8, batch_size=3, noise=0.2), jax.random.key(5)
    mean = smoothgrad_gradients(sine_logits, params, images, targets, config, rng)
    w = np.asarray(params["w"]).reshape(SHAPE + (3,))
    for i, key in enumerate(jax.random.split(rng, 2)):
        sigma = 0.2 * (images[i].max() - images[i].min())
        noisy = [noise_sample(k, images[i], sigma) for k in jax.random.split(key, 8)]
        expected = np.mean([w[..., int(targets[i])] * np.cos(np.asarray(x)) for x in noisy], axis=0)
        np.testing.assert_allclose(mean[i], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("squared", [False, True])
def test_smoothgrad_converges_to_the_expected_gradient(squared):
    params, image = toy_params(), jax.random.uniform(jax.random.key(1), (1,) + SHAPE)
    config = SmoothGradConfig(samples=4000, batch_size=500, noise=0.5, squared=squared)
    mean = np.asarray(
        smoothgrad_gradients(sine_logits, params, image, jnp.array([0]), config, jax.random.key(2))
    )[0]
    sigma2 = float(0.5 * (image.max() - image.min())) ** 2
    w, x = np.asarray(params["w"]).reshape(SHAPE + (3,))[..., 0], np.asarray(image[0])
    if squared:  # E[cos^2(x + n)] = (1 + cos(2x) exp(-2 s^2)) / 2
        expected = w**2 * (1 + np.cos(2 * x) * np.exp(-2 * sigma2)) / 2
    else:
        expected = w * np.cos(x) * np.exp(-sigma2 / 2)
    np.testing.assert_allclose(mean, expected, atol=0.05 * np.abs(w).max() ** (2 if squared else 1))


@pytest.mark.parametrize("samples, batch_size", [(0, 2), (10, 0)])
def test_smoothgrad_config_rejects_empty_samples_or_batch(samples, batch_size):
    with pytest.raises(ValueError, match="expected >= 1"):
        SmoothGradConfig(samples=samples, batch_size=batch_size)


class GapNet(nn.Module):
    """1x1 conv 'features' -> ReLU -> global average -> dense 'head': Grad-CAM = CAM / (H W)."""

    @nn.compact
    def __call__(self, x):
        acts = {}
        a = acts["features"] = nn.relu(nn.Conv(2, (1, 1), name="features")(x))
        logits = acts["logits"] = nn.Dense(3, name="head")(a.mean(axis=(1, 2)))
        return logits, acts


def gapnet_params(head):
    return {
        "features": {"kernel": jnp.eye(2)[None, None], "bias": jnp.zeros(2)},
        "head": {"kernel": head, "bias": jnp.zeros(3)},
    }


def test_gradcam_on_global_average_model_is_the_class_activation_map():
    head = jnp.array([[1.0, -2.0, 0.5], [-1.0, 1.0, 0.5]])
    images = jax.random.uniform(jax.random.key(0), (2, 3, 4, 2), minval=0.1, maxval=1.0)
    cams = gradcam(GapNet(), gapnet_params(head), images, jnp.array([0, 1]), "features")
    chex.assert_shape(cams, (2, 3, 4))
    # alpha_k = head[k, c] / (H W), A_k = x_k (identity conv, positive input)
    expected = np.stack(
        [
            np.maximum(np.asarray(images[i]) @ np.asarray(head[:, c]), 0) / 12
            for i, c in enumerate((0, 1))
        ]
    )
    np.testing.assert_allclose(cams, expected, rtol=1e-5, atol=1e-7)


def test_gradcam_unknown_layer_lists_the_valid_ones():
    params = gapnet_params(jnp.ones((2, 3)))
    assert gradcam_layers(GapNet(), params, (3, 4, 2)) == ("features",)
    with pytest.raises(
        ValueError, match="unknown layer 'conv9'.*valid convolutional layers: features"
    ):
        gradcam(GapNet(), params, jnp.ones((1, 3, 4, 2)), jnp.array([0]), "conv9")


def test_module_logits_class_scores_pick_the_targets_logits():
    """Through a fast class-score function (jaxdl.cpu's SqueezeNet one) or by indexing the
    logits: the same numbers as ``logits[i, classes[i]]``."""
    from jaxdl import cpu
    from jaxdl.interpret import ModuleLogits
    from jaxdl.models import get_model

    x = jax.random.normal(jax.random.key(0), (2, 64, 64, 3))
    classes = jnp.array([5, 0])
    squeezenet = get_model("squeezenet1_1")
    params = random_params(squeezenet, x)
    expected = jax.jit(ModuleLogits(squeezenet))(params, x)[jnp.arange(2), classes]
    for logits_fn in (
        ModuleLogits(squeezenet),
        ModuleLogits(squeezenet, None, cpu.class_scores_for(squeezenet)),
    ):
        got = jax.jit(logits_fn.class_scores)(params, x, classes)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


class PlainLogits(nn.Module):
    """A user's classifier returning plain logits (no intermediates)."""

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(4, (3, 3), name="features")(x))
        return nn.Dense(3, name="head")(x.mean(axis=(1, 2)))


def test_methods_work_on_a_module_returning_plain_logits():
    """``ModuleLogits`` takes all N rows of plain logits (not the first image's), and saliency
    and Grad-CAM give one map per image, equal to those of the same net returning a tuple."""
    from jaxdl.interpret import ModuleLogits, predict

    class TupleLogits(PlainLogits):
        def __call__(self, x):
            return super().__call__(x), {}

    x = jax.random.normal(jax.random.key(0), (4, 8, 8, 2))
    params = PlainLogits().init(jax.random.key(1), x)["params"]
    targets = jnp.array([0, 1, 2, 0])
    plain, tupled = ModuleLogits(PlainLogits()), ModuleLogits(TupleLogits())
    chex.assert_shape(plain(params, x), (4, 3))
    chex.assert_shape(predict(plain, params, x), (4,))
    np.testing.assert_allclose(
        saliency(plain, params, x, targets), saliency(tupled, params, x, targets)
    )
    cams = gradcam(PlainLogits(), params, x, targets, "features")
    chex.assert_shape(cams, (4, 8, 8))
    np.testing.assert_allclose(
        cams, gradcam(TupleLogits(), params, x, targets, "features"), rtol=1e-6
    )


def test_a_module_with_another_output_is_a_clear_error():
    from jaxdl.interpret import ModuleLogits

    class Maps(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Conv(3, (1, 1))(x)

    x = jnp.ones((2, 4, 4, 1))
    params = Maps().init(jax.random.key(0), x)["params"]
    # saliency calls the module on one image at a time
    expected = r"Maps: expected the module to return logits \(N, K\) .* got float32\[1, 4, 4, 3\]"
    with pytest.raises(ValueError, match=expected):
        saliency(ModuleLogits(Maps()), params, x, jnp.array([0, 1]))
