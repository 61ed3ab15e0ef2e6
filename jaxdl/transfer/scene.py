"""The study's 15-Scene method on frozen-network features, every choice by cross-validation on
the training set (the test split only scores).

The steps: a linear SVM per layer, raw and L2-normalised (the practical's Table 1.1), the best
layer by CV; the fused L2-normalised features of a run of consecutive layers (the run chosen by
CV); those features averaged over mirrored views; joined by the features of whole-image views
at larger sides (the sides chosen by CV); an RBF SVM on the result. ``classify_scenes`` runs
them on any features a ``Features`` callback gives, so it runs on your own data and network.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y_train, y_test = np.repeat(np.arange(3), 20), np.repeat(np.arange(3), 10)
>>> def features(split, layers, views, side):
...     y = y_train if split == "train" else y_test
...     return {layer: rng.normal(size=(len(y), 8)) + 4 * np.eye(8)[y] for layer in layers}
>>> method = SceneMethod(scales=(), rbf=False, cv_folds=3)
>>> result = classify_scenes(features, y_train, y_test, layers=("a", "b"), span=("a", "b"),
...                          method=method)
>>> [s.name for s in result.tried], result.best.accuracy > 0.9
(['fusion a+b', 'fusion + flip views'], True)
"""

import dataclasses
from typing import Callable

import numpy as np

from jaxdl.options import check_fields, option
from jaxdl.transfer import classifiers as clf
from jaxdl.transfer.features import Preprocessing

# features(split "train" | "test", layers, views "center" | "flip" | "tencrop", whole-image side
# or None for the standard crop) -> {layer: (N, D)}
Features = Callable[[str, tuple, str, int | None], dict]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SceneMethod:
    """The choices of the study's 15-Scene method (its defaults are the chapter's)."""

    svm_c: tuple[float, ...] = option(
        (0.001, 0.01, 0.1, 1.0, 10.0, 100.0), "SVM C values cross-validated", min=0
    )
    cv_folds: int = option(5, "cross-validation folds", min=2)
    views: str = option(
        "flip",
        "views averaged for the fused features: flip, tencrop or center (off)",
        choices=("flip", "tencrop", "center"),
    )
    scales: tuple[int, ...] = option(
        (320, 384),
        "sides of whole-image views (resized, not cropped) whose fused features join the "
        "standard view's; the set is chosen by CV among each side and all together (empty: off)",
        min=32,
    )
    channels: str = option(
        "grey_folded",
        "grey_folded (conv1 summed over colour) or rgb (grey replicated)",
        choices=("grey_folded", "rgb"),
    )
    rbf: bool = option(True, "an RBF SVM on the best features")
    seed: int = option(0, "random seed")

    def __post_init__(self):
        check_fields(self)

    def preprocessing(self, **network) -> Preprocessing:
        """The image preprocessing of the method's standard view (15-Scene is grey: folded into
        conv1 by default); ``network``: the weights' ``size``, ``resize`` and ``norm``."""
        return Preprocessing(channels=self.channels, **network)


@dataclasses.dataclass(frozen=True)
class Scored:
    """One classifier's test predictions: ``name``, why it was tried, predictions, accuracy, and
    for an SVM its C and the cross-validated accuracy on the training set that chose it."""

    name: str
    why: str
    y_pred: np.ndarray
    accuracy: float
    C: float | None = None
    cv_accuracy: float | None = None


@dataclasses.dataclass(frozen=True)
class Choice:
    """A choice among candidates by CV: the chosen one, its fitted SVM, and a row per
    candidate (``label``, ``dim``, ``cv_accuracy``, ``C``)."""

    chosen: tuple
    fit: clf.SVMFit
    rows: list[dict]


@dataclasses.dataclass(frozen=True)
class SceneResult:
    """Table 1.1's rows, the best layer by CV and its normalised SVM (the baseline), the
    improvements tried in order, the fusion and side choices, and the fused features (train,
    test) the last SVM was fitted on."""

    table: list[dict]
    best_layer: str
    baseline: Scored
    tried: list[Scored]
    fusion: Choice
    sides: Choice | None
    fused: tuple[np.ndarray, np.ndarray]

    @property
    def best(self) -> Scored:
        return chosen_by_cv([self.baseline] + self.tried)


def fit_svm(x, y, method: SceneMethod, normalize: bool = False, kernel: str = "linear"):
    """An SVM on the training features, C by the method's cross-validation."""
    return clf.fit_svm(
        x,
        y,
        normalize=normalize,
        kernel=kernel,
        cs=method.svm_c,
        folds=method.cv_folds,
        seed=method.seed,
    )


def scored(name: str, why: str, fit: clf.SVMFit, test_x, y_test) -> Scored:
    """``fit`` scored on the test features."""
    return Scored(
        name, why, fit.predict(test_x), fit.accuracy(test_x, y_test), fit.C, fit.cv_accuracy
    )


def chosen_by_cv(candidates) -> Scored:
    """The classifier with the best cross-validated training accuracy (the first of equals):
    the test split plays no part in the choice."""
    return max((s for s in candidates if s.cv_accuracy is not None), key=lambda s: s.cv_accuracy)


def layer_table(train: dict, test: dict, y_train, y_test, layers, method: SceneMethod):
    """Table 1.1: per layer its dim and the test accuracy of a linear SVM on the raw and the
    L2-normalised features with the chosen Cs; returns (rows, {layer: normalised Scored})."""
    rows, normalised = [], {}
    for layer in layers:
        raw = scored(layer, "", fit_svm(train[layer], y_train, method), test[layer], y_test)
        fit = fit_svm(train[layer], y_train, method, normalize=True)
        normalised[layer] = scored(f"{layer} (L2)", "", fit, test[layer], y_test)
        rows.append(
            {
                "layer": layer,
                "dim": train[layer].shape[1],
                "accuracy": round(raw.accuracy, 4),
                "accuracy_normalised": round(normalised[layer].accuracy, 4),
                "C": raw.C,
                "C_normalised": normalised[layer].C,
            }
        )
    return rows, normalised


