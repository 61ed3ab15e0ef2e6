"""Gradient maps of a class score: vanilla saliency (Simonyan et al. 2014), SmoothGrad
(Smilkov et al. 2017) and Grad-CAM (Selvaraju et al. 2017).

Saliency and SmoothGrad take a ``logits_fn(params, x (N,H,W,C)) -> (N,K)``; Grad-CAM takes the
flax module itself (it reads a named layer). Written for one image and ``jax.vmap``ped over the
batch; ``targets`` are class indices, one per image. ``ModuleLogits(module)`` makes any flax
classifier a ``logits_fn``; a ``logits_fn`` with a ``class_scores(params, x, classes) -> (N,)``
method gives the class scores that the gradients are taken of.
"""

import dataclasses
import functools
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import InputError
from jaxdl.options import check_fields, option


def _describe(value) -> str:
    shapes = jax.tree.map(
        lambda v: f"{getattr(v, 'dtype', type(v).__name__)}{list(getattr(v, 'shape', ()))}", value
    )
    return str(shapes)


def logits_of(output, module, x):
    """The (N,K) logits of a module's output: plain logits or ``(logits, intermediates)``; a
    clear error naming what was found otherwise."""
    logits = output[0] if isinstance(output, tuple) and len(output) == 2 else output
    if not (hasattr(logits, "ndim") and logits.ndim == 2 and logits.shape[0] == x.shape[0]):
        raise InputError(
            f"{type(module).__name__}: expected the module to return logits (N, K) or "
            f"(logits (N, K), intermediates) for N = {x.shape[0]} images, got {_describe(output)}"
        )
    return logits


@dataclasses.dataclass(frozen=True)
class ModuleLogits:
    """The ``logits_fn`` of a flax classifier whose ``apply({"params": p}, x)`` returns logits
    (N,K) or ``(logits, intermediates)``: hashable, so a static jit argument compiled once per
    model. ``input_shape`` (H,W,C): inputs of another shape are a clear error. ``class_scores``:
    an optional ``fn(module, params, x, classes) -> (N,)`` equal to the picked logits but
    cheaper (``jaxdl.cpu.class_scores_for(module)``).

    >>> import flax.linen as nn
    >>> model = nn.Dense(3)
    >>> params = model.init(jax.random.key(0), jnp.ones((1, 4)))["params"]
    >>> logits_fn = ModuleLogits(model)
    >>> logits_fn(params, jnp.ones((2, 4))).shape
    (2, 3)
    >>> bool(jnp.allclose(logits_fn.class_scores(params, jnp.ones((1, 4)), jnp.array([2])),
    ...                   logits_fn(params, jnp.ones((1, 4)))[:, 2]))
    True
    """

    module: nn.Module
    input_shape: tuple | None = None
    class_scores_fn: Callable | None = None

    def __call__(self, params, x):
        """x (N,H,W,C) -> logits (N,K)."""
        self._check(x)
        return logits_of(self.module.apply({"params": params}, x), self.module, x)

    def class_scores(self, params, x, classes):
        """x (N,H,W,C), classes (N,) int -> (N,) the logit of ``classes[i]`` for image i."""
        if self.class_scores_fn is None:
            return jnp.take_along_axis(self(params, x), classes[:, None], axis=1)[:, 0]
        self._check(x)
        return self.class_scores_fn(self.module, params, x, classes)

    def _check(self, x):
        if self.input_shape is not None and tuple(x.shape[1:]) != tuple(self.input_shape):
            raise InputError(
                f"{type(self.module).__name__}: expected images of shape (N, "
                f"{', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}"
            )


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
    """(…,H,W,C) -> (…,H,W): the saliency map, max over channels of ``|gradient|``."""
    return jnp.max(jnp.abs(gradients), axis=-1)


@functools.partial(jax.jit, static_argnames="logits_fn")
def saliency(logits_fn, params, images, targets):
    """Vanilla saliency maps: images (N,H,W,C), targets (N,) int -> (N,H,W) float32.

    For a linear model the map is the largest ``|weight|`` of each pixel's channels:

    >>> import flax.linen as nn
    >>> class Linear(nn.Module):
    ...     @nn.compact
    ...     def __call__(self, x):
    ...         return nn.Dense(2, use_bias=False)(x.reshape(len(x), -1))
    >>> x = jnp.ones((1, 2, 2, 3))
    >>> params = Linear().init(jax.random.key(0), x)["params"]
    >>> maps = saliency(ModuleLogits(Linear()), params, x, jnp.array([1]))
    >>> weights = jnp.abs(params["Dense_0"]["kernel"][:, 1]).reshape(2, 2, 3).max(-1)
    >>> maps.shape, bool(jnp.allclose(maps[0], weights))
    ((1, 2, 2), True)
    """
    grad = functools.partial(input_gradient, logits_fn, params)
    return channel_max_abs(jax.vmap(grad)(images, targets))


