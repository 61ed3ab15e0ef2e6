"""DCGAN generator and discriminator (Radford et al. 2016) for 28x28 or 32x32 images, and
their conditional variants cG(z, y), cD(x, y) with the label injected as one-hot maps.

Layout (NHWC). With ``s = 7`` (28x28, two upsamplings) or ``s = 4`` (32x32, three)::

  G: z (N, z_dim) [+ one-hot y] -> Dense s*s*C -> BN -> ReLU -> [ConvT 4x4/2 -> BN -> ReLU]*
     -> ConvT 4x4/2 to ``channels`` -> tanh, output (N, H, W, channels) in [-1, 1] (the
     conditional G's input is z with the one-hot y appended: a 1x1 label map);
  D: x (N, H, W, channels) [+ one-hot y maps (N, H, W, classes)] -> Conv 4x4/2 -> LeakyReLU(0.2)
     -> [Conv 4x4/2 -> BN -> LeakyReLU(0.2)]* -> Dense 1: the logit of "real", shape (N,).
     The label maps' share of the first convolution is computed as a per-class bias map
     (``label_response``), the same function at the cost of an unconditional D for any number
     of classes: params ``conv1`` (images) and ``conv1_labels`` (4, 4, pack, classes, width).

Widths double at each lower resolution; all weights ~ N(0, 0.02), BN scales ~ N(1, 0.02).
"""

from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers

INIT = nn.initializers.normal(0.02)


def _bn_scale_init(key, shape, dtype=jnp.float32):
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def num_upsamplings(image_size: int) -> int:
    """2 for 28x28 (7 -> 14 -> 28), 3 for 32x32 (4 -> 8 -> 16 -> 32)."""
    if image_size not in (28, 32):
        raise InputError(f"DCGAN image_size must be 28 or 32, got {image_size}")
    return 2 if image_size == 28 else 3


def _batch_norm(train: bool, name: str):
    return nn.BatchNorm(
        use_running_average=not train,
        momentum=0.9,
        epsilon=1e-5,
        scale_init=_bn_scale_init,
        name=name,
    )


def _check_labels(name: str, num_classes, y):
    """Labels are required exactly when the module is conditional."""
    if (y is None) != (num_classes is None):
        raise InputError(
            f"{name}(num_classes={num_classes}) called with y={'None' if y is None else 'labels'}"
        )


def _valid_taps(size: int):
    """(size // 2, 4) 0/1: which taps of a 4x4/2 convolution padded by 1 fall inside ``size``."""
    rows = 2 * jnp.arange(size // 2)[:, None] - 1 + jnp.arange(4)[None, :]
    return ((rows >= 0) & (rows < size)).astype(jnp.float32)


def label_response(y, kernel, height: int, width: int):
    """The 4x4/2 (padding 1) convolution of one-hot label planes, without convolving them: the
    planes are constant, so the response at an output pixel is the sum of the label's kernel
    taps that fall inside the zero-padded image. ``y`` (N, pack) int labels of each packed
    image, ``kernel`` (4, 4, pack, classes, O) -> (N, height // 2, width // 2, O)."""
    per_class = jnp.einsum(
        "ia,jb,abpko->pkijo", _valid_taps(height), _valid_taps(width), kernel
    )  # (pack, classes, H/2, W/2, O), one map per packed slot and class
    return sum(per_class[p, y[:, p]] for p in range(y.shape[1]))


def pack_images(x, pack: int):
    """(N, H, W, C) -> (N // pack, H, W, pack * C): each ``pack`` consecutive images as one."""
    n, h, w, c = x.shape
    if n % pack:
        raise InputError(f"Discriminator(pack={pack}) needs a batch divisible by it, got {n}")
    return x.reshape(n // pack, pack, h, w, c).transpose(0, 2, 3, 1, 4).reshape(-1, h, w, pack * c)


class Generator(nn.Module):
    """G(z) or, with ``num_classes``, cG(z, y). ``__call__(z (N, z_dim), y (N,) int or None,
    train) -> images (N, image_size, image_size, channels)`` in [-1, 1]."""

    image_size: int = 28
    width: int = 64
    channels: int = 1
    num_classes: Optional[int] = None
    layers: Layers = FLAX

    @nn.compact
    def __call__(self, z, y=None, *, train: bool = False):
        _check_labels("Generator", self.num_classes, y)
        n_up = num_upsamplings(self.image_size)
        start = self.image_size // 2**n_up
        if y is not None:
            z = jnp.concatenate([z, jax.nn.one_hot(y, self.num_classes)], axis=-1)
        features = self.width * 2 ** (n_up - 1)
        x = self.layers.dense(start * start * features, kernel_init=INIT, name="project")(z)
        x = nn.relu(_batch_norm(train, "bn0")(x.reshape(-1, start, start, features)))
        for i in range(1, n_up):
            features //= 2
            x = self.layers.conv_transpose(
                features, (4, 4), (2, 2), padding="SAME", kernel_init=INIT, name=f"deconv{i}"
            )(x)
            x = nn.relu(_batch_norm(train, f"bn{i}")(x))
        x = self.layers.conv_transpose(
            self.channels, (4, 4), (2, 2), padding="SAME", kernel_init=INIT, name=f"deconv{n_up}"
        )(x)
        return jnp.tanh(x)


class Discriminator(nn.Module):
    """D(x) or, with ``num_classes``, cD(x, y). ``__call__(x (N, H, W, C) in [-1, 1], y (N,) int
    or None, train) -> logits (N // pack,)`` (sigmoid = probability that x is real). With
    ``pack`` > 1 (PacGAN, Lin et al. 2018) D judges ``pack`` consecutive images at once, stacked
    as channels: a generator that repeats a few modes is easier to tell from real data."""

    image_size: int = 28
    width: int = 64
    num_classes: Optional[int] = None
    pack: int = 1
    layers: Layers = FLAX

    @nn.compact
    def __call__(self, x, y=None, *, train: bool = False):
        _check_labels("Discriminator", self.num_classes, y)
        height, width = x.shape[1], x.shape[2]
        x = pack_images(x, self.pack)
        features = self.width
        for i in range(num_upsamplings(self.image_size)):
            x = self.layers.conv(
                features,
                (4, 4),
                (2, 2),
                padding=((1, 1), (1, 1)),
                kernel_init=INIT,
                name=f"conv{i + 1}",
            )(x)
            if i == 0 and y is not None:
                shape = (4, 4, self.pack, self.num_classes, features)
                kernel = self.param("conv1_labels", INIT, shape)
                x = x + label_response(y.reshape(-1, self.pack), kernel, height, width)
            if i > 0:
                x = _batch_norm(train, f"bn{i + 1}")(x)
            x = nn.leaky_relu(x, 0.2)
            features *= 2
        return self.layers.dense(1, kernel_init=INIT, name="logit")(x.reshape(x.shape[0], -1))[:, 0]
