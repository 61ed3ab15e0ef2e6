"""Adversarial examples: the iterative "fooling image" (normalised gradient ascent on a target
score until the model predicts it), FGSM (Goodfellow et al. 2015) and L-inf PGD (Madry et al.
2018), targeted or not.

All work in the model's normalised input space and keep images inside ``bounds = (low, high)``
(per-channel values of pixels 0 and 255, ``jaxdl.imagenet.pixel_bounds(norm)``); budgets and
reported perturbations are in 0..255 pixel units. Written for one image, vmapped over images.
"""

import dataclasses
import functools
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.errors import InputError
from jaxdl.options import check_fields, option


def to_pixel_units(delta, bounds):
    """A perturbation in normalised input units (…,C) -> 0..255 pixel units."""
    low, high = bounds
    return delta / (high - low) * 255.0


def from_pixel_units(amount, bounds):
    """An amount in 0..255 pixel units -> per-channel normalised units (C,)."""
    low, high = bounds
    return amount / 255.0 * (high - low)


def warn_if_beyond_pixel_range(amount, name: str = "eps") -> None:
    """Warn when an amount in 0..255 pixel units exceeds 255: legal, but then the budget
    constrains nothing, which is surely a mistake (eps 8 means 8/255)."""
    if isinstance(amount, (int, float)) and amount > 255:
        warnings.warn(
            f"{name} {amount:g} is in 0..255 pixel units and exceeds the whole pixel range, so "
            f"it constrains nothing (eps 8 means 8/255)",
            stacklevel=3,
        )


def clip_to_bounds(x, bounds):
    return jnp.clip(x, bounds[0], bounds[1])


def quantize(x, bounds):
    """Round normalised inputs to the nearest 8-bit pixel value (what a saved image file holds)."""
    low, high = bounds
    return low + jnp.round((x - low) / (high - low) * 255.0) / 255.0 * (high - low)


def perturbation_norms(adversarial, original, bounds):
    """L-inf and L2 of ``adversarial - original`` (N,H,W,C) in 0..255 pixel units: two (N,)."""
    delta = to_pixel_units(adversarial - original, bounds).reshape(adversarial.shape[0], -1)
    return jnp.max(jnp.abs(delta), axis=1), jnp.linalg.norm(delta, axis=1)


@dataclasses.dataclass(frozen=True)
class FoolConfig:
    """Steps ``x += learning_rate * g / ||g||_2`` on the target score, at most ``steps``;
    ``images_per_batch`` images iterate side by side (each stops on its own only when 1).
    With ``quantized`` the stop test and the returned image use the image rounded to 8-bit
    pixels, so the success holds for the saved uint8 file too."""

    learning_rate: float = option(1.0, "step length of the normalised gradient ascent", min=0)
    steps: int = option(100, "gradient steps at most per image", min=1)
    images_per_batch: int = option(
        1, "images iterated side by side (each stops on its own at 1)", min=1
    )
    quantized: bool = option(True, "stop on, and return, the image rounded to 8-bit pixels")

    def __post_init__(self):
        check_fields(self)


class FoolResult(NamedTuple):
    # (N,H,W,C) fooling images (normalised input space; on the 8-bit grid if quantized)
    images: jax.Array
    iterations: jax.Array  # (N,) gradient steps taken
    success: jax.Array  # (N,) bool: the model predicts the target on ``images``


def _fool_one(logits_fn, params, bounds, config, image, target):
    def output(x):
        return quantize(x, bounds) if config.quantized else x

    def score(x):  # scored at the output image; straight-through gradient past the rounding
        logits = logits_fn(params, (x + jax.lax.stop_gradient(output(x) - x))[None])[0]
        return logits[target], logits

    score_and_grad = jax.value_and_grad(score, has_aux=True)

    def keep_going(state):
        _, i, done = state
        return (~done) & (i < config.steps)

    def step(state):
        x, i, _ = state
        (_, logits), g = score_and_grad(x)
        done = jnp.argmax(logits) == target
        moved = clip_to_bounds(x + config.learning_rate * g / (jnp.linalg.norm(g) + 1e-12), bounds)
        return jnp.where(done, x, moved), i + (~done).astype(jnp.int32), done

    x, iterations, done = jax.lax.while_loop(
        keep_going, step, (image, jnp.int32(0), jnp.bool_(False))
    )
    x = output(x)
    success = done | (jnp.argmax(logits_fn(params, x[None])[0]) == target)
    return x, iterations, success


@functools.partial(jax.jit, static_argnames=("logits_fn", "config"))
def fool(
    logits_fn, params, images, targets, bounds, config: FoolConfig = FoolConfig()
) -> FoolResult:
    """The practical's fooling images: per image, normalised gradient ascent on the target
    score, stopping as soon as the model predicts ``targets[i]`` (per-image stop inside one
    ``while_loop``, vmapped over chunks of ``images_per_batch``). images (N,H,W,C), targets (N,)
    int."""
    one = functools.partial(_fool_one, logits_fn, params, bounds, config)
    return FoolResult(
        *jax.lax.map(lambda args: one(*args), (images, targets), batch_size=config.images_per_batch)
    )


