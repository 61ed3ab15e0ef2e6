"""Chapter 3: domain-adversarial training (DANN) from MNIST to MNIST-M.

Trains the paper's MNIST network as source-only, DANN, pseudo-labelling and DANN without
reversal (question 1) -- by default on per-image standardised inputs with random per-channel
inversion of the source images (MNIST-M strokes are |photo - digit|: any polarity and colour)
-- with target/source test accuracy and the domain classifier's accuracy over training, a 2-D
embedding of the features coloured by domain before (source-only) and after (DANN)
adaptation, and a sweep of the reversal factor. Without the real data it runs on scikit-learn
digits (source) and their MNIST-M-style blend with scikit-learn's sample photos (target).
"""

import dataclasses
from pathlib import Path

import numpy as np

from experiments.common import Kernels, StepBar
from experiments.configs.dann import DannConfig as Config
from experiments.tables import write_table
from jaxdl import dann, viz
from jaxdl.data.digits import load_digits_images
from jaxdl.data.mnist import load_mnist, to_rgb32
from jaxdl.data.mnist_m import blend_mnist_m, load_mnist_m, load_photos, sample_photos
from jaxdl.train import loop
from jaxdl.train.batches import array_stream
from jaxdl.train.checkpoint import Checkpointer
from jaxdl.train.logging import MetricsLogger

PAPER = {"source_only": 0.5225, "dann": 0.7666}
LABELS = {
    "source_only": "source only",
    "dann": "DANN",
    "pseudo": "pseudo-labelling",
    "no_reversal": "no reversal (Q1)",
}


def quick(config: Config) -> Config:
    return dataclasses.replace(
        config,
        methods=("source_only", "dann"),
        steps=200,
        batch_size=32,
        sweep=(0.3,),
        sweep_steps=100,
        eval_every=50,
        eval_size=500,
        test_size=2000,
        embed_size=200,
        checkpoint_every=100,
    )


def load_domains(data: Path | None, build_target: bool, seed: int):
    """{"source": (x_train, y_train, x_test, y_test), "target": (...)} as (N,32,32,3) uint8, and
    a description. Real MNIST -> MNIST-M when ``data`` holds them (MNIST-M built from bsds500
    when asked or absent), else the embedded digits -> digits blended with sample photos."""
    mnist = data / "mnist" / "mnist.npz" if data else None
    if mnist is not None and mnist.is_file():
        (xs, ys), (xs_t, ys_t) = load_mnist(mnist, "train"), load_mnist(mnist, "test")
        source = (to_rgb32(xs), ys, to_rgb32(xs_t), ys_t)
        mnist_m = data / "mnist_m" / "mnist_m.npz"
        if mnist_m.is_file() and not build_target:
            (xt, yt), (xt_t, yt_t) = load_mnist_m(mnist_m, "train"), load_mnist_m(mnist_m, "test")
            return {
                "source": source,
                "target": (xt, yt, xt_t, yt_t),
            }, "MNIST -> MNIST-M (mnist_m.npz)"
        photos = load_photos(data / "bsds500")
        target = (
            blend_mnist_m(source[0], photos, seed),
            ys,
            blend_mnist_m(source[2], photos, seed + 1),
            ys_t,
        )
        return {"source": source, "target": target}, "MNIST -> MNIST-M built from BSDS500 photos"
    x, y = load_digits_images(28)
    x = to_rgb32(x)
    order = np.random.default_rng(seed).permutation(len(x))
    src, tgt, test = order[:720], order[720:1440], order[1440:]
    xt = blend_mnist_m(x, sample_photos(), seed)
    domains = {
        "source": (x[src], y[src], x[test], y[test]),
        "target": (xt[tgt], y[tgt], xt[test], y[test]),
    }
    return (
        domains,
        "embedded: scikit-learn digits -> digits blended with scikit-learn sample photos",
    )


