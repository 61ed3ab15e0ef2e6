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
sample photos (target). The methods, presets, data and probe are ``jaxdl.dann``'s; this module
trains them over the seeds and writes the results.
"""

import dataclasses
from pathlib import Path
from typing import Any

import jax
import numpy as np

from experiments import dann_report as report
from experiments.common import Kernels, StepBar
from experiments.configs.dann import DannConfig as Config
from experiments.tables import write_table
from jaxdl import dann, stats
from jaxdl.dann.probe import domain_probe, embed_2d
from jaxdl.train import groups, seeds
from jaxdl.train.logging import MetricsLogger

METRICS = report.METRICS
# the paired comparisons of each setting: (a, b, metric), a against b over the seeds
PAIRS = (
    ("dann", "source_only", "target_acc"),
    ("dann", "source_only", "source_acc"),
    ("dann", "no_reversal", "target_acc"),
    ("pseudo", "source_only", "target_acc"),
    ("self_train", "dann", "target_acc"),
    ("self_train", "source_only", "target_acc"),
    ("target_only", "self_train", "target_acc"),
)


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


@dataclasses.dataclass(frozen=True)
class Run:
    """One method trained in one setting: where it is logged and checkpointed, and how."""

    method: str
    setting: dann.Setting
    scale: float
    tag: str
    may_diverge: bool = False  # a sweep run: a divergence is a result, not an error


@dataclasses.dataclass(frozen=True)
class SeedResult:
    """One seed of a run: its evaluated weights (None when it diverged), metric log, final
    test accuracies (``METRICS``), training seconds and, if it diverged, where."""

    seed: int
    params: Any
    logger: MetricsLogger
    final: dict
    seconds: float
    diverged: str = ""


def build(run: Run, config: Config, domains: dann.Domains, kernels: Kernels) -> dann.Parts:
    """The library's parts of ``run`` with its jitted step of stacked seeds (compiled once,
    shared by its seed groups of one size)."""
    parts = dann.build(
        run.setting,
        run.method,
        hyper=config.hyper(run.scale),
        pixel_mean=domains.pixel_mean,
        layers=kernels.layers,
    )
    return parts._replace(step=groups.stacked_step(parts.step))


def train_group(run: Run, config: Config, domains, workdir: Path, parts, group) -> list:
    """Train ``run`` for the seeds ``group`` (checkpoints/<tag>/seeds<...>, logs/<tag>_seed<s>);
    one ``SeedResult`` per seed, its final accuracies on ``config.test_size`` test images."""
    source, target = domains.source, domains.target
    k, m = config.eval_size, config.test_size or None
    curve_sets = ((source.x_test[:k], source.y_test[:k]), (target.x_test[:k], target.y_test[:k]))
    test_sets = ((source.x_test[:m], source.y_test[:m]), (target.x_test[:m], target.y_test[:m]))

    def evaluation(_, state):
        per_seed = [
            dann.evaluate(parts.apply, dann.eval_params(s), *curve_sets)
            for s in seeds.unstack(state)
        ]
        return {f"eval_{name}": np.array([r[name] for r in per_seed]) for name in per_seed[0]}

    label = report.LABELS.get(run.method, run.method)
    bar = StepBar(run.setting.steps, f"{label} ({run.tag}, seed {'-'.join(map(str, group))})")
    try:
        runs = groups.train_group(
            parts.step,
            lambda s: dann.init_state(parts.model, parts.optimizer, s, run.method),
            lambda s, start: dann.seed_batches(domains, config.batch_size, s, start),
            group,
            num_steps=run.setting.steps,
            checkpoints=workdir / "checkpoints" / run.tag,
            checkpoint_every=config.checkpoint_every,
            logs=workdir / "logs",
            log_name=run.tag,
            resume=config.resume,
            hooks=[(config.eval_every, evaluation)],
            progress=bar,
            allow_divergence=run.may_diverge,
        )
    finally:
        bar.close()
    return [seed_result(r, parts, test_sets) for r in runs]


def seed_result(run: groups.SeedRun, parts: dann.Parts, test_sets) -> SeedResult:
    if run.diverged:
        failed = {metric: float("nan") for metric in METRICS}
        return SeedResult(run.seed, None, run.logger, failed, run.seconds, run.stopped_by[10:])
    params = dann.eval_params(run.state)
    final = dann.evaluate(parts.apply, params, *test_sets)
    return SeedResult(run.seed, params, run.logger, final, run.seconds)


def train_seeds(run: Run, config: Config, domains, workdir: Path, kernels: Kernels) -> list:
    """``train_group`` over the seed groups of ``config.seed_mode``: one result per seed."""
    parts = build(run, config, domains, kernels)
    return [
        result
        for group in seeds.groups(config.seeds, config.seed_mode)
        for result in train_group(run, config, domains, workdir, parts, group)
    ]


def train_setting(name: str, config: Config, domains, workdir, kernels) -> dict:
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


def summary_row(setting: str, run: Run, results: list, **extra) -> dict:
    """Mean +- std over the seeds of one run's final accuracies (those that did not diverge)."""
    row = {"setting": setting, "method": run.method}
    finished = [r for r in results if not r.diverged] or results
    for metric in METRICS:
        summary = stats.mean_std([r.final[metric] for r in finished])
        row[f"{metric}_mean"], row[f"{metric}_std"] = summary["mean"], summary["std"]
    row["seeds"] = " ".join(str(r.seed) for r in results)
    row["steps"] = run.setting.steps
    row["seconds_per_seed"] = round(float(np.mean([r.seconds for r in results])), 1)
    return {**row, **extra}


