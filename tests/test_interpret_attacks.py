"""Fooling images, FGSM, PGD, the one-pixel attack and class visualisation on toy models."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.interpret import (
    ClassVizConfig,
    FoolConfig,
    OnePixelConfig,
    PGDConfig,
    accuracy_against_eps,
    attack_correctly_classified,
    class_visualization,
    evaluations_used,
    fgsm,
    fool,
    one_pixel_attack,
    perturbation_norms,
    pgd,
    preset,
    quantize,
    success_within,
)
from jaxdl.interpret.class_viz import gaussian_blur
from jaxdl.interpret.one_pixel import DEState, apply_pixels, differential_evolution, rand1_donors

UNIT = (jnp.zeros(3), jnp.ones(3))  # pixels 0..255 are 0..1 on every channel
SHAPE = (4, 4, 3)


def linear_logits(params, x):
    return x.reshape(x.shape[0], -1) @ params["w"]


def binary_params(seed=0):
    """W = [w, -w]: every attack direction on class 1 is +sign(w)."""
    w = jax.random.normal(jax.random.key(seed), (int(np.prod(SHAPE)),))
    return {"w": jnp.stack([w, -w], axis=1)}, np.asarray(w).reshape(SHAPE)


@pytest.mark.parametrize("targeted,label", [(False, 1), (True, 0)])
def test_fgsm_on_linear_model_moves_by_eps_sign_w(targeted, label):
    params, w = binary_params()
    images = jnp.full((2,) + SHAPE, 0.5)
    adversarial = fgsm(
        linear_logits, params, images, jnp.array([label, label]), UNIT, 10.0, targeted
    )
    np.testing.assert_allclose(
        adversarial - images, np.broadcast_to(10 / 255 * np.sign(w), (2,) + SHAPE), atol=1e-6
    )


def test_pgd_stays_in_the_eps_ball_and_the_pixel_range():
    params = {"w": jax.random.normal(jax.random.key(0), (int(np.prod(SHAPE)), 5))}
    images = jax.random.uniform(jax.random.key(1), (6,) + SHAPE)
    labels = jnp.argmax(linear_logits(params, images), axis=-1)
    config = PGDConfig(eps=8.0, step_size=3.0, steps=7)
    adversarial = pgd(linear_logits, params, images, labels, UNIT, config, jax.random.key(2))
    chex.assert_shape(adversarial, images.shape)
    linf, _ = perturbation_norms(adversarial, images, UNIT)
    assert float(linf.max()) <= 8.0 + 1e-4
    assert float(adversarial.min()) >= 0.0 and float(adversarial.max()) <= 1.0
    before = jax.nn.softmax(linear_logits(params, images))[jnp.arange(6), labels]
    after = jax.nn.softmax(linear_logits(params, adversarial))[jnp.arange(6), labels]
    assert bool(jnp.all(after < before))


def test_fool_reaches_the_target_and_stops_per_image():
    params, _ = binary_params()
    images = quantize(
        jax.random.uniform(jax.random.key(3), (4,) + SHAPE, minval=0.3, maxval=0.7), UNIT
    )
    predicted = jnp.argmax(linear_logits(params, images), axis=-1)
    targets = jnp.array(
        [1 - int(predicted[0]), int(predicted[1]), 1 - int(predicted[2]), int(predicted[3])]
    )
    result = fool(
        linear_logits, params, images, targets, UNIT, FoolConfig(learning_rate=0.05, steps=200)
    )
    assert bool(jnp.all(result.success))
    assert int(result.iterations[0]) > 0 and int(result.iterations[2]) > 0
    np.testing.assert_array_equal(result.iterations[1::2], 0)  # already the target: untouched
    np.testing.assert_array_equal(result.images[1::2], images[1::2])
    np.testing.assert_array_equal(jnp.argmax(linear_logits(params, result.images), -1), targets)
    assert float(result.images.min()) >= 0.0 and float(result.images.max()) <= 1.0
    np.testing.assert_allclose(
        result.images * 255, np.round(result.images * 255), atol=1e-4
    )  # 8-bit pixels


def test_quantize_rounds_to_the_nearest_8bit_pixel_in_normalised_units():
    bounds = (jnp.array([-1.0, 0.0, -2.0]), jnp.array([1.0, 1.0, 2.0]))
    x = jnp.array([[0.3, 0.5, 1.0]])
    pixels = np.round((np.asarray(x) - np.asarray(bounds[0])) / np.array([2.0, 1.0, 4.0]) * 255)
    np.testing.assert_allclose(
        quantize(x, bounds),
        np.asarray(bounds[0]) + pixels / 255 * np.array([2.0, 1.0, 4.0]),
        rtol=1e-6,
    )


def test_fool_success_holds_for_the_8bit_image_even_on_a_razor_thin_boundary():
    """Class 1 wins when the mean pixel exceeds 127.1/255. From pixels 127, steps of 0.037/255
    cross that after 3 steps, where rounding undoes it; the quantized stop test goes on to 128."""

    def mean_logits(params, x):
        m = x.reshape(x.shape[0], -1).mean(axis=1) - 127.1 / 255
        return jnp.stack([-m, m], axis=1)

    images = jnp.full((1,) + SHAPE, 127 / 255)
    config = FoolConfig(learning_rate=1e-3, steps=50)
    plain = fool(
        mean_logits, {}, images, jnp.array([1]), UNIT, dataclasses.replace(config, quantized=False)
    )
    assert int(plain.iterations[0]) == 3
    assert (
        int(jnp.argmax(mean_logits({}, quantize(plain.images, UNIT)), -1)[0]) == 0
    )  # lost after rounding
    result = fool(mean_logits, {}, images, jnp.array([1]), UNIT, config)
    assert bool(result.success[0]) and int(result.iterations[0]) > 3
    np.testing.assert_allclose(result.images * 255, 128, atol=1e-3)
    assert int(jnp.argmax(mean_logits({}, result.images), -1)[0]) == 1


def test_perturbation_norms_are_in_pixel_units():
    bounds = (
        jnp.array([-2.0, -2.0, -2.0]),
        jnp.array([2.0, 2.0, 2.0]),
    )  # 255 pixel levels = 4 units
    delta = jnp.zeros((1,) + SHAPE).at[0, 0, 0, 0].set(4.0 / 255 * 3)
    linf, l2 = perturbation_norms(delta, jnp.zeros_like(delta), bounds)
    np.testing.assert_allclose([float(linf[0]), float(l2[0])], [3.0, 3.0], rtol=1e-5)


def sphere(center):
    def fitness(pop):
        value = jnp.sum((pop - center) ** 2, axis=-1)
        return value, jnp.zeros(pop.shape[0], bool)

    return fitness


def test_rand1_donors_are_distinct_and_differ_from_the_row():
    donors = np.asarray(rand1_donors(jax.random.key(0), 7))
    chex.assert_shape(donors, (7, 3))
    for i, row in enumerate(donors):
        assert len(set(row)) == 3 and i not in row and row.max() < 7


def test_differential_evolution_minimises_a_toy_fitness():
    center = jnp.array([0.3, -0.7, 0.5])
    population = jax.random.uniform(jax.random.key(0), (30, 3), minval=-1, maxval=1)
    state = differential_evolution(
        sphere(center), population, jax.random.key(1), 150, 0.5, -jnp.ones(3), jnp.ones(3)
    )
    assert isinstance(state, DEState) and int(state.generation) == 150
    np.testing.assert_allclose(state.population[jnp.argmin(state.fitness)], center, atol=1e-2)


def test_differential_evolution_stops_when_a_candidate_succeeds():
    def fitness(pop):
        value = jnp.sum(pop**2, axis=-1)
        return value, value < 1e-3

    population = jax.random.uniform(jax.random.key(0), (20, 2), minval=-1, maxval=1)
    state = differential_evolution(
        fitness, population, jax.random.key(1), 500, 0.5, -jnp.ones(2), jnp.ones(2)
    )
    assert bool(jnp.any(state.success)) and 0 < int(state.generation) < 500


def test_apply_pixels_writes_the_colour_at_x_y():
    image = jnp.zeros((4, 6, 3))
    out = apply_pixels(image, jnp.array([[5.0, 2.0, 255.0, 0.0, 51.0]]), UNIT)
    np.testing.assert_allclose(out[2, 5], [1.0, 0.0, 0.2], atol=1e-6)
    assert float(jnp.abs(out).sum()) == pytest.approx(1.2)


def pixel_switch_logits(params, x):
    """Class 1 wins only when channel 0 of pixel (row 2, col 3) exceeds 0.5."""
    return jnp.stack([jnp.zeros(x.shape[0]), 10.0 * (x[:, 2, 3, 0] - 0.5)], axis=1)


def test_one_pixel_attack_finds_the_single_decisive_pixel():
    images = jnp.zeros((2, 6, 6, 3))
    config = OnePixelConfig(population=40, generations=60, images_per_batch=2)
    result = one_pixel_attack(
        pixel_switch_logits, {}, images, jnp.array([0, 0]), UNIT, config, jax.random.key(0)
    )
    chex.assert_shape(result.pixels, (2, 1, 5))
    assert bool(jnp.all(result.success))
    np.testing.assert_array_equal(jnp.round(result.pixels[:, 0, :2]), [[3, 2], [3, 2]])
    assert bool(jnp.all(jnp.argmax(pixel_switch_logits({}, result.images), -1) == 1))


def test_class_visualization_on_linear_model_follows_the_regularised_gradient():
    params, w = binary_params()
    start = jnp.full((1,) + SHAPE, 0.5)
    config = ClassVizConfig(
        learning_rate=0.01, l2_reg=0.5, blur_every=0, jitter=0, steps=4, frame_every=2
    )
    final, frames = class_visualization(
        linear_logits, params, start, jnp.array([0]), UNIT, config, jax.random.key(0)
    )
    chex.assert_shape(frames, (1, 3) + SHAPE)
    x = np.full(SHAPE, 0.5)
    for _ in range(4):  # x += lr * (w - 2 reg x), clipped
        x = np.clip(x + 0.01 * (w - 2 * 0.5 * x), 0, 1)
    np.testing.assert_allclose(final[0], x, atol=1e-6)
    np.testing.assert_array_equal(frames[0, 0], start[0])
    np.testing.assert_array_equal(frames[0, -1], final[0])


def test_gaussian_blur_keeps_constants_and_mass():
    constant = jnp.full((9, 9, 3), 0.7)
    np.testing.assert_allclose(gaussian_blur(constant, 1.0), constant, atol=1e-6)
    impulse = jnp.zeros((15, 15, 1)).at[7, 7, 0].set(1.0)
    blurred = np.asarray(gaussian_blur(impulse, 1.0))[..., 0]
    assert blurred.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(blurred, blurred.T, atol=1e-7)
    assert blurred.argmax() == 7 * 15 + 7


def test_class_viz_presets_and_bad_config():
    assert preset("default").l2_reg == 1e-3 and preset("default").blur_every == 10
    assert preset("none").l2_reg == 0.0 and preset("strong").l2_reg > preset("default").l2_reg
    with pytest.raises(ValueError, match="unknown class-viz preset"):
        preset("heavy")
    with pytest.raises(ValueError, match="must divide"):
        ClassVizConfig(steps=10, frame_every=3)


def test_accuracy_against_eps_falls_monotonically_for_pgd_on_a_linear_model():
    params = {"w": jax.random.normal(jax.random.key(3), (int(np.prod(SHAPE)), 5))}
    images = jax.random.uniform(jax.random.key(4), (64,) + SHAPE)
    labels = jnp.argmax(linear_logits(params, images), axis=-1)  # all correct at eps 0
    eps = (0.0, 0.5, 1, 2, 4, 8, 16)
    curves = accuracy_against_eps(
        linear_logits, params, images, labels, UNIT, eps, PGDConfig(), jax.random.key(5), 16
    )
    assert set(curves) == {"FGSM", "PGD-10"}
    pgd_curve = curves["PGD-10"]
    assert pgd_curve[0] == 1.0 and curves["FGSM"][0] == 1.0
    assert np.all(np.diff(pgd_curve) <= 0), pgd_curve  # a larger ball contains the smaller one
    assert pgd_curve[-1] < 0.5 and np.all(pgd_curve <= curves["FGSM"] + 1e-9)


def always_class_0_but_image_0(params, x):
    """A fake model: class 1 where the first pixel's channel 0 is bright, else class 0."""
    first = x[:, 0, 0, 0]
    return jnp.stack([1.0 - first, first], axis=1) * 10.0


