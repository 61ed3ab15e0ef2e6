"""Chapter 4 GANs: DCGAN / conditional DCGAN on MNIST, scored by an MNIST classifier.

Trains G and D with the shared seed-group trainer (jitted D-then-G step, checkpoints,
``--resume``, metrics CSV, NaN stop), draws a sample grid of a fixed noise batch every
``--sample-every`` steps (PNG + GIF), the loss / D(x) / D(G(z)) curves and, for the conditional
GAN, the test figure (one column per fixed z, one row per class). Scores the samples with a
cached MNIST classifier: classifier Inception Score, Frechet distance of its penultimate
features to the MNIST test set, label accuracy, beside the same scores of real MNIST images
(the ceiling). Without MNIST it falls back to scikit-learn's digits, upsampled to 28x28.
"""

import dataclasses
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments import gan_report as report
from experiments.common import Kernels, StepBar, progress_bar
from experiments.configs.gan import GANConfig as Config
from experiments.gan_report import CLASSES, GRID, SeedResult, model_kind
from experiments.tables import write_table
from jaxdl import viz
from jaxdl.data.digits import load_digits_images
from jaxdl.data.mnist import load_mnist
from jaxdl.gan import GAN, Discriminator, Generator, adam, clusters, make_sampler, quality
from jaxdl.layers import FLAX
from jaxdl.train import groups, seeds
from jaxdl.train.batches import array_stream

MNIST = "mnist/mnist.npz"
DIGITS_SIZE = 1400  # training images of the scikit-learn digits fallback
DIGITS_CLASSIFIER_EPOCHS = 20  # its quality classifier sees few images per epoch
# the scoring classifier and the scored noise are seeded by this, not by --seeds: runs on any
# seeds are scored alike and compare
SCORING_SEED = 0
QUESTION_STEPS = 3000  # the saturating loss and cD(x) show their effect well within this
CLUSTERS = 100  # k-means clusters of the self-conditioned DCGAN (docs: 10, 50, 100, 200 compared)
CLASS_CLUSTERS = 10  # k-means clusters within each digit of the cDCGAN on clusters


def study_variants(config: Config) -> dict[str, Config]:
    """The chapter's other runs in ``jaxdl reproduce``, each a question of the practical, by run
    folder: the conditional GAN; the saturating G loss (question 3) and the conditional GAN with
    a label-blind cD(x) (question 7), both at most ``QUESTION_STEPS`` steps; the DCGAN
    self-conditioned on ``CLUSTERS`` k-means clusters (no labels), for mode coverage, and the
    cDCGAN on ``CLASS_CLUSTERS`` clusters within each digit, for the modes within a class."""
    steps = min(config.steps, QUESTION_STEPS)
    return {
        "gan_conditional": dataclasses.replace(config, conditional=True),
        "gan_clusters": dataclasses.replace(config, clusters=CLUSTERS),
        "gan_conditional_clusters": dataclasses.replace(
            config, conditional=True, clusters=CLASS_CLUSTERS
        ),
        "gan_saturating": dataclasses.replace(config, saturating=True, steps=steps),
        "gan_cdx": dataclasses.replace(config, conditional=True, d_sees_labels=False, steps=steps),
    }


def quick_variants(config: Config) -> dict[str, Config]:
    """The demo's other run: the conditional GAN only (the quick study shows digits from two
    longer runs rather than noise from six short ones)."""
    return {"gan_conditional": dataclasses.replace(config, conditional=True)}


def quick(config: Config) -> Config:
    """Two seeds of 800 steps (about 30 s each on 2 CPU cores; a 45 s budget per seed caps a
    slower machine): enough for digit-like samples, too short for good ones."""
    return dataclasses.replace(
        config,
        steps=800,
        seeds=(0, 1),
        time_budget_s=45.0,
        sample_every=100,
        checkpoint_every=200,
        eval_samples=2000,
        classifier_epochs=1,
    )


def load_data(data: Path | None, image_size: int):
    """(x_train, y_train, x_test, y_test, source): uint8 (N, S, S) digits and int labels."""
    path = data / MNIST if data is not None else None
    if path is not None and path.is_file():
        (x_train, y_train), (x_test, y_test) = load_mnist(path, "train"), load_mnist(path, "test")
        source = f"MNIST ({path})"
    else:
        x, y = load_digits_images(28)
        x_train, y_train, x_test, y_test = (
            x[:DIGITS_SIZE],
            y[:DIGITS_SIZE],
            x[DIGITS_SIZE:],
            y[DIGITS_SIZE:],
        )
        source = "scikit-learn digits upsampled to 28x28 (MNIST not found in the data folder)"
    if image_size == 32:  # the practical's 32x32 frame: zero padding, the digit unchanged
        x_train, x_test = (np.pad(x, ((0, 0), (2, 2), (2, 2))) for x in (x_train, x_test))
    return x_train, y_train, x_test, y_test, source


