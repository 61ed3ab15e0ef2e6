"""The DANN MNIST architecture (Ganin et al. 2016, section 5.2.2): a feature extractor
(conv 5x5x32 - pool - conv 5x5x48 - pool), a label predictor (100-100-10) and a domain
classifier (100-1 logit) behind a gradient reversal layer."""

from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.dann.grl import grad_reverse
from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers

DANN_LAYERS = ("conv1", "conv2", "features", "logits", "domain_logits")


class DANN(nn.Module):
    """Input (N,32,32,C) float (uint8 images scaled by ``preprocess``). Returns
    ``(class logits (N,10), intermediates)`` with ``conv1``, ``conv2`` (post-ReLU maps),
    ``features`` (N, 25 widths[1]: 1200 for the paper's widths), ``logits`` and
    ``domain_logits`` (N,) of the domain classifier applied to ``grad_reverse(features, lam)``
    (lam=0: its gradient does not reach the features; negative lam: the features help the
    domain classifier, i.e. no reversal)."""

    num_classes: int = 10
    hidden: int = 100
    widths: tuple[int, int] = (32, 48)  # conv1, conv2 channels (the paper's)
    layers: Layers = FLAX

    @nn.compact
    def __call__(self, x, *, lam=0.0, train: bool = False, stop_at: Optional[str] = None):
        if stop_at is not None and stop_at not in DANN_LAYERS:
            raise InputError(f"unknown DANN layer {stop_at!r}; valid: {', '.join(DANN_LAYERS)}")
        conv, dense = self.layers.conv, self.layers.dense
        acts = {}
        for i, channels in enumerate(self.widths, start=1):
            x = acts[f"conv{i}"] = nn.relu(
                conv(channels, (5, 5), padding="VALID", name=f"conv{i}")(x)
            )
            if stop_at == f"conv{i}":
                return x, acts
            x = self.layers.max_pool(x, 2, 2)
        features = acts["features"] = x.reshape(x.shape[0], -1)
        if stop_at == "features":
            return features, acts
        h = nn.relu(dense(self.hidden, name="label_fc1")(features))
        h = nn.relu(dense(self.hidden, name="label_fc2")(h))
        logits = acts["logits"] = dense(self.num_classes, name="label_out")(h)
        d = nn.relu(dense(self.hidden, name="domain_fc1")(grad_reverse(features, jnp.float32(lam))))
        acts["domain_logits"] = dense(1, name="domain_out")(d)[:, 0]
        return logits, acts


def preprocess(images):
    """uint8 (N,32,32,3) -> float32 in [-1, 1]."""
    return images.astype(jnp.float32) / 127.5 - 1.0


def standardize(images):
    """uint8 (N,32,32,3) -> float32 with zero mean and (about) unit variance per image and
    channel (removes the colour and brightness of MNIST-M's backgrounds)."""
    x = images.astype(jnp.float32)
    mean, std = x.mean(axis=(1, 2), keepdims=True), x.std(axis=(1, 2), keepdims=True)
    return (x - mean) / (std + 1.0)


def center(images, pixel_mean):
    """uint8 (N,32,32,3) -> float32 ``(x - pixel_mean) / 255``: the per-channel mean (3,) of the
    training pixels of both domains removed, as in the reimplementations of the paper's
    MNIST -> MNIST-M experiment."""
    return (images.astype(jnp.float32) - jnp.asarray(pixel_mean, jnp.float32)) / 255.0


INPUT_NORMS = ("mean", "scale", "standardize")


def input_norm(name: str, pixel_mean=None):
    """The input normalisation ``name`` (one of ``INPUT_NORMS``) as ``fn(uint8 images) ->
    float32``; ``"mean"`` needs ``pixel_mean`` (3,) (``pixel_mean_of`` the training images)."""
    if name == "mean":
        if pixel_mean is None:
            raise InputError("input norm 'mean' needs the training pixels' mean (pixel_mean)")
        return lambda images: center(images, pixel_mean)
    if name == "scale":
        return preprocess
    if name == "standardize":
        return standardize
    raise InputError(f"unknown input norm {name!r}; expected one of {INPUT_NORMS}")


def pixel_mean_of(*image_sets) -> tuple[float, float, float]:
    """Per-channel mean of uint8 image sets (N,H,W,3) pooled, as floats (for ``center``)."""
    total = sum(x.reshape(-1, x.shape[-1]).sum(0, dtype=np.float64) for x in image_sets)
    count = sum(x.size // x.shape[-1] for x in image_sets)
    return tuple(float(v) for v in total / count)


def invert_channels(key, images, p: float = 0.5):
    """uint8 (N,H,W,C) -> uint8: each channel of each image replaced by ``255 - channel`` with
    probability ``p`` (MNIST-M digits are ``|photo - digit|``: their strokes are darker or lighter
    than the background and coloured; inverting grey MNIST channels at random shows the source
    classifier both polarities and 2^C colourings)."""
    flip = jax.random.bernoulli(key, p, (images.shape[0], 1, 1, images.shape[-1]))
    return jnp.where(flip, 255 - images, images)


def random_shift(key, images, pixels: int):
    """uint8 (N,H,W,C) -> uint8: each image translated by its own random offset of up to
    ``pixels`` in each direction, the border pixels repeated into the gap."""
    if pixels == 0:
        return images
    n, h, w, _ = images.shape
    padded = jnp.pad(images, ((0, 0), (pixels, pixels), (pixels, pixels), (0, 0)), mode="edge")
    offsets = jax.random.randint(key, (n, 2), 0, 2 * pixels + 1)

    def crop(image, offset):
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, image.shape[-1]))

    return jax.vmap(crop)(padded, offsets)


AUGMENTATIONS = {"none": lambda key, images: images, "invert": invert_channels}
