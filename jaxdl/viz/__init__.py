"""Figures (matplotlib, no pyplot state), image grids and GIFs."""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageDraw


def new_figure(rows: int = 1, cols: int = 1, size=(4, 4), **kwargs):
    """A pyplot-free Figure and its axes array (rows x cols, squeezed like plt.subplots)."""
    fig = Figure(figsize=(size[0] * cols, size[1] * rows), **kwargs)
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes.squeeze() if rows * cols > 1 else axes[0, 0]


def save_figure(fig, path) -> Path:
    """Save ``fig`` as PNG (creating folders) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def to_uint8(image) -> np.ndarray:
    """Float in [0,1] or uint8 -> uint8."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)


def image_grid(images, ncols: int, pad: int = 2, fill: float = 1.0) -> np.ndarray:
    """(N,H,W[,C]) -> one (rows*H, ncols*W[,C]) image with ``pad`` pixels between tiles."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape[:3]
    rows = -(-n // ncols)
    grid = np.full(
        (rows * (h + pad) - pad, ncols * (w + pad) - pad) + images.shape[3:], fill, np.float32
    )
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = image
    return grid


def normalise_maps(maps, axis=(-2, -1)) -> np.ndarray:
    """Scale each map to [0, 1] independently (constant maps become 0)."""
    maps = np.asarray(maps, dtype=np.float32)
    low = maps.min(axis=axis, keepdims=True)
    span = maps.max(axis=axis, keepdims=True) - low
    return (maps - low) / np.where(span > 0, span, 1.0)


def save_gif(frames, path, fps: int = 10, labels=None) -> Path:
    """Frames (T,H,W[,3]) float [0,1] or uint8 -> an animated GIF, looping; ``labels`` (one
    string per frame, e.g. its step) are written in the top-left corner."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(to_uint8(f)).convert("RGB") for f in frames]
    for image, label in zip(images, labels or ()):
        draw = ImageDraw.Draw(image)
        box = draw.textbbox((2, 1), label)
        draw.rectangle((0, 0, box[2] + 2, box[3] + 2), fill=(0, 0, 0))
        draw.text((2, 1), label, fill=(255, 255, 255))
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


def prediction_figure(original, network_view, labels, probs, title=""):
    """Seed Fig. 1.1: original image, the preprocessed input, and the top-k probability bars."""
    fig, (ax0, ax1, ax2) = new_figure(1, 3, size=(4, 3.5))
    ax0.imshow(original)
    ax0.set_title("original")
    ax1.imshow(network_view)
    ax1.set_title(f"network input {network_view.shape[0]}x{network_view.shape[1]}")
    for ax in (ax0, ax1):
        ax.axis("off")
    order = np.arange(len(labels))[::-1]
    ax2.barh(order, probs)
    ax2.set_yticks(order, [label[:28] for label in labels])
    ax2.set_xlim(0, 1)
    ax2.set_xlabel("probability")
    ax2.set_title("top-%d" % len(labels))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def activation_grid_figure(maps, title="", ncols: int = 8):
    """Seed Fig. 1.2: (H,W,C) activations -> a grid of the first ncols*ncols channel maps."""
    maps = np.asarray(maps)
    count = min(maps.shape[-1], ncols * ncols)
    tiles = normalise_maps(np.moveaxis(maps[..., :count], -1, 0))
    fig, ax = new_figure(1, 1, size=(8, 8))
    ax.imshow(image_grid(tiles, ncols), cmap="viridis")
    ax.axis("off")
    ax.set_title(title or f"first {count} activation maps")
    return fig
