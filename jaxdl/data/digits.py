"""scikit-learn's 8x8 digits, upsampled: embedded data for offline demos and tests."""

import numpy as np
from PIL import Image


def load_digits_images(size: int = 28):
    """(x (1797, size, size) uint8 in 0..255, y (1797,) int64) from sklearn's bundled digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = (digits.images * (255.0 / 16.0)).round().astype(np.uint8)
    x = np.stack(
        [np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in small]
    )
    return x, digits.target.astype(np.int64)
