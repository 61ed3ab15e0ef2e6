"""ImageNet input conventions: preprocessing (jittable), its inverse, and class names."""

import dataclasses
import functools
import importlib.resources

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError


@dataclasses.dataclass(frozen=True)
class Normalization:
    """Per-channel ``(x - mean) / std`` on RGB values in [0, 1]; ``bgr`` flips to BGR after."""

    mean: tuple = (0.485, 0.456, 0.406)
    std: tuple = (0.229, 0.224, 0.225)
    bgr: bool = False


TORCHVISION = Normalization()
# Caffe: BGR, 0..255 minus the mean pixel (104, 117, 123 in BGR order).
CAFFE = Normalization(mean=(123 / 255, 117 / 255, 104 / 255), std=(1 / 255,) * 3, bgr=True)
NORMALIZATIONS = {"torchvision": TORCHVISION, "caffe": CAFFE}


def to_rgb(images):
    """(…,H,W), (…,H,W,1), (…,H,W,3) or (…,H,W,4) -> (…,H,W,3): grey replicated, alpha dropped."""
    if images.ndim == 2 or images.shape[-1] not in (1, 3, 4):
        images = images[..., None]
    channels = images.shape[-1]
    if channels == 1:
        return jnp.repeat(images, 3, axis=-1)
    return images[..., :3]


def _check_image_rank(images):
    if images.ndim not in (2, 3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3, 4)):
        raise InputError(
            f"expected an image (H,W), (H,W,C) or a batch (N,H,W,C) with C in 1/3/4, got shape "
            f"{images.shape}"
        )


RESAMPLE = ("auto", "always")


@functools.partial(jax.jit, static_argnames=("size", "resize", "norm", "resample"))
def preprocess(
    images,
    size: int = 224,
    resize: int | None = 256,
    norm: Normalization = TORCHVISION,
    resample: str = "auto",
):
    """Images -> network input (N, size, size, 3) float32.

    ``images``: uint8 in 0..255 or float in [0, 1]; (H,W), (H,W,C) or (N,H,W,C) with C in
    {1, 3, 4}. With ``resample="auto"`` images already ``size`` x ``size`` go in as they are
    (the CS231n convention: the network sees the very pixels given). Other images, and every
    image with ``resample="always"``, are resampled: with ``resize`` the shorter side is resized
    (bilinear, antialiased) to ``resize`` (the longer side truncated, as torchvision does) and
    the centre ``size`` x ``size`` crop is taken (torchvision's Resize(256) + CenterCrop(224));
    with ``resize=None`` the image is resized to ``size`` x ``size`` directly.
    """
    if resample not in RESAMPLE:
        raise InputError(f"resample: expected one of {', '.join(RESAMPLE)}, got {resample!r}")
    _check_image_rank(images)
    if images.dtype == jnp.uint8:
        images = images.astype(jnp.float32) / 255.0
    images = to_rgb(images.astype(jnp.float32))
    if images.ndim == 3:
        images = images[None]
    n, height, width, _ = images.shape
    if resample == "auto" and (height, width) == (size, size):
        return normalize(images, norm)
    if resize is None:
        images = jax.image.resize(images, (n, size, size, 3), "linear", antialias=True)
    else:
        scale = resize / min(height, width)
        new_h, new_w = max(size, int(height * scale)), max(size, int(width * scale))
        if (new_h, new_w) != (height, width):
            images = jax.image.resize(images, (n, new_h, new_w, 3), "linear", antialias=True)
        top, left = (new_h - size) // 2, (new_w - size) // 2
        images = images[:, top : top + size, left : left + size]
    return normalize(images, norm)


def normalize(images, norm: Normalization = TORCHVISION):
    """RGB float images in [0, 1] (…,3) -> normalised network input."""
    x = (images - jnp.asarray(norm.mean)) / jnp.asarray(norm.std)
    return x[..., ::-1] if norm.bgr else x


def deprocess(x, norm: Normalization = TORCHVISION):
    """Network input -> RGB float images in [0, 1] for display (clipped)."""
    if norm.bgr:
        x = x[..., ::-1]
    return jnp.clip(x * jnp.asarray(norm.std) + jnp.asarray(norm.mean), 0.0, 1.0)


def pixel_bounds(norm: Normalization = TORCHVISION):
    """(low, high) per channel of the network input that correspond to pixels 0 and 1."""
    low = normalize(jnp.zeros(3), norm)
    high = normalize(jnp.ones(3), norm)
    return low, high


def top_k(logits, k: int = 5):
    """(N, C) logits -> (class indices (N, k), probabilities (N, k)) as numpy, best first.

    >>> indices, probs = top_k(jnp.array([[0.0, 2.0, 1.0]]), 2)
    >>> indices.tolist(), [round(float(p), 3) for p in probs[0]]
    ([[1, 2]], [0.665, 0.245])
    """
    values, indices = jax.lax.top_k(jax.nn.softmax(logits, axis=-1), k)
    return np.asarray(indices), np.asarray(values)


@functools.lru_cache(maxsize=1)
def class_names() -> tuple:
    """The 1000 ImageNet class names in the torchvision/Caffe class order."""
    text = importlib.resources.files("jaxdl.resources").joinpath("imagenet_classes.txt").read_text()
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    assert len(names) == 1000, len(names)
    return names


def short_name(index: int) -> str:
    """The first synonym of class ``index``.

    >>> short_name(0), short_name(class_index("goldfinch"))
    ('tench', 'goldfinch')
    """
    return class_names()[index].split(",")[0]


def class_index(name_or_index) -> int:
    """A class index from an int, a digit string or a (case-insensitive) class name."""
    if isinstance(name_or_index, int) or str(name_or_index).isdigit():
        index = int(name_or_index)
        if not 0 <= index < 1000:
            raise InputError(f"class index {index} out of range: expected 0..999")
        return index
    wanted = str(name_or_index).strip().lower()
    for i, names in enumerate(class_names()):
        if wanted in (s.strip().lower() for s in names.split(",")):
            return i
    raise InputError(
        f"unknown ImageNet class {name_or_index!r}: give an index 0..999 or a name such as 'wombat'"
    )
