"""Chapter 2's class visualisation: regularised gradient ascent on a class score from noise
and from an image, with its regularisation presets and learning rates compared."""

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments.common import Kernels
from experiments.configs.visualize import VisualizeConfig as Config
from experiments.interpret_figures import grid_figure, trajectory_figure
from experiments.report import Section
from experiments.subjects import Subject, resolve_class
from experiments.tables import write_table
from jaxdl import viz
from jaxdl.errors import InputError
from jaxdl.interpret import PRESETS, class_visualization, noise_images

DIGIT_VIZ = (0, 4, 8)  # stand-ins for the ImageNet classes on the digits fallback
REGULARISATION = ("l2_reg", "blur_every", "blur_sigma", "jitter")  # what a class-viz preset sets
GIF_SIDE = 224  # the animations are shown at least this large (a digit is 28 px)


def viz_config(config: Config, s: Subject, preset: str, **overrides):
    """``config.classviz`` ("default": as configured) or with the regularisation of ``preset``
    ("none", "strong"), its jitter scaled to the image (16 px at 224, 2 px on 28-px digits)."""
    if preset not in PRESETS:
        raise InputError(
            f"unknown class-viz preset {preset!r}; expected one of: {', '.join(PRESETS)}"
        )
    source = config.classviz if preset == "default" else PRESETS[preset]
    regularisation = {name: getattr(source, name) for name in REGULARISATION}
    regularisation["jitter"] = min(regularisation["jitter"], s.x.shape[1] // 14)
    return dataclasses.replace(config.classviz, **{**regularisation, **overrides})


@dataclasses.dataclass(frozen=True)
class Ascent:
    """What every class-visualisation run of the section shares."""

    config: Config
    subject: Subject
    classes: list
    key: jax.Array

    @property
    def targets(self):
        return jnp.asarray(self.classes)

    def run(self, start, preset: str = "default", **overrides):
        """(final images, frames) of the ascent from ``start`` under ``preset``."""
        s = self.subject
        settings = viz_config(self.config, s, preset, **overrides)
        n = len(start)
        return class_visualization(
            s.logits_fn, s.params, start, self.targets[:n], s.bounds, settings, self.key
        )

    def rows(self, images, preset: str, start: str) -> list[dict]:
        """The target probability of each final image."""
        s = self.subject
        probs = jax.nn.softmax(s.logits_fn(s.params, images))
        probs = np.asarray(probs[jnp.arange(len(self.classes)), self.targets])
        return [
            {"preset": preset, "start": start, "class": s.label(c), "prob": float(p)}
            for c, p in zip(self.classes, probs)
        ]


def animations(ascent: Ascent, frames, workdir: Path) -> list[tuple[str, str]]:
    """A GIF per class (shown at least ``GIF_SIDE`` px) and the first class's trajectory."""
    s, every = ascent.subject, ascent.config.classviz.frame_every
    scale = max(1, GIF_SIDE // s.x.shape[1])
    out = []
    for c, clip in zip(ascent.classes, frames):
        images = [s.display(f).repeat(scale, 0).repeat(scale, 1) for f in clip]
        labels = [f"step {i * every}" for i in range(len(clip))]
        gif = viz.save_gif(images, workdir / f"classviz_{c}.gif", fps=4, labels=labels)
        out.append(
            (gif.name, f"Gradient ascent on {s.label(c)} from noise, a frame every {every} steps")
        )
    steps = ascent.config.classviz.steps
    title = f"{s.label(ascent.classes[0])}: every {every} iterations (0..{steps})"
    path = trajectory_figure(s, frames[0], every, title, workdir / "classviz_iterations.png")
    return out + [(path, f"The ascent on {s.label(ascent.classes[0])} every {every} steps")]


def class_viz_section(config: Config, s: Subject, workdir: Path, kernels: Kernels):
    classes = (
        [resolve_class(s, c) for c in config.viz_classes]
        if s.norm is not None
        else list(DIGIT_VIZ[: len(config.viz_classes)])
    )
    key = jax.random.key(config.seed)
    ascent = Ascent(config, s, classes, key)
    start = noise_images(key, len(classes), tuple(s.x.shape[1:]), s.bounds)
    rows, figures, finals = [], [], {}
    for name in config.viz_presets:
        finals[name], frames = ascent.run(start, name)
        rows += ascent.rows(finals[name], name, "noise")
        if name == "default" or len(config.viz_presets) == 1:
            figures += animations(ascent, frames, workdir)
    path = grid_figure(
        s, classes, finals, "regularisation preset", workdir / "classviz_presets.png"
    )
    figures.append((path, "The final image of each class (column) under each regularisation"))
    hay = jnp.repeat(s.x[config.hay_index : config.hay_index + 1], len(classes), axis=0)
    from_hay, _ = ascent.run(hay)
    rows += ascent.rows(from_hay, "default", f"image {config.hay_index}")
    start_name = f"from image {config.hay_index}"
    path = grid_figure(s, classes, {start_name: from_hay}, "", workdir / "classviz_from_image.png")
    figures.append((path, f"The ascent started {start_name} instead of noise"))
    sweep = {
        f"lr {lr:g}": ascent.run(start[:1], learning_rate=lr)[0] for lr in config.viz_learning_rates
    }
    if sweep:
        path = workdir / "classviz_learning_rates.png"
        path = grid_figure(s, classes[:1], sweep, "learning rate", path)
        figures.append((path, "The first class's final image at each learning rate"))
    table = write_table(rows, workdir, "class_viz")
    noise_rows = [r for r in rows if r["start"] == "noise"]
    text = (
        f"{config.classviz.steps} steps of gradient ascent per class; target probability of the "
        "final image: "
        + "; ".join(f"{r['class']} ({r['preset']}) {r['prob']:.3f}" for r in noise_rows)
        + "."
    )
    section = Section(
        "Class visualisation",
        text,
        tuple(str(f) for f, _ in figures),
        table,
        captions=tuple(c for _, c in figures),
    )
    return {"class_viz_min_prob": min(r["prob"] for r in noise_rows)}, section