@dataclasses.dataclass(frozen=True)
class SmoothGradConfig:
    """``samples`` noisy copies per image; ``noise``: sigma as a fraction of each image's value
    range (max - min); ``batch_size``: noisy copies per gradient call, over all images together (it
    bounds memory whatever the number of images and does not change the result; small calls are
    fastest on CPU, an accelerator wants larger ones); ``squared``: average the squared
    gradients (SmoothGrad-SQ) instead of the gradients."""

    samples: int = option(50, "noisy copies averaged per image", min=1)
    noise: float = option(0.15, "noise sigma as a fraction of each image's value range", min=0)
    batch_size: int = option(
        4, "noisy copies per gradient call, over all images (bounds memory)", min=1
    )
    squared: bool = option(False, "average squared gradients (SmoothGrad-SQ)")

    def __post_init__(self):
        check_fields(self)


def noise_sample(key, image, sigma, normal=jax.random.normal):
    """One noisy copy of ``image`` (H,W,C): image + sigma * ``normal(key, image.shape)``
    (``jax.random.normal``, or ``jaxdl.cpu.normal``: the same numbers)."""
    return image + sigma * normal(key, image.shape, image.dtype)


def _copies_in_calls(num_images, config: SmoothGradConfig):
    """The (image, sample) pairs, sample-major (copy j of every image, then copy j + 1), cut into
    calls of ``config.batch_size``: image indices and sample indices, both (calls, batch). The last
    call is padded with image index ``num_images`` (out of range: its gradients are dropped)."""
    pairs = num_images * config.samples
    calls = -(-pairs // config.batch_size)
    pair = jnp.arange(calls * config.batch_size).reshape(calls, config.batch_size)
    return jnp.where(pair < pairs, pair % num_images, num_images), jnp.minimum(
        pair // num_images, config.samples - 1
    )


@functools.partial(jax.jit, static_argnames=("logits_fn", "config", "normal"))
def smoothgrad_gradients(
    logits_fn, params, images, targets, config: SmoothGradConfig, rng, normal=jax.random.normal
):
    """The SmoothGrad average over noisy copies of the gradients (or squared gradients):
    (N,H,W,C). Copy j of image i is ``noise_sample(split(split(rng, N)[i], samples)[j], ...)``
    whatever ``config.batch_size`` is, so sub-batching changes memory use, not the result.
    ``normal``: the Gaussian sampler (``jax.random.normal`` or ``jaxdl.cpu.normal``)."""
    num_images = images.shape[0]
    keys = jax.vmap(lambda key: jax.random.split(key, config.samples))(
        jax.random.split(rng, num_images)
    )
    sigmas = config.noise * (jnp.max(images, axis=(1, 2, 3)) - jnp.min(images, axis=(1, 2, 3)))
    gradient = jax.vmap(functools.partial(input_gradient, logits_fn, params))

    def add_call(total, call):
        image_idx, sample_idx = call
        source = jnp.minimum(image_idx, num_images - 1)  # padding: any real copy, dropped below
        sample = functools.partial(noise_sample, normal=normal)
        noisy = jax.vmap(sample)(keys[source, sample_idx], images[source], sigmas[source])
        grads = gradient(noisy, targets[source])
        return total.at[image_idx].add(grads**2 if config.squared else grads, mode="drop"), None

    total, _ = jax.lax.scan(add_call, jnp.zeros_like(images), _copies_in_calls(num_images, config))
    return total / config.samples


def smoothgrad(
    logits_fn, params, images, targets, config: SmoothGradConfig, rng, normal=jax.random.normal
):
    """SmoothGrad maps (N,H,W): max over channels of ``|mean gradient|`` (plain) or of the mean
    squared gradient (``config.squared``)."""
    return channel_max_abs(
        smoothgrad_gradients(logits_fn, params, images, targets, config, rng, normal)
    )


def _layer_outputs(module, params, x):
    """``{path: output}`` of every submodule's ``__call__`` in the order the calls finish (a
    module after its children), nested paths joined by '/' (``fire9/expand3x3``); recorded by
    flax method interception."""
    outputs = {}

    def record(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.method_name == "__call__" and context.module.path:
            outputs.setdefault("/".join(context.module.path), out)
        return out

    with nn.intercept_methods(record):
        module.apply({"params": params}, x)
    return outputs


def _layer_shapes(module, params, image_shape) -> dict:
    """``{path: ShapeDtypeStruct}`` of ``_layer_outputs`` for one image of ``image_shape``, in
    call order (a pytree's dict keys come back sorted, so the order is kept aside)."""
    order = []

    def outputs(p, x):
        out = _layer_outputs(module, p, x)
        order.extend(out)
        return out

    shapes = jax.eval_shape(
        outputs, params, jax.ShapeDtypeStruct((1,) + tuple(image_shape), jnp.float32)
    )
    return {name: shapes[name] for name in order}


def gradcam_layers(module, params, image_shape) -> tuple:
    """The top-level layers Grad-CAM can use (submodules with parameters and a 4-d output), in
    network order, for an input of shape ``image_shape`` (H,W,C); nested paths
    (``fire9/expand3x3``) work too."""
    return tuple(
        name
        for name, value in _layer_shapes(module, params, image_shape).items()
        if "/" not in name and name in params and getattr(value, "ndim", 0) == 4
    )


def check_layer(module, params, image_shape, layer: str) -> None:
    """A clear error naming the valid layers when ``layer`` cannot be used by Grad-CAM."""
    value = _layer_shapes(module, params, image_shape).get(layer)
    if getattr(value, "ndim", 0) != 4:
        valid = ", ".join(gradcam_layers(module, params, image_shape))
        raise InputError(
            f"unknown layer {layer!r} for Grad-CAM on {type(module).__name__} (a submodule "
            f"path, nested ones as 'layer/sublayer'); valid convolutional layers: {valid}"
        )


def _apply_with_offset(module, params, x, layer, offset):
    """``module.apply`` with ``offset`` added to the output of the submodule ``layer`` and that
    output captured: the gradient w.r.t. ``offset`` at 0 is the gradient w.r.t. the layer's
    output (flax method interception, no stateful hook). -> (module output, layer output)."""
    path = tuple(layer.split("/"))
    captured = {}

    def add_offset(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.method_name == "__call__" and context.module.path == path:
            out = captured["out"] = out + offset
        return out

    with nn.intercept_methods(add_offset):
        output = module.apply({"params": params}, x)
    return output, captured["out"]


def _gradcam_one(module, params, layer, image, target):
    x = image[None]
    shape = _layer_shapes(module, params, image.shape)[layer].shape

    def score(offset):
        output, activation = _apply_with_offset(module, params, x, layer, offset)
        return logits_of(output, module, x)[0, target], activation[0]

    grad, act = jax.grad(score, has_aux=True)(jnp.zeros(shape, image.dtype))
    weights = jnp.mean(grad[0], axis=(0, 1))  # alpha_k: spatial mean of the gradient
    return jax.nn.relu(act @ weights)


@functools.partial(jax.jit, static_argnames=("module", "layer"))
def _gradcam(module, params, images, targets, layer):
    return jax.vmap(functools.partial(_gradcam_one, module, params, layer))(images, targets)


def gradcam(module, params, images, targets, layer: str):
    """Grad-CAM maps (N,h,w) at the resolution of ``layer``: ReLU(sum_k alpha_k A_k), A the
    output of the submodule named ``layer`` (what a PyTorch forward hook on it sees: a Fire
    module's output is post-ReLU, a bare convolution's pre-ReLU) and alpha_k the spatial mean
    of d score / dA_k.

    Works on any flax classifier returning logits or ``(logits, intermediates)``. The forward
    pass runs under ``flax.linen.intercept_methods``, which adds a zero-valued ``offset`` to
    what ``layer`` returns: the output is unchanged, and d score / d offset at 0 is exactly
    d score / dA, a pure function of ``offset`` that jit and vmap apply to. An unknown
    ``layer`` raises ValueError listing the valid ones in network order.
    """
    check_layer(module, params, images.shape[1:], layer)
    return _gradcam(module, params, images, targets, layer)


def upsample_maps(maps, size):
    """(N,h,w) maps -> (N,size,size) by bilinear interpolation, for overlays on the input."""
    return jax.image.resize(maps, (maps.shape[0], size, size), "linear")
