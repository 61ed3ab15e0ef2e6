"""Chapter 4 GANs: DCGAN / conditional DCGAN on MNIST, scored by an MNIST classifier.

Trains G and D with the shared loop (jitted D-then-G step, checkpoints, ``--resume``, metrics
CSV, NaN stop), draws a sample grid of a fixed noise batch every ``--sample-every`` steps
(PNG + GIF), the loss / D(x) / D(G(z)) curves and, for the conditional GAN, the test figure
(one column per fixed z, one row per class). Scores the samples with a cached MNIST
classifier: classifier Inception Score, Frechet distance of its penultimate features to the
MNIST test set, label accuracy, beside the same scores of real MNIST images (the ceiling).
Without MNIST it falls back to scikit-learn's digits, upsampled to 28x28.
"""

import dataclasses
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments.common import Kernels, StepBar, progress_bar
from experiments.configs.gan import GANConfig as Config
from experiments.tables import write_table
from jaxdl import stats, viz
from jaxdl.data.digits import load_digits_images
from jaxdl.data.mnist import load_mnist
from jaxdl.errors import InputError
from jaxdl.gan import GAN, Discriminator, Generator, clusters, quality, to_unit
from jaxdl.layers import FLAX
from jaxdl.train import loop, seeds
from jaxdl.train.batches import array_stream
from jaxdl.train.checkpoint import Checkpointer
from jaxdl.train.logging import MetricsLogger, SeedLoggers

MNIST = "mnist/mnist.npz"
CLASSES = 10
GRID = 10  # the fixed batch: 10 x 10 samples
DIGITS_SIZE = 1400  # training images of the sklearn-digits fallback
DIGITS_CLASSIFIER_EPOCHS = 20  # its quality classifier sees few images per epoch
# the scoring classifier and the scored noise are seeded by this, not by --seeds: runs on any
# seeds are scored alike and compare
SCORING_SEED = 0
SMOKE_STEPS = 2000  # below this, samples are labelled a smoke run (digits take a few thousand)


QUESTION_STEPS = 3000  # the saturating loss and cD(x) show their effect well within this
CLUSTERS = 100  # k-means clusters of the self-conditioned DCGAN (README: 10, 50, 100, 200 compared)
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


