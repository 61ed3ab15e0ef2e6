"""Classifiers on frozen features: SVMs with C chosen by cross-validation, an optax linear head.

Features are (N, D) float arrays, labels (N,) ints. ``normalize=True`` scales every feature
vector to unit L2 norm first (the practical's "normalised" column).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.errors import InputError

KERNELS = ("linear", "rbf")


def l2_normalize(x, eps: float = 1e-12):
    """Rows of (N, D) scaled to unit L2 norm (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def concat_normalized(blocks):
    """Feature fusion: each (N, D_i) block L2-normalised, concatenated, scaled to unit norm."""
    return l2_normalize(np.concatenate([l2_normalize(b) for b in blocks], axis=-1))


def svm_pipeline(kernel: str = "linear", normalize: bool = False, seed: int = 0):
    """(optional L2 Normalizer) -> LinearSVC or SVC(rbf); C is set by the caller."""
    # scikit-learn sets process-wide OpenMP variables on import: imported when first used
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer
    from sklearn.svm import SVC, LinearSVC

    if kernel not in KERNELS:
        raise InputError(f"unknown SVM kernel {kernel!r}; expected one of {', '.join(KERNELS)}")
    # the primal solver: with N ~ D (1500 x 512..4096) liblinear's dual needs minutes at large C
    svm = (
        LinearSVC(dual=False, max_iter=5000, random_state=seed)
        if kernel == "linear"
        else SVC(kernel="rbf", gamma="scale")
    )
    return make_pipeline(*([Normalizer()] if normalize else []), svm)


@dataclasses.dataclass(frozen=True)
class SVMFit:
    """A fitted SVM: the sklearn ``model``, the chosen ``C`` and its mean CV accuracy."""

    model: object
    C: float
    cv_accuracy: float

    def predict(self, x) -> np.ndarray:
        return self.model.predict(np.asarray(x))

    def accuracy(self, x, y) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y)))


def fit_svm(
    x,
    y,
    *,
    normalize: bool = False,
    kernel: str = "linear",
    cs=(0.01, 0.1, 1.0, 10.0),
    folds: int = 5,
    seed: int = 0,
) -> SVMFit:
    """Fit an SVM on (N, D) features with C picked by stratified ``folds``-fold CV on (x, y)."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    step = "linearsvc" if kernel == "linear" else "svc"  # make_pipeline's step name
    search = GridSearchCV(
        svm_pipeline(kernel, normalize, seed),
        {f"{step}__C": list(cs)},
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        n_jobs=1,
    )
    search.fit(np.asarray(x), np.asarray(y))
    return SVMFit(
        search.best_estimator_, float(search.best_params_[f"{step}__C"]), float(search.best_score_)
    )


def fit_linear_head(
    x,
    y,
    num_classes: int,
    *,
    steps: int = 300,
    learning_rate: float = 0.05,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> dict:
    """Softmax regression on frozen (N, D) features, full-batch AdamW, one jitted ``lax.scan``.

    Returns ``{"kernel": (D, num_classes), "bias": (num_classes,)}``.
    """
    x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y)
    params = {
        "kernel": 0.01 * jax.random.normal(jax.random.key(seed), (x.shape[1], num_classes)),
        "bias": jnp.zeros(num_classes),
    }
    optimizer = optax.adamw(learning_rate, weight_decay=weight_decay)

    def loss(p):
        return optax.softmax_cross_entropy_with_integer_labels(linear_logits(p, x), y).mean()

    def step(state, _):
        p, opt_state = state
        grads = jax.grad(loss)(p)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return (optax.apply_updates(p, updates), opt_state), None

    @jax.jit
    def train(p):
        (p, _), _ = jax.lax.scan(step, (p, optimizer.init(p)), None, length=steps)
        return p

    return train(params)


def linear_logits(params, x):
    """(N, D) features -> (N, C) logits of a linear head."""
    return jnp.asarray(x) @ params["kernel"] + params["bias"]


def per_class_accuracy(y_true, y_pred, num_classes: int) -> np.ndarray:
    """(num_classes,) recall of each class (NaN for classes absent from ``y_true``)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    hits = np.bincount(y_true, weights=(y_true == y_pred), minlength=num_classes)
    counts = np.bincount(y_true, minlength=num_classes)
    return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts: row = true class, column = predicted."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix
