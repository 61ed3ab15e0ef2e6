"""DCGAN models, GAN losses (eqs. 4.1-4.3) and the D-then-G training step."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.gan import GAN, discriminator_loss, from_uint8, generator_loss, to_unit
from jaxdl.gan.networks import Discriminator, Generator, label_response

LN3 = math.log(3.0)  # sigmoid(ln 3) = 0.75


def label_maps(y, num_classes, height, width):
    """The practical's cD input: integer labels (N,) -> one-hot planes (N, H, W, classes)."""
    onehot = jax.nn.one_hot(y, num_classes)
    return jnp.broadcast_to(onehot[:, None, None, :], (len(y), height, width, num_classes))


def conv_4x4_stride_2(x, kernel):
    """The discriminator's first convolution done by XLA: NHWC x, HWIO kernel, padding 1."""
    return jax.lax.conv_general_dilated(
        x, kernel, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def small_gan(conditional=False, d_sees_labels=True, **kwargs):
    classes = 10 if conditional else None
    return GAN(
        Generator(28, 8, num_classes=classes),
        Discriminator(28, 8, num_classes=classes if d_sees_labels else None),
        z_dim=16,
        **kwargs,
    )


def test_discriminator_loss_matches_hand_computed_value():
    # D(x) = (0.5, 0.75), D(G(z)) = (0.5, 0.25): -mean log D(x) - mean log(1 - D(G(z)))
    loss = discriminator_loss(jnp.array([0.0, LN3]), jnp.array([0.0, -LN3]))
    expected = -(math.log(0.5) + math.log(0.75)) / 2 - (math.log(0.5) + math.log(0.75)) / 2
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


def test_label_smoothing_sets_the_real_target():
    # target 0.75 at logit ln 3 (D = 0.75) is the minimum: its gradient vanishes
    grad = jax.grad(lambda r: discriminator_loss(r, jnp.array([-50.0]), real_target=0.75))
    assert abs(float(grad(jnp.array([LN3]))[0])) < 1e-6
    smoothed = discriminator_loss(jnp.array([0.0]), jnp.array([0.0]), real_target=0.9)
    assert float(smoothed) == pytest.approx(2 * math.log(2.0), rel=1e-6)  # any target at D=0.5


def test_generator_losses_match_hand_computed_values():
    fake = jnp.array([0.0, -LN3])  # D(G(z)) = (0.5, 0.25)
    np.testing.assert_allclose(
        generator_loss(fake), -(math.log(0.5) + math.log(0.25)) / 2, rtol=1e-6
    )
    np.testing.assert_allclose(
        generator_loss(fake, saturating=True), (math.log(0.5) + math.log(0.75)) / 2, rtol=1e-6
    )


def test_saturating_loss_gives_vanishing_gradient_when_d_rejects_fakes():
    confident = jnp.array([-12.0])  # D(G(z)) ~ 6e-6
    saturating = jax.grad(lambda logits: generator_loss(logits, saturating=True))(confident)
    non_saturating = jax.grad(generator_loss)(confident)
    assert abs(float(saturating[0])) < 1e-4
    np.testing.assert_allclose(non_saturating, [-1.0], atol=1e-4)


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("classes", [None, 10])
def test_generator_output_shape_and_range(size, classes):
    g = Generator(size, 8, num_classes=classes)
    z = jax.random.normal(jax.random.key(0), (5, 16))
    y = jnp.arange(5) if classes else None
    variables = jax.jit(g.init)(jax.random.key(1), z, y)
    images = jax.jit(g.apply)(variables, 4.0 * z, y)  # large z still lands in [-1, 1]
    chex.assert_shape(images, (5, size, size, 1))
    chex.assert_type(images, jnp.float32)
    assert float(jnp.abs(images).max()) <= 1.0


@pytest.mark.parametrize("size", [28, 32])
def test_discriminator_returns_one_logit_per_image(size):
    d = Discriminator(size, 8, num_classes=10)
    x = jnp.zeros((3, size, size, 1))
    variables = jax.jit(d.init)(jax.random.key(0), x, jnp.array([0, 1, 2]))
    chex.assert_shape(jax.jit(d.apply)(variables, x, jnp.array([0, 1, 2])), (3,))


@pytest.mark.parametrize("size, pack", [(28, 1), (32, 1), (28, 2)])
def test_label_response_is_the_convolution_of_one_hot_label_planes(size, pack):
    y = jnp.array([[2, 7], [0, 9], [7, 7]])[:, :pack]
    kernel = jax.random.normal(jax.random.key(0), (4, 4, pack, 10, 5))
    # packed slot p's planes are channels p * 10 ... p * 10 + 9 of the convolved input
    maps = jnp.concatenate([label_maps(y[:, p], 10, size, size) for p in range(pack)], -1)
    expected = conv_4x4_stride_2(maps, kernel.reshape(4, 4, pack * 10, 5))
    response = label_response(y, kernel, size, size)
    chex.assert_shape(response, (3, size // 2, size // 2, 5))
    np.testing.assert_allclose(response, expected, rtol=1e-5, atol=1e-5)
    # the border rows see fewer taps than the inside ones
    assert not np.allclose(response[:, 0], response[:, 1])


def test_labels_are_required_exactly_when_conditional():
    with pytest.raises(ValueError, match="num_classes=10"):
        Generator(28, 8, num_classes=10).init(jax.random.key(0), jnp.zeros((1, 16)))
    with pytest.raises(ValueError, match="num_classes=None"):
        Discriminator(28, 8).init(
            jax.random.key(0), jnp.zeros((1, 28, 28, 1)), jnp.zeros((1,), jnp.int32)
        )


def test_weights_are_initialised_from_n_0_002():
    params = jax.jit(Generator(28, 64).init)(jax.random.key(0), jnp.zeros((1, 100)))["params"]
    kernel = np.asarray(params["deconv1"]["kernel"])
    np.testing.assert_allclose(kernel.mean(), 0.0, atol=1e-3)
    np.testing.assert_allclose(kernel.std(), 0.02, rtol=0.02)
    np.testing.assert_allclose(np.asarray(params["bn0"]["scale"]).mean(), 1.0, atol=0.01)


def test_image_scaling_round_trips():
    x = jnp.array([[[0, 255]]], jnp.uint8)
    scaled = from_uint8(x)
    chex.assert_shape(scaled, (1, 1, 2, 1))
    np.testing.assert_allclose(scaled.ravel(), [-1.0, 1.0])
    np.testing.assert_allclose(to_unit(scaled).ravel(), [0.0, 1.0])


def _d_loss(gan, state, real, fake, y):
    variables = {"params": state.params["d"], "batch_stats": state.extra["d"]}

    def logits(x):
        return gan.discriminator.apply(
            variables, x, gan._d_labels(y), train=True, mutable=["batch_stats"]
        )[0]

    return float(discriminator_loss(logits(real), logits(fake)))


def test_one_step_decreases_discriminator_loss_on_a_fixed_batch():
    gan = small_gan(conditional=True, d_optimizer=optax.adam(1e-3, b1=0.5))
    state = gan.init(0, (28, 28, 1))
    real = jax.random.uniform(jax.random.key(1), (32, 28, 28, 1), minval=-1.0, maxval=1.0)
    y = jnp.arange(32) % 10
    fake = gan.generator.apply(
        {"params": state.params["g"], "batch_stats": state.extra["g"]},
        jax.random.normal(jax.random.key(2), (32, 16)),
        y,
        train=True,
        mutable=["batch_stats"],
    )[0]
    before = _d_loss(gan, state, real, fake, y)
    new_state, metrics = jax.jit(gan.train_step)(state, {"image": real, "label": y})
    assert _d_loss(gan, new_state, real, fake, y) < before - 1e-3
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake", "d_fake_g"}
    assert int(new_state.step) == 1


def test_d_steps_gives_that_many_discriminator_updates_per_generator_update():
    gan = small_gan(d_steps=3)
    state = gan.init(0, (28, 28, 1))
    real = jnp.zeros((3 * 4, 28, 28, 1))
    state, _ = jax.jit(gan.train_step)(state, {"image": real, "label": jnp.zeros(12, jnp.int32)})
    assert int(state.opt_state["d"][0].count) == 3
    assert int(state.opt_state["g"][0].count) == 1


def test_conditional_generator_with_unconditional_discriminator_trains():
    gan = small_gan(conditional=True, d_sees_labels=False)
    state = gan.init(0, (28, 28, 1))
    assert "conv1_labels" not in state.params["d"]  # D never sees the labels
    batch = {"image": jnp.zeros((8, 28, 28), jnp.uint8), "label": jnp.arange(8)}
    state, metrics = jax.jit(gan.train_step)(state, batch)
    chex.assert_tree_all_finite((state.params, metrics))
    samples = gan.sample(state, jnp.zeros((2, 16)), jnp.array([3, 4]))
    chex.assert_shape(samples, (2, 28, 28, 1))


def test_ema_generator_is_the_moving_average_of_the_trained_params_and_is_sampled():
    gan, plain = small_gan(ema=0.5), small_gan()
    state, plain_state = gan.init(0, (28, 28, 1)), plain.init(0, (28, 28, 1))
    assert "g_ema" not in plain_state.extra
    step = jax.jit(gan.train_step)
    batch = {"image": jnp.zeros((4, 28, 28), jnp.uint8), "label": jnp.zeros(4, jnp.int32)}
    average = state.params["g"]
    for _ in range(3):
        state, _ = step(state, batch)
        average = jax.tree.map(lambda a, p: 0.5 * a + 0.5 * p, average, state.params["g"])
    chex.assert_trees_all_close(state.extra["g_ema"], average, rtol=1e-6, atol=1e-7)
    z = jax.random.normal(jax.random.key(3), (2, 16))
    from_average = gan.generator.apply(
        {"params": average, "batch_stats": state.extra["g"]}, z, None, train=False
    )
    chex.assert_trees_all_close(gan.sample(state, z), from_average, rtol=1e-5, atol=1e-6)
    assert not np.allclose(gan.sample(state, z), plain.sample(state, z))  # not the live G


def test_packing_discriminator_judges_consecutive_images_stacked_as_channels():
    packed, wide = Discriminator(28, 8, num_classes=10, pack=2), Discriminator(28, 8)
    x = jax.random.uniform(jax.random.key(0), (6, 28, 28, 1))
    y = jnp.array([0, 1, 2, 3, 4, 5])
    variables = packed.init(jax.random.key(1), x, y)
    params = variables["params"]
    chex.assert_shape(params["conv1_labels"], (4, 4, 2, 10, 8))
    # by hand, the practical's cD: image i's channel, then its label maps, then image i + 1's,
    # convolved by one kernel made of the image and the label kernels in that order
    maps = np.asarray(label_maps(y, 10, 28, 28))
    with_maps = np.concatenate([np.asarray(x), maps], axis=-1)
    by_hand = np.concatenate([with_maps[0::2], with_maps[1::2]], axis=-1)
    image_kernel, label_kernel = params["conv1"]["kernel"], params["conv1_labels"]
    kernel = jnp.concatenate(
        [
            image_kernel[:, :, :1],
            label_kernel[:, :, 0],
            image_kernel[:, :, 1:],
            label_kernel[:, :, 1],
        ],
        axis=2,
    )
    wide_params = {**params, "conv1": {**params["conv1"], "kernel": kernel}}
    del wide_params["conv1_labels"]
    expected = wide.apply({**variables, "params": wide_params}, jnp.asarray(by_hand))
    logits = packed.apply(variables, x, y)
    chex.assert_shape(logits, (3,))
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="divisible"):
        packed.apply(variables, x[:5], y[:5])


def test_packing_gan_trains_and_samples_single_images():
    gan = GAN(Generator(28, 8), Discriminator(28, 8, pack=2), z_dim=16)
    state = gan.init(0, (28, 28, 1))
    batch = {"image": jnp.zeros((8, 28, 28), jnp.uint8), "label": jnp.zeros(8, jnp.int32)}
    state, metrics = jax.jit(gan.train_step)(state, batch)
    chex.assert_tree_all_finite((state.params, metrics))
    chex.assert_shape(gan.sample(state, jnp.zeros((3, 16))), (3, 28, 28, 1))


def test_conditional_networks_work_under_jvp_and_vmap():
    """G and cD with 100 classes (the label bias map included) are plain Flax: forward-mode
    derivatives match central differences, and vmap over examples matches the batch."""
    g, d = Generator(28, 8, num_classes=100), Discriminator(28, 8, num_classes=100)
    z, y = jax.random.normal(jax.random.key(0), (4, 100)), jnp.array([0, 17, 42, 99])

    def scaled(variables):  # N(0, 0.02) weights leave D(G(z)) almost flat in z: widen them
        return jax.tree_util.tree_map_with_path(
            lambda path, v: v * 2 if "params" in str(path[0]) else v, variables
        )

    g_vars = scaled(g.init(jax.random.key(1), z, y, train=False))
    x = g.apply(g_vars, z, y, train=False)
    d_vars = scaled(d.init(jax.random.key(2), x, y, train=False))

    def judge(z):  # D(G(z, y), y): every layer of both networks on the path
        return d.apply(d_vars, g.apply(g_vars, z, y, train=False), y, train=False)

    tangent = jax.random.normal(jax.random.key(3), z.shape)
    out, jvp = jax.jvp(judge, (z,), (tangent,))
    h = 1e-3
    central = (judge(z + h * tangent) - judge(z - h * tangent)) / (2 * h)
    np.testing.assert_allclose(jvp, central, rtol=1e-2, atol=1e-4)  # derivatives ~1e-2:
    assert np.abs(central).max() > 2e-3
    per_example = jax.vmap(
        lambda zi, yi: d.apply(
            d_vars, g.apply(g_vars, zi[None], yi[None], train=False), yi[None], train=False
        )[0]
    )(z, y)
    np.testing.assert_allclose(per_example, out, rtol=1e-5, atol=1e-5)
