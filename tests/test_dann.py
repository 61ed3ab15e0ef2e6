"""The DANN model and steps: shapes, the reversal inside the model, what each method trains."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import dann
from jaxdl.dann.network import DANN, preprocess
from jaxdl.models import get_model
from jaxdl.train import loop
from jaxdl.train.batches import array_stream

RNG = np.random.default_rng(0)
BATCH = {
    "xs": RNG.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8),
    "ys": RNG.integers(0, 10, 8),
    "xt": RNG.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8),
}
MODEL = DANN()
PARAMS = MODEL.init(jax.random.key(0), jnp.zeros((1, 32, 32, 3)))["params"]


def test_model_shapes_and_registry():
    logits, acts = get_model("dann_mnist").apply({"params": PARAMS}, preprocess(BATCH["xs"]))
    chex.assert_shape(
        [logits, acts["features"], acts["domain_logits"], acts["conv2"]],
        [(8, 10), (8, 1200), (8,), (8, 10, 10, 48)],
    )
    feats, _ = MODEL.apply({"params": PARAMS}, preprocess(BATCH["xs"]), stop_at="features")
    chex.assert_trees_all_close(feats, acts["features"])


def test_domain_gradient_reaches_features_reversed_by_lam():
    def conv_grad(lam):
        def domain_loss(p):
            _, acts = MODEL.apply({"params": p}, preprocess(BATCH["xs"]), lam=lam)
            return jnp.sum(acts["domain_logits"])

        return jax.grad(domain_loss)(PARAMS)

    plain, reversed_, stopped = conv_grad(-1.0), conv_grad(0.5), conv_grad(0.0)
    np.testing.assert_allclose(
        reversed_["conv1"]["kernel"], -0.5 * plain["conv1"]["kernel"], rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(
        reversed_["domain_fc1"]["kernel"], plain["domain_fc1"]["kernel"], rtol=1e-6
    )
    assert float(jnp.abs(stopped["conv1"]["kernel"]).max()) == 0.0


@pytest.mark.parametrize("method", dann.METHODS)
def test_each_method_steps_with_finite_metrics(method):
    optimizer = dann.make_optimizer("sgd", 100)
    step = loop.jit_step(dann.make_step(MODEL, optimizer, method, 100), donate=False)
    state = dann.init_state(MODEL, optimizer, 0)
    new, metrics = step(state, BATCH)
    assert int(new.step) == 1 and all(np.isfinite(float(v)) for v in metrics.values())
    moved = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), state.params, new.params)
    # only DANN-style methods train the domain classifier
    assert moved["domain_fc1"]["kernel"] == (method in ("dann", "no_reversal"))
    assert moved["conv1"]["kernel"] and moved["label_out"]["kernel"]


def test_standardize_gives_zero_mean_per_image_and_channel():
    from jaxdl.dann.network import standardize

    x = standardize(BATCH["xs"])
    chex.assert_type(x, jnp.float32)
    np.testing.assert_allclose(x.mean(axis=(1, 2)), 0.0, atol=1e-4)
    optimizer = dann.make_optimizer("sgd", 10)
    step = dann.make_step(MODEL, optimizer, "dann", 10, input_norm="standardize")
    _, metrics = step(dann.init_state(MODEL, optimizer, 0), BATCH)
    assert np.isfinite(float(metrics["loss"]))


def test_step_rejects_float_images():
    optimizer = dann.make_optimizer("adam", 10, 1e-3)
    step = dann.make_step(MODEL, optimizer, "dann", 10)
    with pytest.raises(AssertionError):
        step(dann.init_state(MODEL, optimizer, 0), {**BATCH, "xs": BATCH["xs"].astype(np.float32)})


def test_pseudo_threshold_above_one_uses_no_target_label():
    optimizer = dann.make_optimizer("sgd", 100)
    step = dann.make_step(MODEL, optimizer, "pseudo", 100, threshold=1.01)
    _, metrics = step(dann.init_state(MODEL, optimizer, 0), BATCH)
    assert float(metrics["confident_frac"]) == 0.0


def test_dann_training_learns_the_source_labels():
    """Sanity: 60 steps on a separable toy source (class = brightness of a quadrant)."""
    y = RNG.integers(0, 4, 256)
    x = np.zeros((256, 32, 32, 3), np.uint8)
    for i, c in enumerate(y):
        x[i, 16 * (c // 2) : 16 * (c // 2) + 16, 16 * (c % 2) : 16 * (c % 2) + 16] = 255
    optimizer = dann.make_optimizer("adam", 60, 3e-3)
    step = loop.jit_step(dann.make_step(MODEL, optimizer, "dann", 60))

    def batches(start):
        return ({**s, "xt": 255 - s["xs"]} for s in array_stream({"xs": x, "ys": y}, 32, 0, start))

    state, _ = loop.fit(
        step, dann.init_state(MODEL, optimizer, 0), batches, num_steps=60, log_every=60
    )
    result = dann.evaluate(dann.make_apply(MODEL, 128), state.params, (x, y), (255 - x, y))
    assert result["source_acc"] > 0.95


def test_invert_channels_maps_each_channel_to_itself_or_its_inverse():
    from jaxdl.dann.network import invert_channels

    x = jnp.asarray(BATCH["xs"])
    chex.assert_trees_all_equal(invert_channels(jax.random.key(0), x, 1.0), 255 - x)
    chex.assert_trees_all_equal(invert_channels(jax.random.key(0), x, 0.0), x)
    out = invert_channels(jax.random.key(1), x)
    chex.assert_type(out, jnp.uint8)
    kept = jnp.all(out == x, axis=(1, 2))
    assert bool(jnp.all(kept | jnp.all(out == 255 - x, axis=(1, 2))))
    assert 0 < int(kept.sum()) < kept.size  # (8 images x 3 channels, key 1: both cases occur)
