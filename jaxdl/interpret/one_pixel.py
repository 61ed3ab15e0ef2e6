"""The one-pixel attack (Su, Vargas & Sakurai 2019): differential evolution over candidate
pixels ``(x, y, r, g, b)``, the whole population scored in one batched call of the model.

A candidate holds ``k`` pixels (``pixels``), each ``(x, y, c_0, ..., c_{C-1})`` with
coordinates in pixels and channel values in 0..255 in the network's channel order. The evolution is
DE/rand/1 with greedy selection and no crossover, as in the paper; each image stops as soon as
one candidate succeeds (a ``while_loop`` per image).
"""

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.options import check_fields, option


@dataclasses.dataclass(frozen=True)
class OnePixelConfig:
    """``population`` x ``generations`` bounds the model calls per image (the paper: 400 x 100);
    ``mutation`` is DE's F; ``images_per_batch`` images evolve side by side (memory grows as
    ``images_per_batch * population`` network inputs)."""

    pixels: int = option(1, "pixels changed per candidate", min=1)
    population: int = option(400, "candidates per generation (Su et al.: 400)", min=4)
    generations: int = option(100, "generations at most (Su et al.: 100)", min=0)
    mutation: float = option(0.5, "differential-evolution scale F", min=0)
    targeted: bool = option(False, "towards the given class instead of away from it")
    images_per_batch: int = option(1, "images evolved side by side", min=1)

    def __post_init__(self):
        check_fields(self)


class DEState(NamedTuple):
    population: jax.Array  # (P, D)
    fitness: jax.Array  # (P,) lower is better
    success: jax.Array  # (P,) bool, from the fitness function
    generation: jax.Array  # () int32


def rand1_donors(key, size: int):
    """(size, 3) indices r1, r2, r3 for DE/rand/1: distinct, and different from the row index."""

    def pick(k, i):
        r = jax.random.choice(k, size - 1, (3,), replace=False)
        return r + (r >= i)

    return jax.vmap(pick)(jax.random.split(key, size), jnp.arange(size))


def de_generation(fitness_fn, state: DEState, key, mutation: float, low, high) -> DEState:
    """One DE/rand/1 generation: mutants ``x_r1 + F (x_r2 - x_r3)`` clipped to [low, high],
    each replacing its parent when its fitness is lower."""
    pop = state.population
    r = rand1_donors(key, pop.shape[0])
    mutant = jnp.clip(pop[r[:, 0]] + mutation * (pop[r[:, 1]] - pop[r[:, 2]]), low, high)
    fitness, success = fitness_fn(mutant)
    better = fitness < state.fitness
    return DEState(
        jnp.where(better[:, None], mutant, pop),
        jnp.where(better, fitness, state.fitness),
        jnp.where(better, success, state.success),
        state.generation + 1,
    )


def differential_evolution(
    fitness_fn, population, key, generations: int, mutation: float, low, high
) -> DEState:
    """Minimise ``fitness_fn(pop (P,D)) -> (fitness (P,), success (P,) bool)`` from ``population``
    for at most ``generations`` generations, stopping once any candidate succeeds."""
    fitness, success = fitness_fn(population)

    def keep_going(state):
        return (~jnp.any(state.success)) & (state.generation < generations)

    def step(state):
        return de_generation(
            fitness_fn, state, jax.random.fold_in(key, state.generation), mutation, low, high
        )

    return jax.lax.while_loop(keep_going, step, DEState(population, fitness, success, jnp.int32(0)))


def apply_pixels(image, candidate, bounds):
    """Write the pixels of ``candidate`` (k, 2 + C) into ``image`` (H,W,C) (normalised input
    space)."""
    low, high = bounds
    height, width = image.shape[:2]
    cols = jnp.clip(jnp.round(candidate[:, 0]), 0, width - 1).astype(jnp.int32)
    rows = jnp.clip(jnp.round(candidate[:, 1]), 0, height - 1).astype(jnp.int32)
    return image.at[rows, cols].set(low + candidate[:, 2:] / 255.0 * (high - low))


def candidate_bounds(shape, pixels: int):
    """Per-coordinate (low, high) of a flattened candidate (pixels * (2 + C),) for images
    (H,W,C)."""
    height, width, channels = shape
    low = jnp.zeros(pixels * (2 + channels))
    high = jnp.tile(jnp.array([width - 1, height - 1] + [255.0] * channels), pixels)
    return low, high