def build_gan(config: Config, layers=FLAX) -> GAN:
    classes = CLASSES if config.conditional else None
    if config.clusters:  # self-conditioned, or clusters within each class
        classes = (classes or 1) * config.clusters
    d_classes = classes if config.d_sees_labels else None
    return GAN(
        Generator(config.image_size, config.g_width, num_classes=classes, layers=layers),
        Discriminator(config.image_size, config.d_width, d_classes, config.pack, layers=layers),
        z_dim=config.z_dim,
        g_optimizer=adam(config.lr_g, config.beta1),
        d_optimizer=adam(config.lr_d, config.beta1),
        saturating=config.saturating,
        d_steps=config.d_steps,
        label_smoothing=config.label_smoothing,
        ema=config.ema,
    )


def draw_labels(config: Config, key, n: int, shares=None):
    """G's y of ``n`` samples: the classes 0, 1, ..., 9, 0, ... (conditional; with clusters, a
    cluster of each class drawn at its ``shares`` in it); clusters drawn at their training
    ``shares`` (self-conditioned); zeros, which G ignores (unconditional)."""
    if config.conditional:
        return classes_to_clusters(config, key, jnp.arange(n) % CLASSES, shares)
    if config.clusters:
        return clusters.sample_clusters(key, shares, n)
    return jnp.zeros(n, jnp.int32)


def classes_to_clusters(config: Config, key, y, shares):
    """A conditional GAN's y: the classes y, or with ``config.clusters`` a cluster of each."""
    if not config.clusters:
        return y
    return clusters.sample_within_classes(key, shares, y, config.clusters)


def class_of(config: Config, y):
    """The class of each G input y of a conditional GAN (a cluster's class: y // clusters)."""
    return y // config.clusters if config.clusters else y


def fixed_batch(config: Config, shares=None):
    """The fixed noise of the sample grids: (z (100, z_dim), y (100,)). Conditional: 10 noise
    vectors, row r = class r, column c = z_c; otherwise 100 distinct z (and clusters drawn at
    their ``shares``)."""
    key_z, key_y = jax.random.split(jax.random.key(config.seeds[0] + 1))
    if config.conditional:
        z = jnp.tile(jax.random.normal(key_z, (GRID, config.z_dim)), (GRID, 1))
        return z, classes_to_clusters(config, key_y, jnp.repeat(jnp.arange(GRID), GRID), shares)
    z = jax.random.normal(key_z, (GRID * GRID, config.z_dim))
    return z, draw_labels(config, key_y, GRID * GRID, shares)


