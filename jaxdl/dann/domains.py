"""The two domains of chapter 3 as checked arrays: MNIST -> MNIST-M from a data folder, or a
small embedded stand-in (scikit-learn digits -> the same digits blended with its sample
photos), and the per-seed batches of both that the methods train on."""

import dataclasses
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxdl.dann.network import pixel_mean_of
from jaxdl.data.digits import load_digits_images
from jaxdl.data.mnist import load_mnist, to_rgb32
from jaxdl.data.mnist_m import blend_mnist_m, load_mnist_m, load_photos, sample_photos
from jaxdl.train.batches import array_stream

EMBEDDED = "embedded: scikit-learn digits -> digits blended with scikit-learn sample photos"


class Domain(NamedTuple):
    """One domain's images (N, 32, 32, 3) uint8 and labels (N,) int, train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclasses.dataclass(frozen=True)
class Domains:
    """Source and target, what they are (``description``), and the mean RGB pixel of both
    training sets (the ``input_norm="mean"`` normalisation's)."""

    source: Domain
    target: Domain
    description: str

    @property
    def pixel_mean(self) -> tuple[float, float, float]:
        return pixel_mean_of(self.source.x_train, self.target.x_train)

    @property
    def embedded(self) -> bool:
        return self.description == EMBEDDED


def load_domains(data: Path | None, *, build_target: bool = False, seed: int = 0) -> Domains:
    """MNIST -> MNIST-M when ``data`` holds ``mnist/mnist.npz`` (MNIST-M read from
    ``mnist_m/mnist_m.npz``, or built from the ``bsds500`` photos when ``build_target`` or
    absent); else the embedded stand-in (720 source and 720 target training images, the rest
    test)."""
    mnist = Path(data) / "mnist" / "mnist.npz" if data else None
    if mnist is None or not mnist.is_file():
        return embedded_domains(seed)
    (xs, ys), (xs_t, ys_t) = load_mnist(mnist, "train"), load_mnist(mnist, "test")
    source = Domain(to_rgb32(xs), ys, to_rgb32(xs_t), ys_t)
    mnist_m = Path(data) / "mnist_m" / "mnist_m.npz"
    if mnist_m.is_file() and not build_target:
        (xt, yt), (xt_t, yt_t) = load_mnist_m(mnist_m, "train"), load_mnist_m(mnist_m, "test")
        return Domains(source, Domain(xt, yt, xt_t, yt_t), "MNIST -> MNIST-M (mnist_m.npz)")
    photos = load_photos(Path(data) / "bsds500")
    target = Domain(
        blend_mnist_m(source.x_train, photos, seed),
        ys,
        blend_mnist_m(source.x_test, photos, seed + 1),
        ys_t,
    )
    return Domains(source, target, "MNIST -> MNIST-M built from BSDS500 photos")


def embedded_domains(seed: int = 0) -> Domains:
    """scikit-learn's 1797 digits: 720 source and 720 other target training images (blended
    with its two sample photos), the remaining 357 the test set of both."""
    x, y = load_digits_images(28)
    x = to_rgb32(x)
    order = np.random.default_rng(seed).permutation(len(x))
    src, tgt, test = order[:720], order[720:1440], order[1440:]
    xt = blend_mnist_m(x, sample_photos(), seed)
    return Domains(
        Domain(x[src], y[src], x[test], y[test]),
        Domain(xt[tgt], y[tgt], xt[test], y[test]),
        EMBEDDED,
    )


def seed_batches(domains: Domains, batch_size: int, seed: int, start: int = 0):
    """The batches of one seed from step ``start``: its own source and target orders (streams
    ``2 seed`` and ``2 seed + 1``); the target labels ride along for ``target_only``."""
    source = array_stream(
        {"xs": domains.source.x_train, "ys": domains.source.y_train}, batch_size, 2 * seed, start
    )
    target = array_stream(
        {"xt": domains.target.x_train, "yt": domains.target.y_train},
        batch_size,
        2 * seed + 1,
        start,
    )
    return ({**s, **t} for s, t in zip(source, target))
