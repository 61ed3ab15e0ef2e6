"""Label-free conditioning: k-means clusters of the training images stand in for the labels of
a conditional GAN (self-conditioning, Liu et al. 2020, here with clusters fixed once in pixel
space). Drawing the cluster of each sample at its training share makes the generator
unconditional again, but pins every cluster's share of the samples to its share of the data,
so the generator cannot drop a mode that has a cluster of its own."""

import jax
import jax.numpy as jnp
import numpy as np

PCA_DIMS = 50  # k-means runs on this many principal components of the pixels


def kmeans_clusters(images, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W[, C]) -> (each image's cluster (N,) int32, each cluster's share of the
    images (k,) float, summing to 1): k-means (3 restarts) on the first ``PCA_DIMS`` principal
    components of the pixels scaled to [0, 1]."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    n = len(images)
    if not 2 <= k <= n:
        raise ValueError(f"k-means clusters: expected 2 <= k <= {n} (the images), got {k}")
    flat = np.asarray(images, np.float32).reshape(n, -1)
    flat = flat / 255.0 if np.asarray(images).dtype == np.uint8 else flat
    features = PCA(min(PCA_DIMS, *flat.shape), random_state=seed).fit_transform(flat)
    clusters = KMeans(k, n_init=3, random_state=seed).fit_predict(features).astype(np.int32)
    return clusters, np.bincount(clusters, minlength=k) / n


def sample_clusters(key, shares, n: int):
    """``n`` cluster ids (n,) int32 drawn independently with the probabilities ``shares`` (k,)."""
    return jax.random.categorical(key, jnp.log(jnp.asarray(shares)), shape=(n,)).astype(jnp.int32)


def purity(clusters, labels) -> float:
    """The share of the images whose label is the most frequent one of their cluster (1: every
    cluster holds a single class). Describes the clusters; training never sees the labels."""
    clusters, labels = np.asarray(clusters), np.asarray(labels)
    majority = sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters))
    return float(majority / len(labels))
