"""Gradient maps of a class score: vanilla saliency (Simonyan et al. 2014), SmoothGrad
(Smilkov et al. 2017) and Grad-CAM (Selvaraju et al. 2017).

Every method takes a ``logits_fn(params, x (N,H,W,C)) -> (N,K)`` (or, for Grad-CAM, the flax
module whose named intermediates it reads), is written for one image and ``jax.vmap``ped over
the batch; ``targets`` are class indices, one per image. A ``logits_fn`` with a
``class_scores(params, x, classes) -> (N,)`` method (``ModuleLogits``) gives the class scores
that the gradients are taken of.
"""
import dataclasses
import functools
import inspect

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.interpret import noise
from jaxdl.models import MODELS


@dataclasses.dataclass(frozen=True)
class ModuleLogits:
    """``logits_fn`` of a jaxdl model: hashable (a static jit argument), compiled once per model.
    With ``input_shape`` (H,W,C), inputs of another shape are a clear error."""

    module: nn.Module
    input_shape: tuple | None = None

    def __call__(self, params, x):
        """x (N,H,W,C) -> logits (N,K)."""
        self._check(x)
        return self.module.apply({"params": params}, x)[0]

    def class_scores(self, params, x, classes):
        """x (N,H,W,C), classes (N,) int -> (N,) the logit of ``classes[i]`` for image i. Models
        whose ``__call__`` takes ``classes`` (SqueezeNet) compute only those logits."""
        if "classes" not in inspect.signature(type(self.module).__call__).parameters:
            return jnp.take_along_axis(self(params, x), classes[:, None], axis=1)[:, 0]
        self._check(x)
        return self.module.apply({"params": params}, x, classes=classes)[0]

    def _check(self, x):
        if self.input_shape is not None and tuple(x.shape[1:]) != tuple(self.input_shape):
            raise ValueError(f"{type(self.module).__name__}: expected images of shape (N, "
                             f"{', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}")


def class_score(logits_fn, params, image, target):
    """The (pre-softmax) score of class ``target`` for one image (H,W,C) -> scalar; through
    ``logits_fn.class_scores`` where it has one (``ModuleLogits``)."""
    if hasattr(logits_fn, "class_scores"):
        return logits_fn.class_scores(params, image[None], jnp.asarray(target)[None])[0]
    return logits_fn(params, image[None])[0, target]


def input_gradient(logits_fn, params, image, target):
    """d score_target / d image for one image: (H,W,C)."""
    return jax.grad(class_score, argnums=2)(logits_fn, params, image, target)


def channel_max_abs(gradients):
    """(…,H,W,C) -> (…,H,W): the saliency map, max over channels of |gradient|."""
    return jnp.max(jnp.abs(gradients), axis=-1)


@functools.partial(jax.jit, static_argnames="logits_fn")
def saliency(logits_fn, params, images, targets):
    """Vanilla saliency maps: images (N,H,W,C), targets (N,) int -> (N,H,W) float32."""
    grad = functools.partial(input_gradient, logits_fn, params)
    return channel_max_abs(jax.vmap(grad)(images, targets))


@dataclasses.dataclass(frozen=True)
class SmoothGradConfig:
    """``noise``: sigma as a fraction of each image's value range (max - min); ``batch``: noisy
    copies per gradient call, over all images together (bounds memory whatever the number of
    images; any value >= 1); ``squared``: average the squared gradients (SmoothGrad-SQ) instead of
    the gradients.

    The default batch is small because small calls are fastest on CPU, where larger ones spill out
    of the caches (SqueezeNet 1.1 input gradient, 2 threads, ms per image at 1 / 2 / 4 / 8 / 16
    images per call: 23.3 / 19.0 / 17.6 / 21.4 / 21.4). On an accelerator a larger one pays."""

    samples: int = 50
    noise: float = 0.15
    batch: int = 4
    squared: bool = False

    def __post_init__(self):
        if self.samples < 1 or self.batch < 1:
            raise ValueError(f"SmoothGrad: samples ({self.samples}) and batch ({self.batch}) must be >= 1")


def noise_sample(key, image, sigma):
    """One noisy copy of ``image`` (H,W,C): image + sigma * ``jax.random.normal(key, image.shape)``
    (``noise.normal``: the same numbers, faster on CPU)."""
    return image + sigma * noise.normal(key, image.shape, image.dtype)