def train_method(
    method: str,
    config: Config,
    domains,
    workdir: Path,
    steps: int,
    scale: float,
    tag: str,
    kernels: Kernels,
):
    """Train one method with the shared loop (checkpoints in checkpoints/<tag>, metrics in
    logs/<tag>.csv); returns (params, logger, final test accuracies, apply)."""
    xs, ys, xs_test, ys_test = domains["source"]
    xt, _, xt_test, yt_test = domains["target"]
    model = dann.DANN(layers=kernels.layers)
    optimizer = dann.make_optimizer(config.optimizer, steps, config.learning_rate)
    step = loop.jit_step(
        dann.make_step(
            model,
            optimizer,
            method,
            steps,
            config.gamma,
            scale,
            config.threshold,
            config.input_norm,
            config.augment,
        )
    )
    apply = dann.make_apply(model, input_norm=config.input_norm)
    k = config.eval_size
    curve_sets = ((xs_test[:k], ys_test[:k]), (xt_test[:k], yt_test[:k]))

    def batches(start):
        source = array_stream({"xs": xs, "ys": ys}, config.batch_size, config.seed, start)
        target = array_stream({"xt": xt}, config.batch_size, config.seed + 1, start)
        return ({**s, **t} for s, t in zip(source, target))

    def evaluation(_, state):
        return {
            f"eval_{name}": v for name, v in dann.evaluate(apply, state.params, *curve_sets).items()
        }

    checkpointer = Checkpointer(
        workdir / "checkpoints" / tag, every=config.checkpoint_every, keep=2
    )
    resume = config.resume and checkpointer.latest_step() is not None
    logger = MetricsLogger(workdir / "logs", name=tag)
    bar = StepBar(steps, f"{LABELS.get(tag, tag)} training")
    try:
        state, _ = loop.fit(
            step,
            dann.init_state(model, optimizer, config.seed),
            batches,
            num_steps=steps,
            checkpointer=checkpointer,
            logger=logger,
            log_every=100,
            resume=resume,
            hooks=[(config.eval_every, evaluation)],
            progress=bar,
        )
    finally:
        bar.close()
        checkpointer.close()
    m = config.test_size or None
    final = dann.evaluate(
        apply, state.params, (xs_test[:m], ys_test[:m]), (xt_test[:m], yt_test[:m])
    )
    return state.params, logger, final, apply


def curves_figure(loggers: dict, path: Path):
    fig, axes = viz.new_figure(1, 3, size=(4.5, 3.5))
    for method, logger in loggers.items():
        for ax, metric in zip(axes, ("eval_target_acc", "eval_source_acc", "eval_domain_acc")):
            ax.plot(*logger.series(metric), marker="o", label=LABELS[method])
    for ax, title in zip(
        axes,
        (
            "target (MNIST-M) test accuracy",
            "source (MNIST) test accuracy",
            "domain classifier accuracy",
        ),
    ):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return viz.save_figure(fig, path)


