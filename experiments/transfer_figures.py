"""Chapter 1's result figures: a classifier's confusion matrix and misclassified images."""

from pathlib import Path

import numpy as np

from jaxdl import viz
from jaxdl.transfer import classifiers as clf
from jaxdl.transfer.scene import Scored


def confusion_figure(y_true, y_pred, classes, title):
    """Row-normalised confusion matrix (true class = row) with the diagonal annotated."""
    matrix = clf.confusion_matrix(y_true, y_pred, len(classes)).astype(float)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = viz.new_figure(1, 1, size=(7.5, 6.5))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=90)
    ax.set_yticks(range(len(classes)), classes)
    for i in range(len(classes)):
        colour = "white" if matrix[i, i] > 0.5 else "black"
        ax.text(i, i, f"{matrix[i, i]:.2f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def misclassified_figure(images, y_true, y_pred, classes, title, count: int = 12, seed: int = 0):
    """Up to ``count`` misclassified test images (a seeded draw), titled "true -> predicted"."""
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))
    chosen = np.sort(np.random.default_rng(seed).permutation(wrong)[:count])
    cols = 6
    rows = max(1, -(-len(chosen) // cols))
    fig, axes = viz.new_figure(rows, cols, size=(2.2, 2.9))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, chosen):
        ax.imshow(images(i), cmap="gray")
        ax.set_title(f"{classes[y_true[i]]}\n-> {classes[y_pred[i]]}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.96), h_pad=1.5)
    return fig


def result_figures(scored: Scored, y_test, classes, images, workdir: Path, tag: str) -> list:
    """Confusion matrix and misclassified examples of one classifier: [(file, caption)]."""
    title = f"{scored.name}: accuracy {scored.accuracy:.3f}"
    fig = confusion_figure(y_test, scored.y_pred, classes, title)
    confusion = viz.save_figure(fig, workdir / f"confusion_{tag}.png").name
    fig = misclassified_figure(
        images, y_test, scored.y_pred, classes, f"misclassified ({scored.name})"
    )
    wrong = viz.save_figure(fig, workdir / f"misclassified_{tag}.png").name
    return [
        (
            confusion,
            f"Confusion matrix of {scored.name} on the test images (rows: true class, "
            "each row sums to 1)",
        ),
        (wrong, f"Test images misclassified by {scored.name}, titled true -> predicted class"),
    ]