def _copies_in_calls(num_images, config: SmoothGradConfig):
    """The (image, sample) pairs, sample-major (copy j of every image, then copy j + 1), cut into
    calls of ``config.batch``: image indices and sample indices, both (calls, batch). The last
    call is padded with image index ``num_images`` (out of range: its gradients are dropped)."""
    pairs = num_images * config.samples
    calls = -(-pairs // config.batch)
    pair = jnp.arange(calls * config.batch).reshape(calls, config.batch)
    return jnp.where(pair < pairs, pair % num_images, num_images), jnp.minimum(pair // num_images, config.samples - 1)


@functools.partial(jax.jit, static_argnames=("logits_fn", "config"))
def smoothgrad_gradients(logits_fn, params, images, targets, config: SmoothGradConfig, rng):
    """The SmoothGrad average over noisy copies of the gradients (or squared gradients):
    (N,H,W,C). Copy j of image i is ``noise_sample(split(split(rng, N)[i], samples)[j], ...)``
    whatever ``config.batch`` is, so sub-batching changes memory use, not the result."""
    num_images = images.shape[0]
    keys = jax.vmap(lambda key: jax.random.split(key, config.samples))(jax.random.split(rng, num_images))
    sigmas = config.noise * (jnp.max(images, axis=(1, 2, 3)) - jnp.min(images, axis=(1, 2, 3)))
    gradient = jax.vmap(functools.partial(input_gradient, logits_fn, params))

    def add_call(total, call):
        image_idx, sample_idx = call
        source = jnp.minimum(image_idx, num_images - 1)  # padding: any real copy, dropped below
        noisy = jax.vmap(noise_sample)(keys[source, sample_idx], images[source], sigmas[source])
        grads = gradient(noisy, targets[source])
        return total.at[image_idx].add(grads**2 if config.squared else grads, mode="drop"), None

    total, _ = jax.lax.scan(add_call, jnp.zeros_like(images), _copies_in_calls(num_images, config))
    return total / config.samples


def smoothgrad(logits_fn, params, images, targets, config: SmoothGradConfig, rng):
    """SmoothGrad maps (N,H,W): max over channels of |mean gradient| (plain) or of the mean
    squared gradient (``config.squared``)."""
    return channel_max_abs(smoothgrad_gradients(logits_fn, params, images, targets, config, rng))


def network_order(module) -> tuple:
    """The layer names of a registered architecture in network order (``get_spec(..).layers``);
    () for a module that is not in the registry."""
    return next((spec.layers for spec in MODELS.values() if type(module) is spec.build), ())


def gradcam_layers(module, params, image_shape) -> tuple:
    """Names of the model's intermediates Grad-CAM can use (named top-level layers with a 4-d
    output), for an input of shape ``image_shape`` (H,W,C), in network order when the
    architecture is registered (else alphabetical)."""
    _, acts = jax.eval_shape(lambda p, x: module.apply({"params": p}, x), params,
                             jax.ShapeDtypeStruct((1,) + tuple(image_shape), jnp.float32))
    usable = [name for name, value in acts.items() if name in params and len(value.shape) == 4]
    order = network_order(module)
    return tuple(sorted(usable, key=lambda name: (order.index(name) if name in order else len(order), name)))


def check_layer(module, params, image_shape, layer: str) -> None:
    """A clear error naming the valid layers when ``layer`` cannot be used by Grad-CAM."""
    valid = gradcam_layers(module, params, image_shape)
    if layer not in valid:
        raise ValueError(f"unknown layer {layer!r} for Grad-CAM on {type(module).__name__}; "
                         f"valid convolutional layers: {', '.join(valid)}")


def _apply_with_offset(module, params, x, layer, offset):
    """``module.apply`` with ``offset`` added to the output of the top-level layer ``layer``:
    the gradient w.r.t. ``offset`` at 0 is the gradient w.r.t. that layer's output (flax
    method interception, no stateful hook)."""

    def add_offset(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.method_name == "__call__" and context.module.path == (layer,):
            return out + offset
        return out

    with nn.intercept_methods(add_offset):
        return module.apply({"params": params}, x)


def _gradcam_one(module, params, layer, image, target):
    shape = jax.eval_shape(lambda x: module.apply({"params": params}, x)[1][layer], image[None]).shape

    def score(offset):
        logits, acts = _apply_with_offset(module, params, image[None], layer, offset)
        return logits[0, target], acts[layer][0]

    grad, act = jax.grad(score, has_aux=True)(jnp.zeros(shape, image.dtype))
    weights = jnp.mean(grad[0], axis=(0, 1))  # alpha_k: spatial mean of the gradient
    return jax.nn.relu(act @ weights)


@functools.partial(jax.jit, static_argnames=("module", "layer"))
def _gradcam(module, params, images, targets, layer):
    return jax.vmap(functools.partial(_gradcam_one, module, params, layer))(images, targets)


def gradcam(module, params, images, targets, layer: str):
    """Grad-CAM maps (N,h,w) at the resolution of ``layer``: ReLU(sum_k alpha_k A_k) with A the
    named intermediate ``layer`` and alpha_k the spatial mean of d score / d(layer output)_k.

    How the gradient w.r.t. an inner layer is obtained without hooks: the forward pass runs
    under ``flax.linen.intercept_methods`` with an interceptor that adds a zero-valued
    ``offset`` (shape of the layer output) to what the top-level submodule ``layer`` returns.
    The network's output is unchanged, and d score / d offset at offset = 0 is exactly
    d score / d(layer output). It is a pure function of ``offset``, so jit/vmap apply.

    For layers whose intermediate is ReLU(conv output) (VGG ``conv*``, SqueezeNet ``conv1``,
    ``classifier``) the gradient is taken at the conv output, as a PyTorch forward hook on the
    conv module would. An unknown ``layer`` raises ValueError listing the valid ones in
    network order.
    """
    check_layer(module, params, images.shape[1:], layer)
    return _gradcam(module, params, images, targets, layer)


def upsample_maps(maps, size):
    """(N,h,w) maps -> (N,size,size) by bilinear interpolation, for overlays on the input."""
    return jax.image.resize(maps, (maps.shape[0], size, size), "linear")
