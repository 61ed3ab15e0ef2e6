"""Chapter 3: domain-adversarial training (DANN) from MNIST to MNIST-M, over seeds.

The headline is the paper's setting (SGD, inputs scaled to [-1, 1], no augmentation): source
only, DANN and DANN without reversal (question 1), pseudo-labelling, the source-accuracy cost
of adaptation (question 2) and the reversal-factor sweep (question 3), every run once per
seed, reported as mean +- std with paired comparisons over the seeds. A second, "strong
baseline" setting (per-image standardised inputs, randomly channel-inverted sources, Adam)
removes most of the shift before any adaptation; there a method past the practical, DANN +
mean-teacher self-training, is trained beside source only and DANN. Also: the accuracy curves,
and a 2-D embedding of the features by domain before and after adaptation. Without the real
data it runs on scikit-learn digits (source) and their MNIST-M-style blend with scikit-learn's
sample photos (target).
"""

import dataclasses
from pathlib import Path

import numpy as np

from experiments.common import Kernels, StepBar
from experiments.configs.dann import DannConfig as Config
from experiments.configs.dann import Setting
from experiments.tables import write_table
from jaxdl import dann, stats, viz
from jaxdl.data.digits import load_digits_images
from jaxdl.data.mnist import load_mnist, to_rgb32
from jaxdl.data.mnist_m import blend_mnist_m, load_mnist_m, load_photos, sample_photos
from jaxdl.train import loop, seeds
from jaxdl.train.batches import array_stream
from jaxdl.train.checkpoint import Checkpointer
from jaxdl.train.logging import SeedLoggers

# MNIST -> MNIST-M test accuracy, Ganin et al. 2016 (JMLR), table 2; self-training: iterative
# DANN with pseudo-labels (Gallego et al. 2020), and VADA / DIRT-T (Shu et al. 2018)
PAPER = {"source_only": 0.5225, "dann": 0.7666}
PUBLISHED = {
    "source_only": "0.5225 (Ganin et al. 2016)",
    "dann": "0.7666 (Ganin et al. 2016)",
    "self_train": "0.9667 iDANN (Gallego et al. 2020); 0.977 / 0.989 VADA / DIRT-T "
    "(Shu et al. 2018, larger network)",
    "target_only": "0.96-0.99 (target-only rows of the same papers)",
}
LABELS = {
    "source_only": "source only",
    "dann": "DANN",
    "pseudo": "pseudo-labelling",
    "no_reversal": "no reversal (Q1)",
    "self_train": "DANN + mean-teacher self-training",
    "target_only": "target only (upper bound)",
}
SETTINGS = {
    "paper": "paper setting (inputs scaled to [-1, 1], SGD, no augmentation)",
    "strong": "strong baseline (standardised inputs, inverted sources, Adam)",
}
METRICS = ("target_acc", "source_acc", "domain_acc")


