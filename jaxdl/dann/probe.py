"""How well features separate the domains, measured the same way for every method.

scikit-learn sets process-wide OpenMP variables on import, so it is imported when first used.
"""

import numpy as np


def domain_probe(features: np.ndarray, n: int) -> float:
    """The 5-fold cross-validated accuracy of a fresh logistic regression predicting the
    domain from ``features`` (2n, D), the first n source (0.5: the domains cannot be told
    apart). Unlike a method's own domain head (untrained for source only), it measures every
    method alike.

    >>> rng = np.random.default_rng(0)
    >>> same = rng.normal(size=(200, 8))
    >>> apart = np.concatenate([same[:100], same[100:] + 3.0])
    >>> domain_probe(same, 100) < 0.65, domain_probe(apart, 100) > 0.95
    (True, True)
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    domains = np.repeat([0, 1], [n, len(features) - n])
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    return float(cross_val_score(probe, features, domains, cv=min(5, n)).mean())


def embed_2d(features: np.ndarray, kind: str = "pca", seed: int = 0) -> np.ndarray:
    """``features`` (N, D) -> (N, 2) by PCA or t-SNE (``kind``), for a scatter by domain."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if kind == "tsne":
        return TSNE(2, init="pca", random_state=seed).fit_transform(features)
    return PCA(2, random_state=seed).fit_transform(features)
