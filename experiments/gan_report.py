"""Chapter 4's figures, tables and report sections, from the trained runs and their scores."""

import dataclasses
from pathlib import Path

import numpy as np

from experiments.report import Section
from jaxdl import stats, viz
from jaxdl.gan import clusters
from jaxdl.train.groups import SeedRun
from jaxdl.train.logging import MetricsLogger

CLASSES = 10
GRID = 10  # the fixed batch: 10 x 10 samples
SCORES = ("inception_score", "frechet_distance", "share_distance", "label_accuracy")
SHORT_STEPS = 2000  # below this, a run is called short (published DCGANs train far longer)


@dataclasses.dataclass(frozen=True)
class SeedResult:
    """One seed's training run and the quality scores of its samples."""

    run: SeedRun
    scores: dict

    @property
    def seed(self) -> int:
        return self.run.seed


def model_kind(config) -> str:
    loss = " (saturating G loss)" if config.saturating else ""
    if config.clusters and config.conditional:
        return f"cDCGAN on {config.clusters} clusters per class" + loss
    if config.clusters:
        return f"DCGAN self-conditioned on {config.clusters} clusters" + loss
    if not config.conditional:
        return "DCGAN" + loss
    return "cDCGAN" + ("" if config.d_sees_labels else " with cD(x)") + loss


def save_grid(images, path) -> Path:
    """(100, S, S) in [0, 1] -> a 10x10 PNG grid (white digits on black)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(viz.to_uint8(viz.image_grid(np.asarray(images), GRID, fill=0.5))).save(path)
    return path


def loss_figure(logger: MetricsLogger):
    fig, (ax_loss, ax_d) = viz.new_figure(1, 2, size=(5, 3.5))
    for name, label in (("d_loss", "D loss (eq. 4.3)"), ("g_loss", "G loss")):
        ax_loss.plot(*logger.series(name), label=label)
    for name, label in (
        ("d_real", "D(x)"),
        ("d_fake", "D(G(z)) before D step"),
        ("d_fake_g", "D(G(z)) after"),
    ):
        ax_d.plot(*logger.series(name), label=label)
    ax_loss.set_title("losses")
    ax_d.set_title("discriminator outputs")
    ax_d.set_ylim(0, 1)
    for ax in (ax_loss, ax_d):
        ax.set_xlabel("generator step")
        ax.legend()
    fig.tight_layout()
    return fig


def samples_figure(images, title: str, conditional: bool):
    """The fixed batch (100, S, S) as a 10x10 grid; conditional: the practical's test figure,
    row = requested class, column = fixed z."""
    fig, ax = viz.new_figure(1, 1, size=(7, 7))
    ax.imshow(viz.image_grid(np.asarray(images), GRID, fill=0.5), cmap="gray", vmin=0, vmax=1)
    if conditional:
        size = images.shape[1] + 2
        ax.set_yticks(np.arange(GRID) * size + size / 2 - 1, [str(c) for c in range(GRID)])
        ax.set_xticks(np.arange(GRID) * size + size / 2 - 1, [f"z{c}" for c in range(GRID)])
        ax.set_ylabel("requested class y")
        ax.set_xlabel("fixed noise z")
    else:
        ax.axis("off")
    ax.set_title(title)
    return fig


def quality_rows(kind: str, per_seed: list, references: dict) -> list[dict]:
    """One row per seed, their mean and std (n > 1), the real images' ceiling and the noise
    floor; a score a model has not (label accuracy of an unconditional GAN) is left empty."""

    def row(images, values):
        return {"images": images, **{k: values.get(k) for k in SCORES}}

    rows = [row(f"{kind}, seed {r.seed}", r.scores) for r in per_seed]
    names = [k for k in SCORES if k in per_seed[0].scores]
    summary = {k: stats.mean_std([r.scores[k] for r in per_seed]) for k in names}
    if len(per_seed) > 1:
        n = len(per_seed)
        rows.append(row(f"{kind}, mean over {n} seeds", {k: v["mean"] for k, v in summary.items()}))
        rows.append(row(f"{kind}, std over {n} seeds", {k: v["std"] for k, v in summary.items()}))
    return rows + [
        row("real training images (ceiling)", references["real"]),
        row("uniform noise (floor)", references["noise"]),
    ]


def class_share_figure(per_seed: list, real: dict, path: Path):
    """The share of the samples the scoring classifier puts in each digit, mean +- std over the
    seeds, beside the real training images' shares (mode coverage: 10% each when even)."""
    shares = np.array([r.scores["class_shares"] for r in per_seed])
    digits = np.arange(CLASSES)
    fig, ax = viz.new_figure(size=(5, 3.2))
    ax.bar(
        digits - 0.2,
        100 * shares.mean(0),
        0.4,
        yerr=100 * shares.std(0),
        capsize=2,
        label=f"generated, mean +- std over {len(shares)} seeds",
    )
    ax.bar(digits + 0.2, 100 * np.array(real["class_shares"]), 0.4, label="real training images")
    ax.axhspan(7, 13, color="grey", alpha=0.15, label="7-13%")
    top = 100 * max((shares.mean(0) + shares.std(0)).max(), max(real["class_shares"]), 0.13)
    ax.set_ylim(0, 1.4 * top)  # room for the legend above the bars
    ax.set_xticks(digits)
    ax.set_xlabel("digit (the scoring classifier's prediction)")
    ax.set_ylabel("% of the samples")
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    return viz.save_figure(fig, path)


def pm(summary: dict, digits: int = 2) -> str:
    return f"{summary['mean']:.{digits}f} +- {summary['std']:.{digits}f}"