def quick(config: Config) -> Config:
    return dataclasses.replace(
        config,
        paper=dataclasses.replace(config.paper, methods=("source_only", "dann"), steps=100),
        strong=dataclasses.replace(config.strong, methods=("self_train",), steps=100),
        seeds=(0, 1),
        batch_size=32,
        sweep=(0.3,),
        eval_every=50,
        eval_size=500,
        test_size=2000,
        embed_size=200,
        checkpoint_every=50,
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


def seed_batches(domains, batch_size: int, seed: int, start: int):
    """The batches of one seed from ``start``: its own source and target orders (streams
    ``2 seed`` and ``2 seed + 1``); the target labels ride along for ``target_only``."""
    (xs, ys), (xt, yt) = domains["source"][:2], domains["target"][:2]
    source = array_stream({"xs": xs, "ys": ys}, batch_size, 2 * seed, start)
    target = array_stream({"xt": xt, "yt": yt}, batch_size, 2 * seed + 1, start)
    return ({**s, **t} for s, t in zip(source, target))


@dataclasses.dataclass(frozen=True)
class Run:
    """One method trained in one setting: where it is logged and checkpointed, and how."""

    method: str
    setting: Setting
    scale: float
    tag: str
    may_diverge: bool = False  # a sweep run: a divergence is a result, not an error


def build(run: Run, config: Config, domains, kernels: Kernels):
    """The model, optimiser, jitted vmapped step and evaluation function of ``run`` (compiled
    once, shared by its seed groups of one size)."""
    setting = run.setting
    model = dann.DANN(widths=setting.widths, layers=kernels.layers)
    optimizer = dann.make_optimizer(setting.optimizer, setting.steps, setting.learning_rate)
    step_fn = dann.make_step(
        model,
        optimizer,
        run.method,
        setting.steps,
        gamma=config.gamma,
        scale=run.scale,
        threshold=config.threshold,
        input_norm=setting.input_norm,
        augment=setting.augment,
        pixel_mean=domains["pixel_mean"],
        ema=config.ema,
        shift=config.shift,
        entropy=config.entropy,
    )
    step = loop.jit_step(seeds.vmap_step(step_fn), batch_axis=1)
    return model, optimizer, step, make_apply(model, setting, domains)


def make_apply(model, setting: Setting, domains):
    return dann.make_apply(model, input_norm=setting.input_norm, pixel_mean=domains["pixel_mean"])


def train_group(run: Run, config: Config, domains, workdir: Path, built, group):
    """Train ``run`` (``built`` by ``build``) for the stacked seeds ``group`` with the shared
    loop (checkpoints in checkpoints/<tag>/seeds<...>, per-seed metrics in
    logs/<tag>_seed<s>.csv); returns one dict per seed: its evaluated params, logger, final
    test accuracies and seconds."""
    model, optimizer, step, apply = built
    steps = run.setting.steps
    xs_test, ys_test = domains["source"][2:]
    xt_test, yt_test = domains["target"][2:]
    k = config.eval_size
    curve_sets = ((xs_test[:k], ys_test[:k]), (xt_test[:k], yt_test[:k]))

    def batches(start):
        streams = [seed_batches(domains, config.batch_size, s, start) for s in group]
        return seeds.stacked_batches(streams)

    def evaluation(_, state):
        per_seed = [
            dann.evaluate(apply, dann.eval_params(s), *curve_sets) for s in seeds.unstack(state)
        ]
        return {f"eval_{name}": np.array([r[name] for r in per_seed]) for name in per_seed[0]}

    name = "seeds" + "-".join(map(str, group))
    checkpointer = Checkpointer(
        workdir / "checkpoints" / run.tag / name, every=config.checkpoint_every, keep=2
    )
    resume = config.resume and checkpointer.latest_step() is not None
    logger = SeedLoggers(workdir / "logs", run.tag, group)
    initial = seeds.stack([dann.init_state(model, optimizer, s, run.method) for s in group])
    bar = StepBar(steps, f"{LABELS.get(run.method, run.method)} ({run.tag}, seed {name[5:]})")
    try:
        state, _ = loop.fit(
            step,
            initial,
            batches,
            num_steps=steps,
            checkpointer=checkpointer,
            logger=logger,
            log_every=100,
            resume=resume,
            hooks=[(config.eval_every, evaluation)],
            progress=bar,
        )
    except FloatingPointError as e:
        if not run.may_diverge:
            raise
        seconds = loop.wall_seconds(logger) / len(group)
        failed = {metric: float("nan") for metric in METRICS}
        diverged = str(e).split(";")[0]  # the first non-finite metric and its step
        return [
            {"seed": s, "logger": log, "final": failed, "seconds": seconds, "diverged": diverged}
            for s, log in zip(group, logger.loggers)
        ]
    finally:
        bar.close()
        checkpointer.close()
    seconds = loop.wall_seconds(logger) / len(group)  # over resumes too
    m = config.test_size or None
    test_sets = ((xs_test[:m], ys_test[:m]), (xt_test[:m], yt_test[:m]))
    results = []
    for seed, seed_state, seed_logger in zip(group, seeds.unstack(state), logger.loggers):
        params = dann.eval_params(seed_state)
        final = dann.evaluate(apply, params, *test_sets)
        results.append(
            {
                "seed": seed,
                "params": params,
                "logger": seed_logger,
                "final": final,
                "seconds": seconds,
            }
        )
    return results


def train_seeds(run: Run, config: Config, domains, workdir: Path, kernels: Kernels):
    """``train_group`` over the seed groups of ``config.seed_mode``: one dict per seed."""
    built = build(run, config, domains, kernels)
    return [
        result
        for group in seeds.groups(config.seeds, config.seed_mode)
        for result in train_group(run, config, domains, workdir, built, group)
    ]


def summary_row(setting: str, run: Run, results: list, **extra) -> dict:
    """Mean +- std over the seeds of one run's final accuracies (those that did not diverge)."""
    row = {"setting": setting, "method": run.method}
    finished = [r for r in results if "diverged" not in r] or results
    for metric in METRICS:
        summary = stats.mean_std([r["final"][metric] for r in finished])
        row[f"{metric}_mean"], row[f"{metric}_std"] = summary["mean"], summary["std"]
    row["seeds"] = " ".join(str(r["seed"]) for r in results)
    row["steps"] = run.setting.steps
    row["seconds_per_seed"] = round(float(np.mean([r["seconds"] for r in results])), 1)
    return {**row, **extra}


def per_seed_rows(setting: str, run: Run, results: list) -> list[dict]:
    return [
        {
            "setting": setting,
            "method": run.method,
            "reversal_scale": run.scale,
            "seed": r["seed"],
            **r["final"],
            "steps": run.setting.steps,
            "seconds": round(r["seconds"], 1),
            "diverged": r.get("diverged", ""),
        }
        for r in results
    ]


def pm(mean: float, std: float) -> str:
    return f"{mean:.4f} +- {std:.4f}"


def comparison(name: str, a: list, b: list, metric: str) -> dict:
    """A paired test over seeds of ``metric`` of runs ``a`` against ``b`` (the same seeds)."""
    test = stats.paired_test([r["final"][metric] for r in a], [r["final"][metric] for r in b])
    return {"comparison": name, "metric": metric, **test}


def curves_figure(curves: dict, path: Path):
    """curves: label -> list of per-seed loggers; mean over seeds with a +-1 std band."""
    fig, axes = viz.new_figure(1, 3, size=(4.5, 3.5))
    for label, loggers in curves.items():
        for ax, metric in zip(axes, METRICS):
            steps = loggers[0].series(f"eval_{metric}")[0]
            values = np.array([logger.series(f"eval_{metric}")[1] for logger in loggers])
            mean, std = values.mean(0), values.std(0)
            (line,) = ax.plot(steps, mean, marker="o", markersize=3, label=label)
            ax.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
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
    n = len(next(iter(curves.values())))
    axes[0].legend(fontsize=7, title=f"mean +- std, {n} seeds", title_fontsize=7)
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
    """Target and domain accuracy (mean +- std over seeds) against the reversal scale; log
    scale from three scales on."""
    fig, ax = viz.new_figure(size=(4.5, 3.5))
    scales = [r["reversal_scale"] for r in rows]
    for metric, marker, label in (
        ("target_acc", "o", "target accuracy"),
        ("source_acc", "^", "source accuracy"),
        ("domain_acc", "s", "domain classifier accuracy"),
    ):
        means = [r[f"{metric}_mean"] for r in rows]
        stds = [r[f"{metric}_std"] for r in rows]
        ax.errorbar(scales, means, yerr=stds, marker=marker, capsize=3, label=label)
    for r in rows:
        if r.get("diverged"):
            ax.annotate(
                f"{r['diverged']} of {r['n'] + r['diverged']} seeds diverged",
                (r["reversal_scale"], 0.03),
                fontsize=7,
                ha="center",
            )
    ax.set_ylim(0, 1.02)
    ax.margins(x=0.15)
    if len(scales) >= 3:
        ax.set_xscale("log")
    ax.set_xticks(scales, [f"{s:g}" for s in scales])
    ax.set_xlabel("reversal factor scale (lam_p max)")
    title = f"{rows[0]['steps']} steps each, mean +- std over the seeds that did not diverge"
    ax.set_title(title, fontsize=8)
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


def embedding_caption(probes: dict, kind: str, seed: int, dim: int) -> str:
    """What the embedding figure (``dim``-d features of seed ``seed``) shows, read off the
    measured domain separability (``probes``: method -> per-seed ``domain_probe`` values), not
    asserted."""
    text = (
        f"{kind.upper()} of the {dim}-d features of test images (seed {seed}), source and "
        "target coloured. Look for overlap: the more the clouds overlap, the harder the domains "
        "are to tell apart. A logistic-regression probe trained to tell them apart (5-fold CV "
        "accuracy, 0.5 = chance), mean +- std over the seeds: "
        + ", ".join(
            f"{LABELS[m]} {pm(np.mean(v), np.std(v, ddof=1) if len(v) > 1 else 0)}"
            for m, v in probes.items()
        )
        + "."
    )
    if "dann" in probes and "source_only" in probes:
        gap = [abs(s - 0.5) - abs(d - 0.5) for s, d in zip(probes["source_only"], probes["dann"])]
        closer = all(g > 0 for g in gap)
        text += (
            " DANN's features are "
            + (
                "more domain-invariant than source-only's on every seed"
                if closer
                else "not more domain-invariant than source-only's on every seed"
            )
            + " by this measure."
        )
    return text


def train_setting(name: str, config: Config, domains, workdir, kernels):
    """Every method of setting ``name`` over the seeds: {method: per-seed results}."""
    setting = getattr(config, name)
    return {
        method: train_seeds(
            Run(method, setting, config.reversal_scale, f"{name}_{method}"),
            config,
            domains,
            workdir,
            kernels,
        )
        for method in setting.methods
    }


SMOKE_STEPS = 1000  # below this a run is labelled a smoke run


def setting_text(name: str, setting: Setting, config: Config, description: str) -> str:
    smoke = (
        f"A smoke run of {setting.steps} steps: too short for these numbers to mean anything. "
        if setting.steps < SMOKE_STEPS
        else ""
    )
    return smoke + (
        f"{SETTINGS[name]}. Data: {description}. {setting.steps} steps of {config.batch_size}"
        f"+{config.batch_size} images per run ({setting.optimizer} lr {setting.learning_rate:g}"
        f" annealed, input {setting.input_norm}, source augmentation {setting.augment}); seeds "
        f"{', '.join(map(str, config.seeds))}; test images per domain: "
        f"{config.test_size or 'all'}. "
    )


def results_text(rows: list) -> str:
    return (
        "; ".join(
            f"{LABELS[r['method']]}: target {pm(r['target_acc_mean'], r['target_acc_std'])}, "
            f"source {pm(r['source_acc_mean'], r['source_acc_std'])}, "
            f"{r['seconds_per_seed']:.0f} s per seed"
            + (f" (published {r['published']})" if r.get("published") else "")
            for r in rows
        )
        + "."
    )


def ceiling_text(rows: list) -> str:
    """What the target-only upper bound says about self-training beside it: the share of the
    source-only-to-target-only gap it closes."""
    by_method = {r["method"]: r["target_acc_mean"] for r in rows}
    if not {"target_only", "self_train", "source_only"} <= set(by_method):
        return ""
    ceiling, base = by_method["target_only"], by_method["source_only"]
    closed = (by_method["self_train"] - base) / max(ceiling - base, 1e-9)
    return (
        f" Trained on the labelled target itself, this network reaches {ceiling:.4f} in the "
        f"same steps; self-training closes {closed:.0%} of the gap from source only to it. The "
        "published self-training numbers near 0.97 come with longer training (and, for VADA / "
        "DIRT-T, a larger network)."
    )


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    if config.distributed:
        import jax

        jax.distributed.initialize()
    domains, description = load_domains(data, config.build_target, config.seeds[0])
    domains["pixel_mean"] = dann.pixel_mean_of(domains["source"][0], domains["target"][0])
    trained = {name: train_setting(name, config, domains, workdir, kernels) for name in SETTINGS}

    summaries, per_seed = {}, []
    for name, methods in trained.items():
        setting = getattr(config, name)
        summaries[name] = [
            summary_row(
                name,
                Run(m, setting, config.reversal_scale, ""),
                results,
                published=PUBLISHED.get(m, "") if name == "paper" or m not in PAPER else "",
            )
            for m, results in methods.items()
        ]
        for m, results in methods.items():
            per_seed += per_seed_rows(name, Run(m, setting, config.reversal_scale, ""), results)

    paper_runs = trained["paper"]
    sweep_runs = {
        scale: train_seeds(
            Run("dann", config.paper, scale, f"sweep_{scale:g}", may_diverge=True),
            config,
            domains,
            workdir,
            kernels,
        )
        for scale in config.sweep
        if "dann" in paper_runs
    }
    if "dann" in paper_runs and sweep_runs:
        sweep_runs[config.reversal_scale] = paper_runs["dann"]
    sweep_rows = []
    for scale in sorted(sweep_runs):
        run_ = Run("dann", config.paper, scale, "")
        row = summary_row("paper", run_, sweep_runs[scale])
        diverged = sum("diverged" in r for r in sweep_runs[scale])
        n = len(sweep_runs[scale]) - diverged
        sweep_rows.append({"reversal_scale": scale, **row, "n": n, "diverged": diverged})
        if scale != config.reversal_scale:
            per_seed += per_seed_rows("paper", run_, sweep_runs[scale])

    comparisons = []
    for name, methods in trained.items():
        pairs = [
            ("dann", "source_only", "target_acc"),
            ("dann", "source_only", "source_acc"),
            ("dann", "no_reversal", "target_acc"),
            ("pseudo", "source_only", "target_acc"),
            ("self_train", "dann", "target_acc"),
            ("self_train", "source_only", "target_acc"),
            ("target_only", "self_train", "target_acc"),
        ]
        for a, b, metric in pairs:
            if a in methods and b in methods and len(config.seeds) > 1:
                comparisons.append(
                    {"setting": name, **comparison(f"{a} - {b}", methods[a], methods[b], metric)}
                )

    figures, sections = [], []
    tables = {}
    for name in SETTINGS:
        if summaries[name]:
            tables[name] = write_table(summaries[name], workdir, f"results_{name}")
            curves = {LABELS[m]: [r["logger"] for r in rs] for m, rs in trained[name].items()}
            figures.append(curves_figure(curves, workdir / f"curves_{name}.png").name)
    write_table(per_seed, workdir, "results_per_seed")
    if comparisons:
        write_table(comparisons, workdir, "comparisons")
    if sweep_rows:
        write_table(sweep_rows, workdir, "sweep")
        figures.append(sweep_figure(sweep_rows, workdir / "sweep.png").name)

    titles = {
        "source_only": "before adaptation (source only)",
        "dann": "after adaptation (DANN)",
        "no_reversal": "no reversal",
    }
    n = min(config.embed_size, len(domains["source"][2]), len(domains["target"][2]))
    images = np.concatenate([domains["source"][2][:n], domains["target"][2][:n]])
    paper_model = dann.DANN(widths=config.paper.widths, layers=kernels.layers)
    apply = make_apply(paper_model, config.paper, domains)
    probes, embeddings = {}, {}
    for method in (m for m in titles if m in paper_runs):
        features = [np.asarray(apply(r["params"], images)[1]) for r in paper_runs[method]]
        probes[method] = [domain_probe(f, n, config.seeds[0]) for f in features]
        embeddings[titles[method]] = embed(features[0], config.embedding, config.seeds[0])
    if embeddings:
        figures.append(embedding_figure(embeddings, n, workdir / "embedding.png").name)

    def said(a, b, metric, name="paper"):
        rows = [
            c
            for c in comparisons
            if c["setting"] == name and c["comparison"] == f"{a} - {b}" and c["metric"] == metric
        ]
        if rows:
            return stats.verdict(rows[0])
        return "not compared (one seed)" if len(config.seeds) < 2 else "not compared (not run)"

    def setting_section(name, title, pairs, extra=""):
        """The section of setting ``name``: its settings, results and the paired verdicts of
        ``pairs`` ((label, a, b): a against b on the target)."""
        verdicts = "".join(f" {label}: {said(a, b, 'target_acc', name)}." for label, a, b in pairs)
        text = setting_text(name, getattr(config, name), config, description)
        return {
            "title": title,
            "text": text + results_text(summaries[name]) + verdicts + extra,
            "figures": [f"curves_{name}.png"],
            "table": tables[name],
        }

    if summaries["paper"]:
        sections.append(
            setting_section(
                "paper",
                "Q1. MNIST -> MNIST-M in the paper's setting",
                (
                    ("DANN against source only on the target", "dann", "source_only"),
                    ("DANN against no reversal", "dann", "no_reversal"),
                ),
                " Curves: mean +- std over the seeds (2000 test images per domain).",
            )
        )
        sections.append(
            {
                "title": "Q2. What adaptation costs on the source",
                "text": "Source (MNIST) test accuracy of DANN against source only, paired over the "
                f"seeds: {said('dann', 'source_only', 'source_acc')}. The domain loss pulls the "
                "features towards what both domains share, away from what only labels the source.",
                "figures": [],
                "table": "comparisons.csv" if comparisons else None,
            }
        )
        sections.append(
            {
                "title": "Q1/Q2. Features by domain before and after adaptation",
                "text": embedding_caption(
                    probes, config.embedding, config.seeds[0], 25 * config.paper.widths[1]
                ),
                "figures": ["embedding.png"] if embeddings else [],
                "table": None,
            }
        )
    if sweep_rows:
        sections.append(
            {
                "title": "Q3. Effect of the reversal factor",
                "text": "DANN in the paper setting with the ramp's final factor scaled; "
                + "; ".join(
                    f"scale {r['reversal_scale']:g}: target "
                    f"{pm(r['target_acc_mean'], r['target_acc_std'])}"
                    for r in sweep_rows
                )
                + ".",
                "figures": ["sweep.png"],
                "table": "sweep.csv",
            }
        )
    if summaries["strong"]:
        sections.append(
            setting_section(
                "strong",
                "Strong baseline and a method past the practical",
                (
                    ("Self-training against DANN", "self_train", "dann"),
                    ("DANN against source only", "dann", "source_only"),
                ),
                ceiling_text(summaries["strong"])
                + f" Self-training: teacher EMA {config.ema}, confidence >= {config.threshold}, "
                f"student target shift {config.shift} px and channel inversion, class-balanced, "
                f"target entropy weight {config.entropy:g}.",
            )
        )
    return {
        "data_used": description,
        "target_accuracy": {
            f"{r['setting']}/{r['method']}": r["target_acc_mean"]
            for rows in summaries.values()
            for r in rows
        },
        "results": [r for rows in summaries.values() for r in rows],
        "per_seed": per_seed,
        "comparisons": comparisons,
        "sweep": sweep_rows,
        "domain_probe": probes,
        "pixel_mean": domains["pixel_mean"],
        "seeds": list(config.seeds),
        "seed_groups": [list(g) for g in seeds.groups(config.seeds, config.seed_mode)],
        "figures": figures,
        "sections": sections,
    }