def per_seed_rows(setting: str, run: Run, results: list) -> list[dict]:
    return [
        {
            "setting": setting,
            "method": run.method,
            "reversal_scale": run.scale,
            "seed": r.seed,
            **r.final,
            "steps": run.setting.steps,
            "seconds": round(r.seconds, 1),
            "diverged": r.diverged,
        }
        for r in results
    ]


def summarise(trained: dict, config: Config) -> tuple[dict, list]:
    """{setting: summary rows} with the published numbers beside the paper's rows, and the
    per-seed rows of every run."""
    summaries, per_seed = {}, []
    for name, methods in trained.items():
        setting = getattr(config, name)
        summaries[name] = []
        for m, results in methods.items():
            run = Run(m, setting, config.reversal_scale, "")
            published = (
                report.PUBLISHED.get(m, "") if name == "paper" or m not in report.PAPER else ""
            )
            summaries[name].append(summary_row(name, run, results, published=published))
            per_seed += per_seed_rows(name, run, results)
    return summaries, per_seed


def sweep(config: Config, trained: dict, domains, workdir: Path, kernels) -> tuple[list, list]:
    """Question 3: DANN in the paper setting at each ``config.sweep`` scale (a divergence is a
    result) beside the main runs' scale; (sweep rows, their per-seed rows)."""
    if "dann" not in trained["paper"] or not config.sweep:
        return [], []
    runs = {
        scale: train_seeds(
            Run("dann", config.paper, scale, f"sweep_{scale:g}", may_diverge=True),
            config,
            domains,
            workdir,
            kernels,
        )
        for scale in config.sweep
    }
    runs[config.reversal_scale] = trained["paper"]["dann"]
    rows, per_seed = [], []
    for scale in sorted(runs):
        run = Run("dann", config.paper, scale, "")
        diverged = sum(r.diverged != "" for r in runs[scale])
        row = summary_row("paper", run, runs[scale])
        rows.append(
            {"reversal_scale": scale, **row, "n": len(runs[scale]) - diverged, "diverged": diverged}
        )
        if scale != config.reversal_scale:
            per_seed += per_seed_rows("paper", run, runs[scale])
    return rows, per_seed


def comparisons(trained: dict, config: Config) -> list[dict]:
    """The paired tests over the seeds of ``PAIRS`` in each setting (none from one seed)."""
    rows = []
    for name, methods in trained.items():
        for a, b, metric in PAIRS:
            if a in methods and b in methods and len(config.seeds) > 1:
                test = stats.paired_test(
                    [r.final[metric] for r in methods[a]], [r.final[metric] for r in methods[b]]
                )
                rows.append({"setting": name, "comparison": f"{a} - {b}", "metric": metric, **test})
    return rows


def probe_features(config: Config, trained: dict, domains, kernels) -> tuple[dict, dict, int]:
    """The domain probe of each paper method's test features per seed, and the 2-D embedding
    of the first seed's: (probes {method: [per seed]}, embeddings {method: (2n, 2)}, n)."""
    n = min(config.embed_size, len(domains.source.x_test), len(domains.target.x_test))
    images = np.concatenate([domains.source.x_test[:n], domains.target.x_test[:n]])
    apply = dann.build(
        config.paper, "dann", pixel_mean=domains.pixel_mean, layers=kernels.layers
    ).apply
    probes, embeddings = {}, {}
    for method in (m for m in report.EMBEDDED_METHODS if m in trained["paper"]):
        features = [np.asarray(apply(r.params, images)[1]) for r in trained["paper"][method]]
        probes[method] = [domain_probe(f, n) for f in features]
        embeddings[method] = embed_2d(features[0], config.embedding, config.seeds[0])
    return probes, embeddings, n


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    if config.distributed:
        jax.distributed.initialize()
    domains = dann.load_domains(data, build_target=config.build_target, seed=config.seeds[0])
    trained = {
        name: train_setting(name, config, domains, workdir, kernels) for name in report.SETTINGS
    }
    summaries, per_seed = summarise(trained, config)
    sweep_rows, sweep_seeds = sweep(config, trained, domains, workdir, kernels)
    compared = comparisons(trained, config)
    probes, embeddings, n = probe_features(config, trained, domains, kernels)
    tables = {
        name: write_table(rows, workdir, f"results_{name}")
        for name, rows in summaries.items()
        if rows
    }
    write_table(per_seed + sweep_seeds, workdir, "results_per_seed")
    if compared:
        write_table(compared, workdir, "comparisons")
    if sweep_rows:
        write_table(sweep_rows, workdir, "sweep")
    figures = report.figures(trained, sweep_rows, embeddings, n, workdir, domains.description)
    test_sets = (domains.source.x_test, domains.target.x_test)
    found = report.Findings(
        config,
        domains.description,
        summaries,
        tables,
        compared,
        sweep_rows,
        probes,
        tested=tuple(len(x[: config.test_size or None]) for x in test_sets),
        curved=tuple(len(x[: config.eval_size]) for x in test_sets),
    )
    return {
        "data_used": domains.description,
        "target_accuracy": {
            f"{r['setting']}/{r['method']}": r["target_acc_mean"]
            for rows in summaries.values()
            for r in rows
        },
        "results": [r for rows in summaries.values() for r in rows],
        "per_seed": per_seed + sweep_seeds,
        "comparisons": compared,
        "sweep": sweep_rows,
        "domain_probe": probes,
        "pixel_mean": domains.pixel_mean,
        "seeds": list(config.seeds),
        "seed_groups": [list(g) for g in seeds.groups(config.seeds, config.seed_mode)],
        "figures": figures,
        "headline": report.headline(summaries),
        "sections": [s.to_json() for s in report.sections(found, embedded=bool(embeddings))],
    }