def cluster_text(config, facts: dict) -> str:
    """What conditioning on clusters means for this run ('' without clusters)."""
    if config.clusters and config.conditional:
        return (
            f" G and D are conditioned on {config.clusters} k-means clusters within each digit "
            f"(PCA-{clusters.PCA_DIMS} of the deskewed pixels, seed {config.seeds[0]}) instead "
            "of the digit itself; a sample of digit y draws one of y's clusters at its share of "
            "y's training images, so the label accuracy is that of the cluster's digit."
        )
    if config.clusters:
        return (
            f" No labels: G and D are conditioned on {config.clusters} k-means clusters of the "
            f"training images (PCA-{clusters.PCA_DIMS} of the deskewed pixels, seed "
            f"{config.seeds[0]}), drawn at their training shares when sampling, so each cluster "
            "keeps its share of the samples; the clusters' purity, read from the labels only to "
            f"describe them, is {facts['cluster_purity']:.3f} (the share of images whose digit "
            "is their cluster's most frequent one)."
        )
    return ""


def train_text(config, per_seed: list, source: str, facts: dict) -> str:
    first = per_seed[0].run
    steps = [r.run.steps for r in per_seed]
    seeds = ", ".join(str(r.seed) for r in per_seed)
    steps_text = (
        f"{steps[0]} steps per seed"
        if len(set(steps)) == 1
        else f"{' / '.join(map(str, steps))} steps (seeds {seeds})"
    )
    seconds = float(np.mean([r.run.seconds for r in per_seed]))
    last = first.logger.records[-1] if first.logger.records else {}
    return (
        f"{model_kind(config)} ({config.image_size}x{config.image_size}, widths G "
        f"{config.g_width} / D {config.d_width}, z {config.z_dim}, batch {config.batch_size}, "
        f"Adam lr G {config.lr_g} / D {config.lr_d}, "
        f"{'saturating' if config.saturating else 'non-saturating'} G loss, {config.d_steps} D "
        f"step(s) per G step) trained {steps_text} in {seconds:.0f} s per seed (stopped by: "
        f"{first.stopped_by}) on {source}, seeds {seeds}. Curves of seed {first.seed}: last "
        f"logged D(x) {last.get('d_real', float('nan')):.2f}, D(G(z)) "
        f"{last.get('d_fake', float('nan')):.2f}." + cluster_text(config, facts)
    )


def quality_text(per_seed: list, references: dict, facts: dict) -> str:
    summary = summaries(per_seed)
    real, noise = references["real"], references["noise"]
    shares = np.mean([r.scores["class_shares"] for r in per_seed], axis=0)
    labels = (
        f", label accuracy {pm(summary['label_accuracy'], 3)}"
        if "label_accuracy" in summary
        else ""
    )
    return (
        f"Scored on {facts['scored_samples']} samples per seed with an MNIST CNN (test accuracy "
        f"{facts['classifier_test_accuracy']:.4f}), mean +- std over {len(per_seed)} seeds: "
        f"classifier IS {pm(summary['inception_score'])} (real {real['inception_score']:.2f}), "
        f"Frechet distance to the test set {pm(summary['frechet_distance'])} (real "
        f"{real['frechet_distance']:.2f}){labels}. Uniform noise scores IS "
        f"{noise['inception_score']:.2f}, Frechet {noise['frechet_distance']:.1f}. Digit shares "
        f"of the samples (mean over the seeds): {100 * shares.min():.1f}% (digit "
        f"{shares.argmin()}) to {100 * shares.max():.1f}% (digit {shares.argmax()}); "
        f"{int(np.sum((shares >= 0.07) & (shares <= 0.13)))} of 10 digits within 7-13%; "
        f"total-variation distance of each seed's shares from uniform "
        f"{pm(summary['share_distance'], 3)} (real {real['share_distance']:.3f})."
    )


def summaries(per_seed: list) -> dict:
    """Mean and std over the seeds of every score the runs have."""
    names = [k for k in SCORES if k in per_seed[0].scores]
    return {k: stats.mean_std([r.scores[k] for r in per_seed]) for k in names}


def sections(config, per_seed, references, facts, source: str, sample_figure: str) -> list:
    kind, first = model_kind(config), per_seed[0].run
    short = first.steps < SHORT_STEPS
    grid = " (row = class, column = z)" if config.conditional else ""
    clustered = "; each cell draws one of its row's digit's clusters"
    samples = (
        f"Samples of the fixed noise batch after {first.steps} steps, seed {first.seed}"
        + (clustered if config.conditional and config.clusters else "")
        + (
            f": a short run ({SHORT_STEPS}+ steps give cleaner digits; published DCGANs train "
            "for tens of thousands)."
            if short
            else "."
        )
    )
    return [
        Section(
            f"{kind}: training",
            train_text(config, per_seed, source, facts),
            ("losses.png", "progress.gif"),
            captions=(
                f"Losses and discriminator outputs of seed {first.seed} by generator step",
                f"The fixed noise batch every {config.sample_every} steps, seed {first.seed}",
            ),
        ),
        Section(f"{kind}: samples{grid}", samples, (sample_figure,), captions=(samples,)),
        Section(
            f"{kind}: quality score",
            quality_text(per_seed, references, facts),
            ("class_shares.png",),
            "quality.csv",
            captions=("Share of the samples the scoring classifier puts in each digit",),
        ),
    ]


def headline(config, per_seed: list, references: dict) -> list[dict]:
    """The summary table's row: the Frechet distance over the seeds beside the real images'."""
    summary = summaries(per_seed)
    return [
        {
            "result": f"{model_kind(config)}, classifier Frechet distance ({len(per_seed)} seeds, "
            f"{per_seed[0].run.steps} steps)",
            "measured": pm(summary["frechet_distance"]),
            "reference": f"real images {references['real']['frechet_distance']:.2f}, noise "
            f"{references['noise']['frechet_distance']:.1f}",
        }
    ]
