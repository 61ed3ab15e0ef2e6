"""Chapter 2's figures: saliency rows, fooling triples, one-pixel hits and class-viz grids."""

from pathlib import Path

import numpy as np

from experiments.subjects import Subject
from jaxdl import viz


def _show(ax, image, title: str, fontsize: int = 9) -> None:
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
    ax.set_title(title, fontsize=fontsize)
    ax.axis("off")


def overlay(ax, image, heat, title):
    _show(ax, image, title)
    ax.imshow(
        heat,
        cmap="jet",
        alpha=0.45,
        extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5),
    )


def saliency_figure(subject: Subject, rows, maps: dict, predicted, path: Path) -> str:
    """Fig. 2.1-2.4: the image (true/predicted label) and one column per map, per row index."""
    fig, axes = viz.new_figure(len(rows), 1 + len(maps), size=(3.1, 2.6))
    axes = np.asarray(axes).reshape(len(rows), 1 + len(maps))
    for r, i in enumerate(rows):
        image = subject.display(subject.x[i])
        _show(
            axes[r, 0],
            image,
            f"true {subject.label(subject.labels[i])}\npred {subject.label(predicted[i])}",
        )
        for c, (title, values) in enumerate(maps.items(), 1):
            if title.startswith("Grad-CAM"):
                overlay(axes[r, c], image, np.asarray(values[i]), title)
            else:
                shown = axes[r, c].imshow(np.asarray(values[i]), cmap="hot")
                axes[r, c].set_title(title, fontsize=9)
                axes[r, c].axis("off")
                fig.colorbar(shown, ax=axes[r, c], fraction=0.046, pad=0.02)
    return viz.save_figure(fig, path).name


def fooling_figure(subject: Subject, fooled, iterations, target: int, path: Path) -> str:
    """Rows of (original, perturbation x10, fooling image) for the first three images."""
    shown = list(range(min(3, len(subject.labels))))
    fig, axes = viz.new_figure(len(shown), 3, size=(2.8, 2.8))
    axes = np.asarray(axes).reshape(len(shown), 3)
    for r, i in enumerate(shown):
        original, image = subject.display(subject.x[i]), subject.display(fooled[i])
        _show(axes[r, 0], original, subject.label(subject.labels[i]))
        _show(axes[r, 1], np.clip(0.5 + 10 * (image - original), 0, 1), "perturbation x10")
        _show(axes[r, 2], image, f"-> {subject.label(target)} ({int(iterations[i])} it.)")
    return viz.save_figure(fig, path).name


def one_pixel_figure(subject: Subject, images, pixels, before, after, path: Path) -> str:
    """The attacked images with the changed pixel circled: ``before -> after`` predictions."""
    fig, axes = viz.new_figure(1, len(images), size=(2.8, 2.8))
    for ax, image, (x, y), b, a in zip(np.atleast_1d(axes), images, pixels, before, after):
        _show(ax, subject.display(image), f"{subject.label(b)} -> {subject.label(a)}")
        ax.scatter([x], [y], s=120, facecolors="none", edgecolors="red")
    return viz.save_figure(fig, path).name


def eps_figure(eps, curves: dict, bands: dict, title: str, path: Path) -> str:
    """Accuracy (%) against the L-inf budget, one line per attack, shaded between the
    (low, high) interval of each point in ``bands``."""
    fig, ax = viz.new_figure(size=(4.5, 3.2))
    for name, values in curves.items():
        (line,) = ax.plot(eps, 100 * np.asarray(values), marker="o", label=name)
        low, high = 100 * np.asarray(bands[name]).T
        ax.fill_between(eps, low, high, color=line.get_color(), alpha=0.2)
    ax.set_xscale("symlog", linthresh=0.5)
    ax.set_xticks(eps, [f"{e:g}" for e in eps])
    ax.set_xlabel("eps (L-inf, /255)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    return viz.save_figure(fig, path).name


def success_curve_figure(budgets, rates, n: int, path: Path) -> str:
    """Attack success rate against the model evaluations allowed per image (n images)."""
    fig, ax = viz.new_figure(size=(4.5, 3.2))
    ax.plot(budgets, 100 * np.asarray(rates), marker="o")
    ax.set_xlabel("model evaluations per image")
    ax.set_ylabel(f"success rate (% of {n} images)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    return viz.save_figure(fig, path).name


def grid_figure(subject: Subject, classes, images_by_row: dict, label: str, path: Path) -> str:
    """Rows = settings (e.g. presets), columns = classes."""
    fig, axes = viz.new_figure(len(images_by_row), len(classes), size=(2.6, 2.6))
    axes = np.asarray(axes).reshape(len(images_by_row), len(classes))
    for r, (setting, images) in enumerate(images_by_row.items()):
        for c, cls in enumerate(classes):
            title = f"{subject.label(cls)}, {label} {setting}".replace(",  ", ", ").strip(", ")
            _show(axes[r, c], subject.display(images[c]), title, fontsize=8)
    return viz.save_figure(fig, path).name


def trajectory_figure(subject: Subject, frames, frame_every: int, title: str, path: Path) -> str:
    """One class visualisation's frames side by side, each labelled with its step."""
    fig, axes = viz.new_figure(1, len(frames), size=(2, 2.3))
    for step, (ax, frame) in enumerate(zip(np.atleast_1d(axes), frames)):
        _show(ax, subject.display(frame), f"step {step * frame_every}", fontsize=8)
    fig.suptitle(title)
    return viz.save_figure(fig, path).name