def test_the_one_pixel_success_rate_counts_only_correctly_classified_images():
    """Image 0 is misclassified before any attack: it is not attacked, so it is neither a
    success nor a failure. The other three are classified correctly, and one pixel (0, 0)
    flips them: the rate is 3 of 3, where counting image 0 would give 4 of 4."""
    images = jnp.zeros((4, 4, 4, 3)).at[0, 0, 0, 0].set(1.0)
    labels = jnp.zeros(4, jnp.int32)
    config = OnePixelConfig(population=30, generations=40)
    attacked, result = attack_correctly_classified(
        always_class_0_but_image_0, {}, images, labels, UNIT, config, jax.random.key(0)
    )
    np.testing.assert_array_equal(attacked, [1, 2, 3])
    assert result.success.shape == (3,) and bool(jnp.all(result.success))
    used = evaluations_used(result, config.population)
    assert np.all(used % config.population == 0) and np.all(used <= 30 * 41)
    budgets = [30, int(used.max())]
    rates = success_within(result, config.population, budgets)
    assert rates[-1] == 1.0 and rates[0] == np.mean(used <= 30)
    nothing, none = attack_correctly_classified(
        always_class_0_but_image_0, {}, images[:1], labels[:1], UNIT, config, jax.random.key(0)
    )
    assert len(nothing) == 0 and none is None
