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
    "yt": RNG.integers(0, 10, 8),
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
    optimizer = dann.make_optimizer("sgd", 100, mu0=0.01)
    step = loop.jit_step(
        dann.make_step(MODEL, optimizer, method, setting=dann.Setting(steps=100)), donate=False
    )
    state = dann.init_state(MODEL, optimizer, 0, method)
    new, metrics = step(state, BATCH)
    assert int(new.step) == 1 and all(np.isfinite(float(v)) for v in metrics.values())
    moved = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), state.params, new.params)
    # only DANN-style methods train the domain classifier
    assert moved["domain_fc1"]["kernel"] == (method in ("dann", "no_reversal", "self_train"))
    assert moved["conv1"]["kernel"] and moved["label_out"]["kernel"]


def test_standardize_gives_zero_mean_per_image_and_channel():
    from jaxdl.dann.network import standardize

    x = standardize(BATCH["xs"])
    chex.assert_type(x, jnp.float32)
    np.testing.assert_allclose(x.mean(axis=(1, 2)), 0.0, atol=1e-4)
    optimizer = dann.make_optimizer("sgd", 10, mu0=0.01)
    step = dann.make_step(
        MODEL, optimizer, "dann", setting=dann.Setting(steps=10, input_norm="standardize")
    )
    _, metrics = step(dann.init_state(MODEL, optimizer, 0), BATCH)
    assert np.isfinite(float(metrics["loss"]))


def test_step_rejects_float_images():
    optimizer = dann.make_optimizer("adam", 10, mu0=1e-3)
    step = dann.make_step(MODEL, optimizer, "dann", setting=dann.Setting(steps=10))
    with pytest.raises(AssertionError):
        step(dann.init_state(MODEL, optimizer, 0), {**BATCH, "xs": BATCH["xs"].astype(np.float32)})


def test_pseudo_threshold_of_one_uses_no_target_label():
    optimizer = dann.make_optimizer("sgd", 100, mu0=0.01)
    step = dann.make_step(
        MODEL, optimizer, "pseudo", setting=dann.Setting(steps=100), hyper=dann.Hyper(threshold=1.0)
    )
    _, metrics = step(dann.init_state(MODEL, optimizer, 0), BATCH)
    assert float(metrics["confident_frac"]) == 0.0


def test_dann_training_learns_the_source_labels():
    """Sanity: 60 steps on a separable toy source (class = brightness of a quadrant)."""
    y = RNG.integers(0, 4, 256)
    x = np.zeros((256, 32, 32, 3), np.uint8)
    for i, c in enumerate(y):
        x[i, 16 * (c // 2) : 16 * (c // 2) + 16, 16 * (c % 2) : 16 * (c % 2) + 16] = 255
    optimizer = dann.make_optimizer("adam", 60, mu0=3e-3)
    step = loop.jit_step(dann.make_step(MODEL, optimizer, "dann", setting=dann.Setting(steps=60)))

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


def test_target_only_learns_from_the_target_labels_not_the_source_labels():
    optimizer = dann.make_optimizer("sgd", 10, mu0=0.01)
    step = jax.jit(dann.make_step(MODEL, optimizer, "target_only", setting=dann.Setting(steps=10)))
    state = dann.init_state(MODEL, optimizer, 0)
    base = step(state, BATCH)[0].params
    other_source = step(state, {**BATCH, "ys": (BATCH["ys"] + 1) % 10})[0].params
    other_target = step(state, {**BATCH, "yt": (BATCH["yt"] + 1) % 10})[0].params
    chex.assert_trees_all_close(base, other_source)
    assert not np.allclose(base["label_out"]["kernel"], other_target["label_out"]["kernel"])


def test_self_training_teacher_is_the_moving_average_of_the_params():
    optimizer = dann.make_optimizer("sgd", 10, mu0=0.01)
    step = jax.jit(
        dann.make_step(
            MODEL,
            optimizer,
            "self_train",
            setting=dann.Setting(steps=10),
            hyper=dann.Hyper(ema=0.9, threshold=0.0, entropy=0.0),
        )
    )
    state = dann.init_state(MODEL, optimizer, 0, "self_train")
    chex.assert_trees_all_equal(state.extra["teacher"], state.params)
    first, _ = step(state, BATCH)  # step 1: decay min(0.9, 1 - 1/2) = 0.5
    expected = jax.tree.map(lambda t, p: 0.5 * t + 0.5 * p, state.params, first.params)
    chex.assert_trees_all_close(first.extra["teacher"], expected, rtol=1e-6, atol=1e-8)
    state = first.replace(step=jnp.asarray(20, jnp.int32))  # late: decay 0.9
    new, metrics = step(state, BATCH)
    expected = jax.tree.map(lambda t, p: 0.9 * t + 0.1 * p, state.extra["teacher"], new.params)
    chex.assert_trees_all_close(new.extra["teacher"], expected, rtol=1e-6, atol=1e-8)
    assert float(metrics["confident_frac"]) == 1.0  # threshold 0: every target image is used
    with pytest.raises(ValueError, match="init_state"):
        step(dann.init_state(MODEL, optimizer, 0), BATCH)
    share = np.asarray(new.extra["class_share"])
    assert np.isclose(share.sum(), 1.0) and not np.allclose(share, 0.1)
    chex.assert_trees_all_equal(dann.eval_params(new), new.extra["teacher"])


def test_pseudo_label_loss_weights_each_class_and_skips_unconfident_images():
    from jaxdl.dann.train import pseudo_label_loss

    logits = jnp.asarray(RNG.normal(size=(4, 10)), jnp.float32)
    probs = jax.nn.one_hot(jnp.array([2, 2, 5, 7]), 10) * jnp.array([[0.95], [0.95], [0.5], [1]])
    weight = jnp.arange(1.0, 11.0)
    loss, confident, labels = pseudo_label_loss(logits, probs, 0.9, weight)
    ce = -jax.nn.log_softmax(logits)[jnp.arange(4), jnp.array([2, 2, 5, 7])]
    expected = (3 * ce[0] + 3 * ce[1] + 8 * ce[3]) / 3  # image 2 is below the threshold
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    np.testing.assert_array_equal(confident, [True, True, False, True])


def test_random_shift_moves_each_image_within_its_padding():
    from jaxdl.dann.network import random_shift

    x = jnp.zeros((16, 8, 8, 1), jnp.uint8).at[:, 4, 4, 0].set(255)
    shifted = random_shift(jax.random.key(0), x, 2)
    chex.assert_shape(shifted, x.shape)
    chex.assert_type(shifted, jnp.uint8)
    where = [np.argwhere(np.asarray(s[..., 0]) == 255)[0] for s in shifted]
    assert all(np.abs(w - 4).max() <= 2 for w in where) and len({tuple(w) for w in where}) > 1
    chex.assert_trees_all_equal(random_shift(jax.random.key(0), x, 0), x)


def test_the_mean_input_norm_removes_the_pooled_pixel_mean():
    from jaxdl.dann.network import input_norm, pixel_mean_of

    a, b = BATCH["xs"], BATCH["xt"][:3]
    mean = pixel_mean_of(a, b)
    pooled = np.concatenate([a, b]).reshape(-1, 3).mean(0)
    np.testing.assert_allclose(mean, pooled, rtol=1e-12)
    centred = input_norm("mean", mean)(jnp.concatenate([a, b]))
    np.testing.assert_allclose(centred.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(input_norm("scale")(a), a / 127.5 - 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="pixel_mean"):
        input_norm("mean")
    with pytest.raises(ValueError, match="unknown input norm"):
        input_norm("zca")