def fusion_candidates(span: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Every run of at least two consecutive layers of ``span`` that ends at its last layer,
    shortest first (fire8+fire9, fire7..fire9, ..., the whole span)."""
    if len(span) < 2:
        return (tuple(span),)
    return tuple(span[start:] for start in range(len(span) - 2, -1, -1))


def side_candidates(scales: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """The whole-image view sides to choose from: each side alone, then all of them."""
    singles = tuple((side,) for side in scales)
    return singles + ((tuple(scales),) if len(scales) > 1 else ())


def choose(candidates, blocks_of: Callable, y_train, method: SceneMethod, label) -> Choice:
    """The candidate whose fused ``blocks_of(candidate)`` (training features) gives the best
    cross-validated accuracy; every candidate's row named by ``label(candidate)``."""
    fits = {c: fit_svm(clf.concat_normalized(blocks_of(c)), y_train, method) for c in candidates}
    rows = [
        {
            "candidate": label(c),
            "dim": sum(b.shape[1] for b in blocks_of(c)),
            "cv_accuracy": round(fits[c].cv_accuracy, 4),
            "C": fits[c].C,
        }
        for c in candidates
    ]
    best = max(candidates, key=lambda c: fits[c].cv_accuracy)
    return Choice(best, fits[best], rows)


def among(choice: Choice, method: SceneMethod) -> str:
    n = len(choice.rows)
    return f" (chosen by {method.cv_folds}-fold CV among {n})" if n > 1 else ""


def classify_scenes(
    features: Features,
    y_train,
    y_test,
    *,
    layers: tuple[str, ...],
    span: tuple[str, ...],
    method: SceneMethod = SceneMethod(),
    fusion: tuple[str, ...] | None = None,
) -> SceneResult:
    """The method on ``features``: Table 1.1 over ``layers``, the fusion (``fusion``, or chosen
    by CV among ``fusion_candidates(span)``), its mirrored views, whole-image views at the
    sides CV picks among ``method.scales``, and an RBF SVM."""
    center = features("train", layers, "center", None), features("test", layers, "center", None)
    table, normalised = layer_table(*center, y_train, y_test, layers, method)
    best_layer = max(normalised, key=lambda layer: normalised[layer].cv_accuracy)
    candidates = (tuple(fusion),) if fusion else fusion_candidates(span)
    base = features("train", span, "center", None), features("test", span, "center", None)
    fused = choose(candidates, lambda c: [base[0][x] for x in c], y_train, method, "+".join)
    blocks = ([base[0][x] for x in fused.chosen], [base[1][x] for x in fused.chosen])
    tried = [
        scored(
            f"fusion {'+'.join(fused.chosen)}{among(fused, method)}",
            "earlier layers keep more spatial/texture detail that scene categories need; "
            "concatenating L2-normalised blocks lets the SVM weigh them",
            fused.fit,
            clf.concat_normalized(blocks[1]),
            y_test,
        )
    ]
    if method.views != "center":
        blocks = views_blocks(features, fused.chosen, method.views)
        fit = fit_svm(clf.concat_normalized(blocks[0]), y_train, method)
        why = (
            "averaging the features of mirrored (and shifted) views removes left/right and "
            "crop-position noise; scenes are mirror-symmetric"
        )
        tried.append(
            scored(
                f"fusion + {method.views} views", why, fit, clf.concat_normalized(blocks[1]), y_test
            )
        )
    sides = None
    if method.scales:
        sides, blocks, whole = whole_images(features, fused.chosen, blocks, y_train, method)
        whole_name = f"{tried[-1].name} + {whole}"
        why = (
            "the standard view is a centre crop at ImageNet's object scale; the whole scene, "
            "enlarged, shows the network its layout and its small parts at the sizes it detects"
        )
        tried.append(scored(whole_name, why, sides.fit, clf.concat_normalized(blocks[1]), y_test))
    x = clf.concat_normalized(blocks[0]), clf.concat_normalized(blocks[1])
    if method.rbf:
        why = (
            "a non-linear kernel can separate classes that share a linear direction "
            "(kitchen / living room / bedroom)"
        )
        fit = fit_svm(x[0], y_train, method, kernel="rbf")
        tried.append(scored("RBF SVM on the features of the row above", why, fit, x[1], y_test))
    return SceneResult(table, best_layer, normalised[best_layer], tried, fused, sides, x)


def views_blocks(features: Features, layers, views: str):
    """(train, test) feature blocks of ``layers`` averaged over ``views``."""
    return tuple(
        [f[layer] for layer in layers]
        for f in (features(split, layers, views, None) for split in ("train", "test"))
    )


def whole_images(features: Features, layers, blocks, y_train, method: SceneMethod):
    """``blocks`` joined by the whole-image features at the sides CV chooses: (the choice, the
    joined (train, test) blocks, a name for them)."""
    views = "center" if method.views == "center" else "flip"
    scaled = {
        side: tuple(features(split, layers, views, side) for split in ("train", "test"))
        for side in method.scales
    }

    def joined(split: int, sides):
        return blocks[split] + [scaled[side][split][x] for side in sides for x in layers]

    choice = choose(
        side_candidates(method.scales),
        lambda c: joined(0, c),
        y_train,
        method,
        lambda c: "+".join(map(str, c)),
    )
    name = f"whole image at {'+'.join(f'{s}px' for s in choice.chosen)}{among(choice, method)}"
    return choice, (joined(0, choice.chosen), joined(1, choice.chosen)), name