def embedding_figure(embeddings: dict, n: int, path: Path):
    """embeddings: title -> (2n, 2) points, the first n source, the rest target."""
    fig, axes = viz.new_figure(1, len(embeddings), size=(4, 4))
    for ax, (title, points) in zip(np.atleast_1d(axes), embeddings.items()):
        ax.scatter(*points[:n].T, s=4, alpha=0.6, label="source (MNIST)")
        ax.scatter(*points[n:].T, s=4, alpha=0.6, label="target (MNIST-M)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, markerscale=3)
    return viz.save_figure(fig, path)


def embed(features: np.ndarray, kind: str, seed: int) -> np.ndarray:
    if kind == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(2, init="pca", random_state=seed).fit_transform(features)
    from sklearn.decomposition import PCA

    return PCA(2, random_state=seed).fit_transform(features)


def sweep_figure(rows, path: Path):
    """Target and domain accuracy against the reversal scale, each point labelled with its
    steps (the sweep's runs are shorter than the main one); log scale from three scales on."""
    fig, ax = viz.new_figure(size=(4.5, 3.5))
    scales = [r["reversal_scale"] for r in rows]
    ax.plot(scales, [r["target_acc"] for r in rows], marker="o", label="target accuracy")
    ax.plot(scales, [r["domain_acc"] for r in rows], marker="s", label="domain classifier accuracy")
    for r in rows:
        ax.annotate(
            f"{r['steps']} steps",
            (r["reversal_scale"], r["target_acc"]),
            fontsize=6,
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
        )
    ax.margins(x=0.15)
    ax.set_xticks(scales, [f"{s:g}" for s in scales])
    if len(scales) >= 3:
        ax.set_xscale("log")
        ax.set_xticks(scales, [f"{s:g}" for s in scales])
    ax.set_xlabel("reversal factor scale (lam_p max)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return viz.save_figure(fig, path)


def domain_probe(features: np.ndarray, n: int, seed: int) -> float:
    """How well the domains separate in ``features`` (2n, D), the first n source: the 5-fold
    cross-validated accuracy of a fresh logistic regression predicting the domain (0.5: they
    cannot be told apart). Unlike a method's own domain head (untrained for source-only), it
    measures every method the same way."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    domains = np.repeat([0, 1], [n, len(features) - n])
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    folds = min(5, n)
    return float(cross_val_score(probe, features, domains, cv=folds).mean())


def embedding_caption(probes: dict, kind: str) -> str:
    """What the embedding figure shows, read off the measured domain separability (``probes``:
    method -> ``domain_probe``), not asserted."""
    text = (
        f"{kind.upper()} of the 1200-d features of test images, source and target coloured. "
        "Look for overlap: the more the clouds overlap, the harder the domains are to tell "
        "apart. A logistic-regression probe trained to tell them apart (5-fold CV accuracy, "
        "0.5 = chance): " + ", ".join(f"{LABELS[m]} {v:.3f}" for m, v in probes.items()) + "."
    )
    if "dann" in probes and "source_only" in probes:
        closer = abs(probes["dann"] - 0.5) < abs(probes["source_only"] - 0.5)
        text += (
            " DANN's features are "
            + ("more" if closer else "not more")
            + " domain-invariant than source-only's by this measure (one seed)."
        )
    return text


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    if config.distributed:
        import jax

        jax.distributed.initialize()
    checkpoints = workdir / "checkpoints"
    if config.resume and not (checkpoints.is_dir() and any(checkpoints.glob("*/*"))):
        raise ValueError(f"--resume: no checkpoint in {checkpoints} to resume from")
    domains, description = load_domains(data, config.build_target, config.seed)
    loggers, rows, features = {}, [], {}
    n = min(config.embed_size, len(domains["source"][2]), len(domains["target"][2]))
    for method in config.methods:
        params, logger, final, apply = train_method(
            method, config, domains, workdir, config.steps, config.reversal_scale, method, kernels
        )
        loggers[method] = logger
        rows.append({"method": method, **final, "paper_target_acc": PAPER.get(method, "")})
        images = np.concatenate([domains["source"][2][:n], domains["target"][2][:n]])
        features[method] = np.asarray(apply(params, images)[1])
    sweep_rows = [
        {
            "reversal_scale": config.reversal_scale,
            "steps": config.steps,
            **{k: r[k] for k in ("source_acc", "target_acc", "domain_acc")},
        }
        for r in rows
        if r["method"] == "dann"
    ]
    for scale in config.sweep:
        final = train_method(
            "dann", config, domains, workdir, config.sweep_steps, scale, f"sweep_{scale:g}", kernels
        )[2]
        sweep_rows.append(
            {
                "reversal_scale": scale,
                "steps": config.sweep_steps,
                **{k: final[k] for k in ("source_acc", "target_acc", "domain_acc")},
            }
        )
    sweep_rows.sort(key=lambda r: r["reversal_scale"])
    figures = [curves_figure(loggers, workdir / "curves.png").name]
    table = write_table(rows, workdir, "results")
    if sweep_rows:  # empty without a DANN method and without a sweep
        write_table(sweep_rows, workdir, "sweep")
        figures.append(sweep_figure(sweep_rows, workdir / "sweep.png").name)
    titles = {
        "source_only": "before adaptation (source only)",
        "dann": "after adaptation (DANN)",
        "no_reversal": "no reversal",
    }
    probes = {m: domain_probe(features[m], n, config.seed) for m in titles if m in features}
    embeddings = {
        titles[m]: embed(features[m], config.embedding, config.seed)
        for m in titles
        if m in features
    }
    if embeddings:
        figures.append(embedding_figure(embeddings, n, workdir / "embedding.png").name)
    accuracy = {r["method"]: r["target_acc"] for r in rows}
    text = "; ".join(
        f"{LABELS[r['method']]}: target {r['target_acc']:.4f}, source {r['source_acc']:.4f}, "
        f"domain classifier {r['domain_acc']:.3f}"
        for r in rows
    )
    sections = [
        {
            "title": "MNIST -> MNIST-M test accuracy",
            "text": f"Data: {description}. {config.steps} steps of "
            f"{config.batch_size}+{config.batch_size} images ({config.optimizer} lr "
            f"{config.learning_rate:g} "
            f"annealed, input {config.input_norm}, source augmentation {config.augment}), seed "
            f"{config.seed}, "
            f"1 run each; test images per domain: {config.test_size or 'all'}. {text}. "
            "Paper: source only 0.5225, DANN 0.7666.",
            "figures": ["curves.png"],
            "table": table,
        },
        {
            "title": "Q1/Q2. Features by domain before and after adaptation",
            "text": embedding_caption(probes, config.embedding),
            "figures": ["embedding.png"] if embeddings else [],
            "table": None,
        },
    ]
    if sweep_rows:
        sweep_text = "; ".join(
            f"scale {r['reversal_scale']:g} ({r['steps']} steps): target {r['target_acc']:.4f}"
            for r in sweep_rows
        )
        sections.append(
            {
                "title": "Q4. Effect of the reversal factor",
                "text": sweep_text,
                "figures": ["sweep.png"],
                "table": "sweep.csv",
            }
        )
    return {
        "data_used": description,
        "target_accuracy": accuracy,
        "results": rows,
        "sweep": sweep_rows,
        "domain_probe": probes,
        "steps": config.steps,
        "seed": config.seed,
        "runs": 1,
        "figures": figures,
        "sections": sections,
    }
