"""What chapter 2's methods and figures run on: a model, its params and its inputs, either an
ImageNet network on ImageNet images or the digits CNN (the offline fallback)."""

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments.common import Kernels, load_weights, preprocessing, read_image_subset
from experiments.digits import digits_classifier
from jaxdl import imagenet
from jaxdl.errors import InputError
from jaxdl.interpret import ModuleLogits
from jaxdl.models import get_model

WEIGHTS = "weights/squeezenet1_1_onnx_zoo"
IMAGES = "imagenet/imagenet_val_25.npz"
VAL_SUBSET = "imagenet/val_subset"


@dataclasses.dataclass(frozen=True)
class Subject:
    """A model with its inputs: everything the methods and figures need, ImageNet or digits."""

    name: str
    module: object
    params: dict
    x: jax.Array  # (N,H,W,C) network inputs
    labels: np.ndarray  # (N,) true classes
    bounds: tuple
    norm: object  # imagenet.Normalization, or None for inputs already in [0, 1]
    class_names: tuple
    gradcam_layer: str
    logits_fn: ModuleLogits

    def display(self, x) -> np.ndarray:
        """Network inputs -> [0,1] images for figures (grey images lose their channel axis)."""
        rgb = np.asarray(imagenet.deprocess(x, self.norm) if self.norm else jnp.clip(x, 0, 1))
        return rgb[..., 0] if rgb.shape[-1] == 1 else rgb

    def label(self, index) -> str:
        """The class name of ``index``; "unknown" for -1 (an image file carries no label)."""
        return "unknown" if int(index) < 0 else self.class_names[int(index)]


def has_imagenet(config, data: Path | None) -> bool:
    """Whether the data folder (or ``config.weights``) has what the ImageNet subject needs."""
    return (
        data is not None
        and bool(config.weights or (data / WEIGHTS).exists())
        and (data / IMAGES).exists()
    )


def imagenet_subject(
    model: str, weights, kernels: Kernels, images, labels, gradcam_layer: str, resample="auto"
) -> Subject:
    """The ImageNet network ``model`` with ``weights`` on uint8 ``images`` (labels -1: unknown;
    ``resample`` as in ``imagenet.preprocess``: images at the input size go in as given)."""
    params, meta = load_weights(model, weights)
    pre = preprocessing(meta)
    x = jnp.concatenate(
        [imagenet.preprocess(jnp.asarray(im), **pre, resample=resample) for im in images]
    )
    module = get_model(model, layers=kernels.layers)
    names = tuple(imagenet.short_name(i) for i in range(1000))
    return Subject(
        model,
        module,
        params,
        x,
        np.asarray(labels),
        imagenet.pixel_bounds(pre["norm"]),
        pre["norm"],
        names,
        gradcam_layer,
        kernels.logits_fn(module, tuple(x.shape[1:])),
    )


def chapter_subject(config, data: Path | None, kernels: Kernels) -> Subject:
    """The chapter's subject: ``config.image_indices`` of imagenet_val_25.npz, else the digits
    CNN."""
    if not has_imagenet(config, data):
        return digits_subject(config, kernels)
    images, labels = read_image_subset(data / IMAGES, config.image_indices)
    return imagenet_subject(
        config.model,
        config.weights or str(data / WEIGHTS),
        kernels,
        images,
        labels,
        config.gradcam_layer,
    )


def val_subject(config, data: Path | None, kernels: Kernels) -> Subject | None:
    """The first ``config.val_images`` images of imagenet/val_subset (resized to 256 and
    centre-cropped as the weights expect) with the chapter's network, or None when they or the
    weights are absent or ``val_images`` is 0."""
    from experiments.predict import read_labels
    from jaxdl.data.images import load_images

    folder = data / VAL_SUBSET if data is not None else None
    if not config.val_images or folder is None or not folder.is_dir():
        return None
    if not has_imagenet(config, data):
        return None
    weights = config.weights or str(data / WEIGHTS)
    files, labels = read_labels(folder / "labels.txt")
    files, labels = files[: config.val_images], labels[: config.val_images]
    pre = preprocessing(load_weights(config.model, weights)[1])
    images, kept = load_images([folder / "images" / f for f in files], pre["size"], pre["resize"])
    subject = imagenet_subject(
        config.model, weights, kernels, images, labels[kept], config.gradcam_layer
    )
    return dataclasses.replace(subject, name=f"{subject.name} (imagenet/val_subset)")


def digits_subject(config, kernels: Kernels) -> Subject:
    digits = digits_classifier(config.seed, kernels.layers)
    picked = np.arange(len(config.image_indices))
    x = jnp.asarray(digits.x_test[picked])
    return Subject(
        "digits CNN",
        digits.module,
        digits.params,
        x,
        digits.y_test[picked],
        (jnp.zeros(1), jnp.ones(1)),
        None,
        tuple(str(d) for d in range(10)),
        "conv2",
        kernels.logits_fn(digits.module, tuple(x.shape[1:])),
    )


def resolve_class(subject: Subject, name) -> int:
    """A class index of the subject's model from a name or index (a clear error otherwise)."""
    if subject.norm is not None:
        return imagenet.class_index(name)
    if str(name).isdigit() and int(name) < len(subject.class_names):
        return int(name)
    raise InputError(f"unknown class {name!r}: expected a digit 0..{len(subject.class_names) - 1}")