def quick(config: Config) -> Config:
    return dataclasses.replace(
        config,
        steps=300,
        seeds=(0, 1),
        time_budget_s=60.0,
        sample_every=50,
        checkpoint_every=100,
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
        g_optimizer=optax.adam(config.lr_g, b1=config.beta1),
        d_optimizer=optax.adam(config.lr_d, b1=config.beta1),
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


def make_sampler(gan: GAN, batch_size: int = 500):
    """Jitted ``sample(state, z (N, z_dim), y (N,)) -> images (N, S, S)`` in [0, 1] from the
    generator in inference mode, ``batch_size`` images at a time."""

    def sample(state, z, y):
        def one(zy):
            return gan.sample(state, zy[0][None], zy[1][None])[0, ..., 0]

        return to_unit(jax.lax.map(one, (z, y), batch_size=batch_size))

    return jax.jit(sample)


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


def train(config: Config, gan: GAN, step, sampler, x_train, y_train, workdir: Path, group, shares):
    """Train the stacked seeds ``group`` with ``step`` (``loop.jit_step`` of the vmapped
    ``gan.train_step``) until ``config.steps`` or the time budget (per seed: a group of S
    vmapped seeds gets S times it). The loop runs in chunks of ``sample_every`` steps, drawing
    each seed's fixed-noise grid (samples/seed<s>/) after each. ``y_train``: the labels, or
    the clusters (drawn at ``shares`` for the grids). Returns one dict per seed:
    state, logger, seconds (per seed), stop reason, steps run by this call."""
    shape = (config.image_size, config.image_size, 1)
    state = seeds.stack([gan.init(s, shape) for s in group])
    arrays = {"image": x_train, "label": y_train.astype(np.int32)}
    per_step = config.batch_size * config.d_steps

    def batches(start):
        return seeds.stacked_batches([array_stream(arrays, per_step, s, start) for s in group])

    name = "seeds" + "-".join(map(str, group))
    checkpointer = Checkpointer(
        workdir / "checkpoints" / name, every=config.checkpoint_every, keep=2
    )
    logger = SeedLoggers(workdir / "logs", "metrics", group)
    z, y = fixed_batch(config, shares)
    bar = StepBar(config.steps, f"{model_kind(config)} training (seed {name[5:]})")
    budget = config.time_budget_s * len(group)
    # a group not started before the run was stopped has no checkpoint: it starts afresh
    resume = config.resume and checkpointer.latest_step() is not None
    target, reason = 0, "steps"
    try:
        while True:
            target, chunk_start = (
                min(target + config.sample_every, config.steps),
                time.perf_counter(),
            )
            state, _ = loop.fit(
                step,
                state,
                batches,
                num_steps=max(target, 1),
                checkpointer=checkpointer,
                logger=logger,
                log_every=min(50, config.sample_every),
                resume=resume,
                progress=bar,
            )
            resume, target = False, loop.steps_taken(state)
            for seed, seed_state in zip(group, seeds.unstack(state)):
                grid = workdir / "samples" / f"seed{seed}" / f"step_{target:06d}.png"
                save_grid(sampler(seed_state, z, y), grid)
            if target >= config.steps:
                break
            chunk_seconds = time.perf_counter() - chunk_start
            if budget and loop.wall_seconds(logger) + chunk_seconds > budget:
                reason = (
                    f"time budget of {config.time_budget_s:.0f} s per seed (next chunk would "
                    "exceed it)"
                )
                break
    except FloatingPointError as e:
        raise InputError(
            f"training diverged: {e}; last good checkpoint: {checkpointer.latest_step()} "
            f"in {checkpointer.directory}"
        ) from None
    finally:
        bar.close()
        checkpointer.close()
    seconds = loop.wall_seconds(logger) / len(group)  # training time, over resumes too
    return [
        {
            "seed": seed,
            "state": seed_state,
            "logger": seed_logger,
            "seconds": seconds,
            "reason": reason,
        }
        for seed, seed_state, seed_logger in zip(group, seeds.unstack(state), logger.loggers)
    ]


def model_kind(config: Config) -> str:
    loss = " (saturating G loss)" if config.saturating else ""
    if config.clusters and config.conditional:
        return f"cDCGAN on {config.clusters} clusters per class" + loss
    if config.clusters:
        return f"DCGAN self-conditioned on {config.clusters} clusters" + loss
    if not config.conditional:
        return "DCGAN" + loss
    return "cDCGAN" + ("" if config.d_sees_labels else " with cD(x)") + loss


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


SCORES = ("inception_score", "frechet_distance", "share_distance", "label_accuracy")


def quality_rows(kind: str, per_seed: list, references: dict) -> list[dict]:
    """One row per seed, their mean and std (n > 1), the real images' ceiling and the noise
    floor; a score a model has not (label accuracy of an unconditional GAN) is left empty."""

    def row(images, values):
        return {"images": images, **{k: values.get(k) for k in SCORES}}

    rows = [row(f"{kind}, seed {r['seed']}", r["scores"]) for r in per_seed]
    names = [k for k in SCORES if k in per_seed[0]["scores"]]
    summary = {k: stats.mean_std([r["scores"][k] for r in per_seed]) for k in names}
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
    shares = np.array([r["scores"]["class_shares"] for r in per_seed])
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


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    x_train, y_train, x_test, y_test, source = load_data(data, config.image_size)
    gan = build_gan(config, kernels.layers)
    sampler = make_sampler(gan)
    step = loop.jit_step(seeds.vmap_step(gan.train_step), batch_axis=1)
    y_gan, shares, cluster_facts = y_train, None, {}
    if config.clusters and config.conditional:
        y_gan, shares = clusters.clusters_within_classes(
            x_train, y_train, config.clusters, config.seeds[0]
        )
        cluster_facts = {"clusters_per_class": config.clusters}
    elif config.clusters:
        y_gan, shares = clusters.kmeans_clusters(x_train, config.clusters, config.seeds[0])
        cluster_facts = {
            "clusters": config.clusters,
            "cluster_purity": clusters.purity(y_gan, y_train),
        }
    per_seed = [
        result
        for group in seeds.groups(config.seeds, config.seed_mode)
        for result in train(config, gan, step, sampler, x_train, y_gan, workdir, group, shares)
    ]
    first = per_seed[0]
    steps = loop.steps_taken(first["state"])
    seed_steps = [loop.steps_taken(r["state"]) for r in per_seed]  # differ when the budget stops
    kind = model_kind(config)

    from PIL import Image

    frames = sorted((workdir / "samples" / f"seed{first['seed']}").glob("step_*.png"))
    viz.save_gif([np.asarray(Image.open(f)) for f in frames], workdir / "progress.gif", fps=4)
    viz.save_figure(loss_figure(first["logger"]), workdir / "losses.png")
    final = sampler(first["state"], *fixed_batch(config, shares))
    smoke = steps < SMOKE_STEPS
    title = f"{kind} after {steps} steps, seed {first['seed']}" + (
        "\n(a smoke run: too few steps to learn the digits)" if smoke else ""
    )
    sample_figure = "class_by_z.png" if config.conditional else "samples.png"
    viz.save_figure(samples_figure(final, title, config.conditional), workdir / sample_figure)

    score, references, facts = scorer(config, x_train, y_train, x_test, y_test, shares)
    real, noise = references["real"], references["noise"]
    for r in per_seed:
        r["scores"] = score(sampler, r["state"])
    write_table(quality_rows(kind, per_seed, references), workdir, "quality")
    class_share_figure(per_seed, real, workdir / "class_shares.png")
    shares = np.mean([r["scores"]["class_shares"] for r in per_seed], axis=0)
    names = [k for k in SCORES if k in first["scores"]]
    summary = {k: stats.mean_std([r["scores"][k] for r in per_seed]) for k in names}
    seconds = float(np.mean([r["seconds"] for r in per_seed]))
    last = first["logger"].records[-1] if first["logger"].records else {}
    seed_list = ", ".join(str(r["seed"]) for r in per_seed)
    steps_text = (
        f"{steps} steps per seed"
        if len(set(seed_steps)) == 1
        else f"{' / '.join(map(str, seed_steps))} steps (seeds {seed_list})"
    )
    text_train = (
        f"{kind} ({config.image_size}x{config.image_size}, widths G {config.g_width} / D "
        f"{config.d_width}, "
        f"z {config.z_dim}, batch {config.batch_size}, Adam lr G {config.lr_g} / D {config.lr_d}, "
        f"{'saturating' if config.saturating else 'non-saturating'} G loss, {config.d_steps} D "
        f"step(s) per G step) trained {steps_text} in {seconds:.0f} s per seed "
        f"(stopped by: {first['reason']}) on {source}, seeds {seed_list}. Curves of seed "
        f"{first['seed']}: last logged D(x) {last.get('d_real', float('nan')):.2f}, "
        f"D(G(z)) {last.get('d_fake', float('nan')):.2f}."
    )
    if config.clusters and config.conditional:
        text_train += (
            f" G and D are conditioned on {config.clusters} k-means clusters within each digit "
            f"(PCA-{clusters.PCA_DIMS} of the deskewed pixels, seed {config.seeds[0]}) instead "
            "of the digit itself; a sample of digit y draws one of y's clusters at its share of "
            "y's training images, so the label accuracy is that of the cluster's digit."
        )
    elif config.clusters:
        text_train += (
            f" No labels: G and D are conditioned on {config.clusters} k-means clusters of the "
            f"training images (PCA-{clusters.PCA_DIMS} of the deskewed pixels, seed "
            f"{config.seeds[0]}), drawn at their training shares when sampling, so each cluster "
            "keeps its share of the samples; "
            f"the clusters' purity, read from the labels only to describe them, is "
            f"{cluster_facts['cluster_purity']:.3f} (the share of images whose digit is their "
            "cluster's most frequent one)."
        )
    text_quality = (
        f"Scored on {facts['scored_samples']} samples per seed with an MNIST CNN "
        f"(test accuracy {facts['classifier_test_accuracy']:.4f}), mean +- std over "
        f"{len(per_seed)} seeds: classifier IS {pm(summary['inception_score'])} (real "
        f"{real['inception_score']:.2f}), Frechet distance to the test set "
        f"{pm(summary['frechet_distance'])} (real {real['frechet_distance']:.2f})"
        + (
            f", label accuracy {pm(summary['label_accuracy'], 3)}"
            if "label_accuracy" in summary
            else ""
        )
        + f". Uniform noise scores IS {noise['inception_score']:.2f}, Frechet "
        f"{noise['frechet_distance']:.1f}. Digit shares of the samples (mean over the seeds): "
        f"{100 * shares.min():.1f}% (digit {shares.argmin()}) to {100 * shares.max():.1f}% "
        f"(digit {shares.argmax()}); {int(np.sum((shares >= 0.07) & (shares <= 0.13)))} of 10 "
        "digits within 7-13%; total-variation distance of each seed's shares from uniform "
        f"{pm(summary['share_distance'], 3)} (real {real['share_distance']:.3f})."
    )
    sections = [
        {
            "title": f"{kind}: training",
            "text": text_train,
            "figures": ["losses.png", "progress.gif"],
            "table": None,
        },
        {
            "title": f"{kind}: samples"
            + (" (row = class, column = z)" if config.conditional else ""),
            "text": f"Samples of the fixed noise batch after {steps} steps, seed {first['seed']}"
            + (
                "; each cell draws one of its row's digit's clusters"
                if config.conditional and config.clusters
                else ""
            )
            + (
                f": a smoke run, far too short to learn the digits ({SMOKE_STEPS}+ steps needed)."
                if smoke
                else "."
            ),
            "figures": [sample_figure],
            "table": None,
        },
        {
            "title": f"{kind}: quality score",
            "text": text_quality,
            "figures": ["class_shares.png"],
            "table": "quality.csv",
        },
    ]
    return {
        "model": kind,
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "steps_per_second": round(float(np.mean(seed_steps)) / max(seconds, 1e-9), 2),
        "stopped_by": first["reason"],
        "data_source": source,
        "mnist": source.startswith("MNIST"),
        "seeds": [r["seed"] for r in per_seed],
        **{f"gen_{k}": v["mean"] for k, v in summary.items()},
        **{f"gen_{k}_std": v["std"] for k, v in summary.items()},
        "per_seed": [
            {"seed": r["seed"], **r["scores"], "steps": n, "seconds": round(r["seconds"], 1)}
            for r, n in zip(per_seed, seed_steps)
        ],
        **{f"real_{k}": v for k, v in real.items()},
        **{f"noise_{k}": v for k, v in noise.items()},
        **facts,
        **cluster_facts,
        "figures": ["losses.png", "progress.gif", sample_figure, "class_shares.png"],
        "sections": sections,
    }