def initial_population(key, size: int, shape, pixels: int):
    """(size, pixels * (2 + C)): uniform positions, channel values ~ N(128, 127) clipped (the
    paper)."""
    height, width, channels = shape
    k_pos, k_col = jax.random.split(key)
    pos = jax.random.uniform(k_pos, (size, pixels, 2)) * jnp.array([width - 1, height - 1])
    col = jnp.clip(128.0 + 127.0 * jax.random.normal(k_col, (size, pixels, channels)), 0.0, 255.0)
    return jnp.concatenate([pos, col], axis=-1).reshape(size, -1)


class OnePixelResult(NamedTuple):
    images: jax.Array  # (N,H,W,C) attacked images
    pixels: jax.Array  # (N,k,2+C) the chosen pixels
    success: jax.Array  # (N,) bool
    generations: jax.Array  # (N,) generations run
    label_prob: jax.Array  # (N,) probability of ``labels[i]`` on the attacked image


def _attack_one(logits_fn, params, bounds, config, image, label, key):
    k = config.pixels

    def fitness_fn(population):
        candidates = population.reshape(population.shape[0], k, -1)
        attacked = jax.vmap(apply_pixels, in_axes=(None, 0, None))(image, candidates, bounds)
        logits = logits_fn(params, attacked)
        prob = jax.nn.softmax(logits)[:, label]
        hit = jnp.argmax(logits, axis=-1) == label
        return (-prob, hit) if config.targeted else (prob, ~hit)

    k_init, k_evolve = jax.random.split(key)
    low, high = candidate_bounds(image.shape, k)
    state = differential_evolution(
        fitness_fn,
        initial_population(k_init, config.population, image.shape, k),
        k_evolve,
        config.generations,
        config.mutation,
        low,
        high,
    )
    best = jnp.where(jnp.any(state.success), jnp.argmax(state.success), jnp.argmin(state.fitness))
    pixels = state.population[best].reshape(k, -1)
    return (
        apply_pixels(image, pixels, bounds),
        pixels,
        state.success[best],
        state.generation,
        jnp.abs(state.fitness[best]),
    )


@functools.partial(jax.jit, static_argnames=("logits_fn", "config"))
def one_pixel_attack(
    logits_fn, params, images, labels, bounds, config: OnePixelConfig, rng
) -> OnePixelResult:
    """Attack images (N,H,W,C): ``labels`` are the true classes (untargeted: success when the
    prediction changes) or the targets (``config.targeted``: success when predicted)."""
    keys = jax.random.split(rng, images.shape[0])
    one = functools.partial(_attack_one, logits_fn, params, bounds, config)
    result = jax.lax.map(
        lambda args: one(*args), (images, labels, keys), batch_size=config.images_per_batch
    )
    return OnePixelResult(*result)


def attack_correctly_classified(
    logits_fn, params, images, labels, bounds, config, rng, limit: int | None = None
):
    """The untargeted attack on just the images (N,H,W,C) that ``logits_fn`` classifies as their
    true ``labels`` (N,) (the first ``limit`` of them): an image already misclassified has
    nothing to fool, so it must count neither as a success nor as a failure. Returns (the
    indices attacked (M,), their ``OnePixelResult``, or None when M = 0)."""
    if config.targeted:
        raise InputError("attack_correctly_classified is untargeted; set targeted=False")
    predicted = np.concatenate(
        [
            np.asarray(jnp.argmax(logits_fn(params, images[i : i + 50]), axis=-1))
            for i in range(0, len(images), 50)
        ]
    )
    attacked = np.flatnonzero(predicted == np.asarray(labels))[:limit]
    if not len(attacked):
        return attacked, None
    picked = jnp.asarray(attacked)
    result = one_pixel_attack(
        logits_fn, params, images[picked], jnp.asarray(labels)[picked], bounds, config, rng
    )
    return attacked, result


def evaluations_used(result: OnePixelResult, population: int) -> np.ndarray:
    """(N,) model evaluations each attack made: the initial population, then one per candidate
    of every generation run (an attack stops at its first success)."""
    return population * (np.asarray(result.generations) + 1)


def success_within(result: OnePixelResult, population: int, budgets) -> np.ndarray:
    """(len(budgets),) fraction of the attacked images fooled within each budget of model
    evaluations: the success-rate curve of one run, read off its stopping generations."""
    used, success = evaluations_used(result, population), np.asarray(result.success)
    return np.array([np.mean(success & (used <= b)) for b in budgets])
