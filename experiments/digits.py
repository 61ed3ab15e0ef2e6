"""The offline fallback of the ImageNet chapters: a small CNN trained on scikit-learn's digits."""

import dataclasses

import numpy as np

from jaxdl.data.digits import load_digits_images
from jaxdl.layers import FLAX, Layers
from jaxdl.models import get_model
from jaxdl.train.classifier import fit_classifier

TRAIN = 1400  # the first 1400 of the 1797 digits train the CNN, the rest are its test images


@dataclasses.dataclass(frozen=True)
class DigitsClassifier:
    module: object
    params: dict
    x_test: np.ndarray  # (397, 28, 28, 1) float32 in [0, 1]
    y_test: np.ndarray  # (397,) int


def digits_classifier(seed: int, layers: Layers = FLAX) -> DigitsClassifier:
    """``mnist_cnn`` trained 8 epochs on the first ``TRAIN`` digits (28x28, [0, 1])."""
    x, y = load_digits_images(28)
    x = x[..., None].astype(np.float32) / 255.0
    module = get_model("mnist_cnn", layers=layers)
    params = fit_classifier(module, x[:TRAIN], y[:TRAIN], epochs=8, batch_size=64, seed=seed)
    return DigitsClassifier(module, params, x[TRAIN:], y[TRAIN:])
