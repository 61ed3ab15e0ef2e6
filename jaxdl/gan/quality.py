"""How good are generated digits? Scores computed with a small MNIST classifier.

- Classifier Inception Score ``exp(E_x KL(p(y|x) || p(y)))``: high (up to 10) when each
  sample is confidently one digit and all digits occur; real MNIST scores about 9.9.
- Frechet distance between Gaussians fitted to the classifier's penultimate 128-d
  ``features`` of the samples and of a reference set (the MNIST test set); 0 is perfect.
- Label accuracy (conditional GANs): how often the classifier recovers the requested label.

The classifier (``mnist_cnn``) is trained once and cached on disk, keyed by the training
data's hash, the seed and the epochs, so every run scores with the same network.
"""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.models import get_model
from jaxdl.paths import cache_dir
from jaxdl.train.classifier import fit_classifier, predict_classes
from jaxdl.weights import load_params, save_params

ARCH = "mnist_cnn"
INPUT_SIZE = 28


def data_hash(*arrays) -> str:
    """Short sha256 of the arrays' shapes, dtypes and bytes."""
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.shape}{a.dtype}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()[:16]


def to_classifier_input(images):
    """Images (N, H, W[, 1]) uint8 0..255 or float in [0, 1] -> float32 (N, 28, 28, 1) in [0, 1]."""
    images = jnp.asarray(images)
    images = (
        images.astype(jnp.float32) / 255.0
        if images.dtype == jnp.uint8
        else images.astype(jnp.float32)
    )
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:3] != (INPUT_SIZE, INPUT_SIZE):
        images = jax.image.resize(
            images, (len(images), INPUT_SIZE, INPUT_SIZE, images.shape[-1]), "linear"
        )
    return images


def classifier_path(x_train, y_train, *, seed: int = 0, epochs: int = 4, cache=None):
    """Where ``quality_classifier`` caches the classifier of this data, seed and epochs."""
    key = data_hash(x_train, np.asarray(y_train, np.int64))  # the same labels in any int dtype
    return cache_dir(cache) / f"gan_quality_{ARCH}_{key}_s{seed}_e{epochs}.npz"


def quality_classifier(
    x_train, y_train, *, seed: int = 0, epochs: int = 4, cache=None, progress=None
):
    """``(params, path, trained)``: the mnist_cnn trained on (x_train uint8 (N,28,28), y_train),
    read from the cache when this data/seed/epochs was trained before; ``progress(steps)`` is
    called as training goes (``fit_classifier``)."""
    path = classifier_path(x_train, y_train, seed=seed, epochs=epochs, cache=cache)
    key = path.stem.split("_")[3]
    if path.is_file():
        return load_params(path, ARCH)[0], path, False
    params = fit_classifier(
        get_model(ARCH),
        np.asarray(to_classifier_input(x_train)),
        np.asarray(y_train),
        epochs=epochs,
        batch_size=128,
        learning_rate=1e-3,
        seed=seed,
        progress=progress,
    )
    save_params(
        path, params, {"architecture": ARCH, "seed": seed, "epochs": epochs, "data_sha256_16": key}
    )
    return params, path, True


def classifier_accuracy(params, x, y) -> float:
    """Top-1 accuracy of the quality classifier on images x (uint8 or [0,1] floats)."""
    return float(
        (
            predict_classes(get_model(ARCH), params, np.asarray(to_classifier_input(x)))
            == np.asarray(y)
        ).mean()
    )


@jax.jit
def classifier_outputs(params, images):
    """Images (N, 28, 28, 1) in [0, 1] -> (probabilities (N, 10), features (N, 128)),
    evaluated in chunks of 256 images."""
    module = get_model(ARCH)

    def one(image):
        logits, acts = module.apply({"params": params}, image[None])
        return jax.nn.softmax(logits[0]), acts["features"][0]

    return jax.lax.map(one, images, batch_size=256)


def inception_score(probs) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` of class probabilities (N, K); between 1 and K."""
    probs = np.asarray(probs, np.float64)
    marginal = probs.mean(axis=0, keepdims=True)
    kl = np.sum(probs * (np.log(probs + 1e-12) - np.log(marginal + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


def class_shares(probs) -> np.ndarray:
    """The share of the images (N, K probabilities) the classifier puts in each class (K,): a
    generator that covers every digit evenly gives about 1/K each, a mode-dropping one zeros."""
    probs = np.asarray(probs)
    return np.bincount(probs.argmax(axis=1), minlength=probs.shape[1]) / len(probs)


def share_distance(shares) -> float:
    """Total-variation distance of class shares (K,) from the uniform 1/K: 0 for even coverage,
    1 - 1/K for a generator of one class only."""
    shares = np.asarray(shares, np.float64)
    return float(0.5 * np.abs(shares - 1.0 / len(shares)).sum())


def gaussian_stats(features):
    """Mean (D,) and covariance (D, D) of features (N, D), in float64."""
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(stats_a, stats_b) -> float:
    """``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between two (mean, cov) pairs;
    the trace of the matrix root is computed from the symmetric ``S_a^(1/2) S_b S_a^(1/2)``."""
    (mu_a, cov_a), (mu_b, cov_b) = stats_a, stats_b
    root_a = _sqrt_psd(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0.0, None)).sum()
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)


def quality_scores(params, images, reference_stats, labels=None) -> dict:
    """Scores of a set of images (uint8, or floats in [0, 1]; 28x28 or resized to it):
    ``inception_score``, ``frechet_distance`` to ``reference_stats`` (from ``gaussian_stats``
    of the reference features), ``class_shares`` (a K-tuple, see ``class_shares``), their
    ``share_distance`` from uniform and, when the requested ``labels`` are given,
    ``label_accuracy``."""
    probs, features = classifier_outputs(params, to_classifier_input(images))
    shares = class_shares(probs)
    scores = {
        "inception_score": inception_score(probs),
        "frechet_distance": frechet_distance(gaussian_stats(features), reference_stats),
        "class_shares": tuple(float(v) for v in shares),
        "share_distance": share_distance(shares),
    }
    if labels is not None:
        scores["label_accuracy"] = float(
            (np.asarray(probs).argmax(axis=1) == np.asarray(labels)).mean()
        )
    return scores


def reference_stats(params, images):
    """(mean, cov) of the classifier features of the reference images (e.g. the MNIST test set)."""
    return gaussian_stats(classifier_outputs(params, to_classifier_input(images))[1])