def loss_direction(logits_fn, params, image, label, targeted):
    """Gradient of the attack objective for one image: ascend the cross-entropy of the true
    ``label`` (untargeted) or descend that of the target ``label`` (targeted)."""

    def objective(x):
        ce = optax.softmax_cross_entropy_with_integer_labels(logits_fn(params, x[None])[0], label)
        return jnp.where(targeted, -ce, ce)

    return jax.grad(objective)(image)


@functools.partial(jax.jit, static_argnames=("logits_fn", "targeted"))
def fgsm(logits_fn, params, images, labels, bounds, eps: float, targeted: bool = False):
    """FGSM: ``x + eps * sign(grad)`` clipped to the pixel range; ``eps`` in 0..255 units;
    ``labels`` are the true classes (untargeted) or the targets (targeted). -> (N,H,W,C)."""
    step = from_pixel_units(eps, bounds)

    def one(image, label):
        g = loss_direction(logits_fn, params, image, label, targeted)
        return clip_to_bounds(image + step * jnp.sign(g), bounds)

    return jax.vmap(one)(images, labels)


@dataclasses.dataclass(frozen=True)
class PGDConfig:
    """L-inf PGD: ``steps`` signed-gradient steps of ``step_size`` inside the ``eps`` ball (both in
    0..255 pixel units), from a uniform random start in the ball when ``random_start``."""

    eps: float = option(2.0, "L-inf budget in 0..255 pixel units", min=0)
    step_size: float = option(0.5, "signed-gradient step in 0..255 pixel units", min=0)
    steps: int = option(10, "gradient steps", min=1)
    targeted: bool = option(False, "towards the given class instead of away from it")
    random_start: bool = option(True, "start from a uniform random point of the eps ball")

    def __post_init__(self):
        check_fields(self)
        warn_if_beyond_pixel_range(self.eps, "PGD eps")
        warn_if_beyond_pixel_range(self.step_size, "PGD step_size")


def _pgd_one(logits_fn, params, bounds, config, eps, step_size, image, label, key):
    eps, step = from_pixel_units(eps, bounds), from_pixel_units(step_size, bounds)

    def project(x):
        return clip_to_bounds(jnp.clip(x, image - eps, image + eps), bounds)

    start = image + jax.random.uniform(key, image.shape, minval=-1.0, maxval=1.0) * eps
    x = project(start) if config.random_start else image

    def body(x, _):
        g = loss_direction(logits_fn, params, x, label, config.targeted)
        return project(x + step * jnp.sign(g)), None

    x, _ = jax.lax.scan(body, x, None, length=config.steps)
    return x


@functools.partial(jax.jit, static_argnames=("logits_fn", "config"))
def _pgd_at(logits_fn, params, images, labels, bounds, config, rng, eps, step_size):
    """PGD with ``config``'s steps and start at the budget ``eps`` and step ``step_size`` (traced,
    0..255 units), not ``config``'s: one compilation serves every budget of a sweep."""
    keys = jax.random.split(rng, images.shape[0])
    one = functools.partial(_pgd_one, logits_fn, params, bounds, config, eps, step_size)
    return jax.vmap(one)(images, labels, keys)


def pgd(logits_fn, params, images, labels, bounds, config: PGDConfig, rng):
    """L-inf PGD adversarial images (N,H,W,C), always inside the eps ball and the pixel range."""
    return _pgd_at(
        logits_fn, params, images, labels, bounds, config, rng, config.eps, config.step_size
    )


@functools.partial(jax.jit, static_argnames="logits_fn")
def predict(logits_fn, params, images):
    """Argmax classes (N,) of images (N,H,W,C)."""
    return jnp.argmax(logits_fn(params, images), axis=-1)


def accuracy_against_eps(
    logits_fn, params, images, labels, bounds, eps_values, config: PGDConfig, rng, batch_size=25
) -> dict:
    """Top-1 accuracy of ``images`` (N,H,W,C) with true ``labels`` (N,) under untargeted FGSM
    and PGD at each L-inf budget of ``eps_values`` (0..255 units; PGD keeps ``config``'s steps
    and start, its step scaled as ``config.step_size / config.eps`` of each budget), in chunks of
    ``batch_size`` images: ``{"FGSM": (E,), "PGD-<steps>": (E,)}`` as numpy arrays."""
    if config.targeted:
        raise InputError("accuracy_against_eps is untargeted; set targeted=False")
    labels = jnp.asarray(labels)
    step_ratio = config.step_size / config.eps if config.eps else 0.25
    hits = []  # per budget, per chunk: correct counts (FGSM, PGD) on the device, read once
    for eps in eps_values:
        per_chunk = []
        for start in range(0, len(images), batch_size):
            x, y = images[start : start + batch_size], labels[start : start + batch_size]
            key = jax.random.fold_in(rng, start)
            attacked = (
                fgsm(logits_fn, params, x, y, bounds, float(eps)),
                _pgd_at(logits_fn, params, x, y, bounds, config, key, float(eps), step_ratio * eps),
            )
            per_chunk.append(
                jnp.stack([jnp.sum(predict(logits_fn, params, a) == y) for a in attacked])
            )
        hits.append(jnp.sum(jnp.stack(per_chunk), axis=0))
    accuracy = np.asarray(jax.device_get(jnp.stack(hits))) / len(images)  # (E, 2)
    return {"FGSM": accuracy[:, 0], f"PGD-{config.steps}": accuracy[:, 1]}