def scorer(config: Config, x_train, y_train, x_test, y_test, shares=None):
    """The cached MNIST scoring classifier, once for every seed: (score(sampler, state) ->
    generated scores, {"real": the training images' scores (the ceiling), "noise": uniform
    noise images' (the floor)}, classifier facts)."""
    crop = slice(2, 30) if config.image_size == 32 else slice(None)
    x_train28, x_test28 = x_train[:, crop, crop], x_test[:, crop, crop]
    epochs = config.classifier_epochs if len(x_train) > DIGITS_SIZE else DIGITS_CLASSIFIER_EPOCHS
    path = quality.classifier_path(x_train28, y_train, seed=SCORING_SEED, epochs=epochs)
    if path.is_file():
        print(f"jaxdl: gan: scoring classifier read from the cache {path}", file=sys.stderr)
    else:
        print(
            f"jaxdl: gan: training the scoring classifier (mnist_cnn, {epochs} epochs); it is "
            f"cached as {path}",
            file=sys.stderr,
        )
    with progress_bar(
        total=epochs * (len(x_train28) // 128), desc="scoring classifier", unit="step"
    ) as bar:
        params, path, trained = quality.quality_classifier(
            x_train28, y_train, seed=SCORING_SEED, epochs=epochs, progress=bar.update
        )
    reference = quality.reference_stats(params, x_test28)
    n = min(config.eval_samples, len(x_train))
    key_z, key_y = jax.random.split(jax.random.key(SCORING_SEED + 2))
    z = jax.random.normal(key_z, (n, config.z_dim))
    labels = draw_labels(config, key_y, n, shares)

    def score(sampler, state) -> dict:
        images = sampler(state, z, labels)[:, crop, crop]
        conditional = class_of(config, labels) if config.conditional else None
        return quality.quality_scores(params, images, reference, conditional)

    real = quality.quality_scores(params, x_train28[:n], reference, y_train[:n])
    noise_images = np.random.default_rng(SCORING_SEED).integers(0, 256, (n, 28, 28), np.uint8)
    noise = quality.quality_scores(params, noise_images, reference, y_train[:n])
    facts = {
        "classifier_test_accuracy": quality.classifier_accuracy(params, x_test28, y_test),
        "classifier_cache": str(path),
        "classifier_trained_now": trained,
        "scored_samples": n,
    }
    return score, {"real": real, "noise": noise}, facts


def train(config: Config, gan: GAN, step, sampler, arrays: dict, workdir: Path, group, shares):
    """Train the seeds ``group`` until ``config.steps`` or the time budget, drawing each seed's
    fixed-noise grid (samples/seed<s>/) every ``sample_every`` steps; ``arrays``: the training
    images and labels (or clusters, drawn at ``shares`` for the grids). One ``SeedRun`` per
    seed."""
    shape = (config.image_size, config.image_size, 1)
    z, y = fixed_batch(config, shares)

    def grids(step: int, states: list) -> None:
        for seed, state in zip(group, states):
            grid = workdir / "samples" / f"seed{seed}" / f"step_{step:06d}.png"
            report.save_grid(sampler(state, z, y), grid)

    per_step = config.batch_size * config.d_steps
    bar = StepBar(config.steps, f"{model_kind(config)} training (seed {'-'.join(map(str, group))})")
    try:
        return groups.train_group(
            step,
            lambda s: gan.init(s, shape),
            lambda s, start: array_stream(arrays, per_step, s, start),
            group,
            num_steps=config.steps,
            checkpoints=workdir / "checkpoints",
            checkpoint_every=config.checkpoint_every,
            logs=workdir / "logs",
            log_every=min(50, config.sample_every),
            resume=config.resume,
            progress=bar,
            chunk=config.sample_every,
            after_chunk=grids,
            time_budget_s=config.time_budget_s,
        )
    finally:
        bar.close()


def conditioning(config: Config, x_train, y_train):
    """G's training conditions: the labels, clusters within each class, or clusters of the
    images; with the clusters' shares and what describes them."""
    if config.clusters and config.conditional:
        y, shares = clusters.clusters_within_classes(
            x_train, y_train, config.clusters, config.seeds[0]
        )
        return y, shares, {"clusters_per_class": config.clusters}
    if config.clusters:
        y, shares = clusters.kmeans_clusters(x_train, config.clusters, config.seeds[0])
        return (
            y,
            shares,
            {"clusters": config.clusters, "cluster_purity": clusters.purity(y, y_train)},
        )
    return y_train, None, {}


def figures(config: Config, runs: list, sampler, shares, workdir: Path) -> str:
    """The progress GIF, loss curves and final samples of the first seed; the samples' file."""
    from PIL import Image

    first = runs[0]
    frames = sorted((workdir / "samples" / f"seed{first.seed}").glob("step_*.png"))
    viz.save_gif([np.asarray(Image.open(f)) for f in frames], workdir / "progress.gif", fps=4)
    viz.save_figure(report.loss_figure(first.logger), workdir / "losses.png")
    final = sampler(first.state, *fixed_batch(config, shares))
    title = f"{model_kind(config)} after {first.steps} steps, seed {first.seed}"
    if first.steps < report.SHORT_STEPS:
        title += " (a short run)"
    name = "class_by_z.png" if config.conditional else "samples.png"
    viz.save_figure(report.samples_figure(final, title, config.conditional), workdir / name)
    return name


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    x_train, y_train, x_test, y_test, source = load_data(data, config.image_size)
    gan = build_gan(config, kernels.layers)
    sampler, step = make_sampler(gan), groups.stacked_step(gan.train_step)
    y_gan, shares, facts = conditioning(config, x_train, y_train)
    arrays = {"image": x_train, "label": y_gan.astype(np.int32)}
    runs = [
        run
        for group in seeds.groups(config.seeds, config.seed_mode)
        for run in train(config, gan, step, sampler, arrays, workdir, group, shares)
    ]
    sample_figure = figures(config, runs, sampler, shares, workdir)
    score, references, scoring = scorer(config, x_train, y_train, x_test, y_test, shares)
    per_seed = [SeedResult(r, score(sampler, r.state)) for r in runs]
    facts = {**scoring, **facts}
    write_table(report.quality_rows(model_kind(config), per_seed, references), workdir, "quality")
    report.class_share_figure(per_seed, references["real"], workdir / "class_shares.png")
    summary = report.summaries(per_seed)
    seconds = float(np.mean([r.seconds for r in runs]))
    sections = report.sections(config, per_seed, references, facts, source, sample_figure)
    return {
        "model": model_kind(config),
        "steps": runs[0].steps,
        "train_seconds": round(seconds, 1),
        "steps_per_second": round(float(np.mean([r.steps for r in runs])) / max(seconds, 1e-9), 2),
        "stopped_by": runs[0].stopped_by,
        "data_source": source,
        "mnist": source.startswith("MNIST"),
        "seeds": [r.seed for r in runs],
        **{f"gen_{k}": v["mean"] for k, v in summary.items()},
        **{f"gen_{k}_std": v["std"] for k, v in summary.items()},
        "per_seed": [
            {"seed": r.seed, **r.scores, "steps": r.run.steps, "seconds": round(r.run.seconds, 1)}
            for r in per_seed
        ],
        **{f"real_{k}": v for k, v in references["real"].items()},
        **{f"noise_{k}": v for k, v in references["noise"].items()},
        **facts,
        "figures": ["losses.png", "progress.gif", sample_figure, "class_shares.png"],
        "headline": report.headline(config, per_seed, references),
        "sections": [s.to_json() for s in sections],
    }
