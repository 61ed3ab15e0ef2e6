"""Class visualisation (Simonyan et al. 2014, Yosinski et al. 2015): gradient ascent on a class
score from noise or from an image, with L2 regularisation, random jitter, Gaussian blur every k
steps and pixel clipping; the trajectory is kept every ``frame_every`` steps for animations.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp

from jaxdl.errors import InputError
from jaxdl.interpret.adversarial import clip_to_bounds
from jaxdl.interpret.saliency import class_score
from jaxdl.options import check_fields, option


@dataclasses.dataclass(frozen=True)
class ClassVizConfig:
    """Each step: jitter by up to ``jitter`` pixels, ``x += learning_rate * grad(score - l2_reg
    * ||x||^2)``, undo the jitter, clip to the pixel range; every ``blur_every`` steps (0: never)
    a Gaussian blur of ``blur_sigma`` pixels."""

    learning_rate: float = option(5.0, "gradient-ascent step", min=0)
    l2_reg: float = option(1e-3, "weight of the L2 penalty on the image", min=0)
    blur_every: int = option(10, "Gaussian blur every N steps (0: never)", min=0)
    blur_sigma: float = option(0.5, "blur sigma in pixels", min=0)
    jitter: int = option(16, "random shift of up to N pixels before each step", min=0)
    steps: int = option(100, "gradient-ascent steps")
    frame_every: int = option(10, "keep a frame of the trajectory every N steps (divides steps)")

    def __post_init__(self):
        check_fields(self)
        if self.steps < 1 or self.frame_every < 1 or self.steps % self.frame_every:
            raise InputError(
                f"class viz: frame_every ({self.frame_every}) must divide steps ({self.steps})"
            )


PRESETS = {
    "none": ClassVizConfig(l2_reg=0.0, blur_every=0, jitter=0),
    "default": ClassVizConfig(),
    "strong": ClassVizConfig(l2_reg=3e-3, blur_every=10, blur_sigma=1.0),
}


def preset(name: str, **overrides) -> ClassVizConfig:
    """The regularisation preset ``name`` ('none', 'default', 'strong') with field overrides."""
    if name not in PRESETS:
        raise InputError(
            f"unknown class-viz preset {name!r}; expected one of: {', '.join(PRESETS)}"
        )
    return dataclasses.replace(PRESETS[name], **overrides)


def gaussian_blur(image, sigma: float):
    """Separable Gaussian blur of one image (H,W,C), edge-padded, radius ceil(3 sigma)."""
    radius = max(1, int(-(-3 * sigma // 1)))
    taps = jnp.exp(-0.5 * (jnp.arange(-radius, radius + 1) / sigma) ** 2)
    taps = taps / taps.sum()
    x = jnp.pad(image, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    rows = sum(taps[i] * x[i : i + image.shape[0]] for i in range(2 * radius + 1))
    return sum(taps[i] * rows[:, i : i + image.shape[1]] for i in range(2 * radius + 1))


def noise_images(key, count: int, shape, bounds):
    """``count`` N(0, 1) images of ``shape`` (H,W,C) in the normalised input space, clipped."""
    return clip_to_bounds(jax.random.normal(key, (count,) + tuple(shape)), bounds)


def _ascent_step(logits_fn, params, bounds, config, target, x, key, step):
    shift = jax.random.randint(key, (2,), -config.jitter, config.jitter + 1)
    jittered = jnp.roll(x, (shift[0], shift[1]), axis=(0, 1))

    def objective(z):
        return class_score(logits_fn, params, z, target) - config.l2_reg * jnp.sum(z**2)

    jittered = jittered + config.learning_rate * jax.grad(objective)(jittered)
    x = clip_to_bounds(jnp.roll(jittered, (-shift[0], -shift[1]), axis=(0, 1)), bounds)
    if config.blur_every:  # a cond, not a where: the blur runs only on its steps
        x = jax.lax.cond(
            (step + 1) % config.blur_every == 0,
            lambda image: gaussian_blur(image, config.blur_sigma),
            lambda image: image,
            x,
        )
    return x


def _visualise_one(logits_fn, params, bounds, config, image, target, key):
    step_fn = functools.partial(_ascent_step, logits_fn, params, bounds, config, target)

    def frame(x, first_step):
        def body(i, x):
            step = first_step + i
            return step_fn(x, jax.random.fold_in(key, step), step)

        x = jax.lax.fori_loop(0, config.frame_every, body, x)
        return x, x

    starts = jnp.arange(0, config.steps, config.frame_every)
    x, frames = jax.lax.scan(frame, image, starts)
    return x, jnp.concatenate([image[None], frames])


@functools.partial(jax.jit, static_argnames=("logits_fn", "config"))
def class_visualization(logits_fn, params, images, targets, bounds, config: ClassVizConfig, rng):
    """Gradient ascent from ``images`` (N,H,W,C) (noise or real) on ``targets`` (N,) ->
    ``(final (N,H,W,C), frames (N, steps/frame_every + 1, H,W,C))`` with frame 0 the start."""
    keys = jax.random.split(rng, images.shape[0])
    one = functools.partial(_visualise_one, logits_fn, params, bounds, config)
    return jax.vmap(one)(images, targets, keys)
