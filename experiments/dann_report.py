"""Chapter 3's figures and report sections, from the trained runs' numbers: what each
question's section says is read off the results, not asserted."""

import dataclasses
from pathlib import Path

import numpy as np

from experiments.report import Section
from jaxdl import stats, viz

METRICS = ("target_acc", "source_acc", "domain_acc")
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
# the paper methods whose features are embedded, with their panel titles
EMBEDDED_METHODS = {
    "source_only": "before adaptation (source only)",
    "dann": "after adaptation (DANN)",
    "no_reversal": "no reversal",
}
SMOKE_STEPS = 1000  # below this a run is labelled a smoke run


def pm(mean: float, std: float) -> str:
    return f"{mean:.4f} +- {std:.4f}"


def curves_figure(curves: dict, path: Path, domains: tuple[str, str]):
    """curves: label -> list of per-seed loggers; mean over seeds with a +-1 std band."""
    fig, axes = viz.new_figure(1, 3, size=(4.5, 3.5))
    for label, loggers in curves.items():
        for ax, metric in zip(axes, METRICS):
            steps = loggers[0].series(f"eval_{metric}")[0]
            values = np.array([logger.series(f"eval_{metric}")[1] for logger in loggers])
            mean, std = values.mean(0), values.std(0)
            (line,) = ax.plot(steps, mean, marker="o", markersize=3, label=label)
            ax.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    titles = (f"target ({domains[1]}) test accuracy", f"source ({domains[0]}) test accuracy")
    for ax, title in zip(axes, titles + ("domain classifier accuracy",)):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    n = len(next(iter(curves.values())))
    axes[0].legend(fontsize=7, title=f"mean +- std, {n} seeds", title_fontsize=7)
    return viz.save_figure(fig, path)


def embedding_figure(embeddings: dict, n: int, path: Path, domains: tuple[str, str]):
    """embeddings: title -> (2n, 2) points, the first n source, the rest target."""
    fig, axes = viz.new_figure(1, len(embeddings), size=(4, 4))
    for ax, (title, points) in zip(np.atleast_1d(axes), embeddings.items()):
        ax.scatter(*points[:n].T, s=4, alpha=0.6, label=f"source ({domains[0]})")
        ax.scatter(*points[n:].T, s=4, alpha=0.6, label=f"target ({domains[1]})")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, markerscale=3)
    return viz.save_figure(fig, path)


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
            text = f"{r['diverged']} of {r['n'] + r['diverged']} seeds diverged"
            ax.annotate(text, (r["reversal_scale"], 0.03), fontsize=7, ha="center")
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


def domain_names(description: str) -> tuple[str, str]:
    """(source, target) as the data names them: MNIST / MNIST-M, or the embedded stand-ins."""
    if description.startswith("embedded"):
        return "digits", "photo-blended digits"
    return "MNIST", "MNIST-M"


def figures(
    trained: dict, sweep_rows: list, embeddings: dict, n: int, workdir: Path, description: str
) -> list[str]:
    """The curves of each setting, the sweep and the embedding: their file names."""
    names = domain_names(description)
    out = []
    for name, methods in trained.items():
        if methods:
            curves = {LABELS[m]: [r.logger for r in rs] for m, rs in methods.items()}
            out.append(curves_figure(curves, workdir / f"curves_{name}.png", names).name)
    if sweep_rows:
        out.append(sweep_figure(sweep_rows, workdir / "sweep.png").name)
    if embeddings:
        titled = {EMBEDDED_METHODS[m]: points for m, points in embeddings.items()}
        out.append(embedding_figure(titled, n, workdir / "embedding.png", names).name)
    return out


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
        invariant = "more" if all(g > 0 for g in gap) else "not more"
        text += (
            f" DANN's features are {invariant} domain-invariant than source-only's on every seed "
            "by this measure."
        )
    return text


def counts(sizes: tuple[int, int]) -> str:
    """Test images of source and target, as one number where they are equal."""
    return str(sizes[0]) if sizes[0] == sizes[1] else f"{sizes[0]} source / {sizes[1]} target"


def setting_text(name: str, setting, config, description: str, tested: tuple[int, int]) -> str:
    smoke = (
        f"A smoke run of {setting.steps} steps: too short for these numbers to mean anything. "
        if setting.steps < SMOKE_STEPS
        else ""
    )
    return smoke + (
        f"{SETTINGS[name]}. Data: {description}. {setting.steps} steps of {config.batch_size}"
        f"+{config.batch_size} images per run ({setting.optimizer} lr {setting.learning_rate:g}"
        f" annealed, input {setting.input_norm}, source augmentation {setting.augment}); seeds "
        f"{', '.join(map(str, config.seeds))}; test images per domain: {counts(tested)}. "
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


@dataclasses.dataclass(frozen=True)
class Findings:
    """What the sections are written from: the config, the data's description, the summary
    rows and table file of each setting, the paired comparisons, the sweep and the probes."""

    config: object
    description: str
    summaries: dict
    tables: dict
    comparisons: list
    sweep: list
    probes: dict
    tested: tuple[int, int]  # source and target test images of the final numbers
    curved: tuple[int, int]  # and of the curves

    def said(self, a: str, b: str, metric: str, setting: str = "paper") -> str:
        """The verdict of the paired comparison of ``a`` against ``b`` on ``metric``."""
        for c in self.comparisons:
            if (c["setting"], c["comparison"], c["metric"]) == (setting, f"{a} - {b}", metric):
                return stats.verdict(c)
        return "not compared (one seed)" if len(self.config.seeds) < 2 else "not compared (not run)"

    def setting_section(self, name: str, title: str, pairs, extra: str = "") -> Section:
        """Setting ``name``: its settings, results and the verdicts of ``pairs`` ((label, a,
        b): a against b on the target)."""
        verdicts = "".join(
            f" {label}: {self.said(a, b, 'target_acc', name)}." for label, a, b in pairs
        )
        setting = getattr(self.config, name)
        text = setting_text(name, setting, self.config, self.description, self.tested)
        return Section(
            title,
            text + results_text(self.summaries[name]) + verdicts + extra,
            figures=(f"curves_{name}.png",),
            table=self.tables[name],
            captions=(
                "Test accuracy on the target and the source, and the domain classifier's, "
                "during training: mean +- std over the seeds",
            ),
        )


def paper_sections(found: Findings, embedded: bool) -> list[Section]:
    """Questions 1 and 2 in the paper's setting."""
    config, (source, target) = found.config, domain_names(found.description)
    pairs = (
        ("DANN against source only on the target", "dann", "source_only"),
        ("DANN against no reversal", "dann", "no_reversal"),
    )
    curves = f" Curves: mean +- std over the seeds ({counts(found.curved)} test images per domain)."
    cost = found.said("dann", "source_only", "source_acc")
    return [
        found.setting_section(
            "paper", f"Q1. {source} -> {target} in the paper's setting", pairs, curves
        ),
        Section(
            "Q2. What adaptation costs on the source",
            f"Source ({source}) test accuracy of DANN against source only, paired over the "
            f"seeds: {cost}. The domain loss pulls the features towards what both domains "
            "share, away from what only labels the source.",
            table="comparisons.csv" if found.comparisons else None,
        ),
        Section(
            "Q1/Q2. Features by domain before and after adaptation",
            embedding_caption(
                found.probes, config.embedding, config.seeds[0], 25 * config.paper.widths[1]
            ),
            figures=("embedding.png",) if embedded else (),
            captions=(
                f"{config.embedding.upper()} of the features of source and target test images, "
                f"seed {config.seeds[0]}, before and after adaptation",
            ),
        ),
    ]


def sections(found: Findings, embedded: bool) -> list[Section]:
    """The chapter's sections, by the practical's questions."""
    out = paper_sections(found, embedded) if found.summaries.get("paper") else []
    if found.sweep:
        scales = "; ".join(
            f"scale {r['reversal_scale']:g}: target {pm(r['target_acc_mean'], r['target_acc_std'])}"
            for r in found.sweep
        )
        text = f"DANN in the paper setting with the ramp's final factor scaled; {scales}."
        caption = "Accuracies against the scale of the reversal factor, mean +- std over the seeds"
        title = "Q3. Effect of the reversal factor"
        out.append(Section(title, text, ("sweep.png",), "sweep.csv", (caption,)))
    if found.summaries.get("strong"):
        c = found.config
        pairs = (
            ("Self-training against DANN", "self_train", "dann"),
            ("DANN against source only", "dann", "source_only"),
        )
        extra = ceiling_text(found.summaries["strong"]) + (
            f" Self-training: teacher EMA {c.ema}, confidence >= {c.threshold}, student target "
            f"shift {c.shift} px and channel inversion, class-balanced, target entropy weight "
            f"{c.entropy:g}."
        )
        title = "Strong baseline and a method past the practical"
        out.append(found.setting_section("strong", title, pairs, extra))
    return out


def headline(summaries: dict) -> list[dict]:
    """The summary table's rows: target accuracy of each paper method and of self-training,
    mean +- std over the seeds, beside its published number."""
    rows = []
    for name in ("paper", "strong"):
        for r in summaries.get(name, []):
            if name == "paper" or r["method"] == "self_train":
                rows.append(
                    {
                        "result": f"{LABELS[r['method']]}, target accuracy ({name} setting, "
                        f"{len(r['seeds'].split())} seeds, {r['steps']} steps)",
                        "measured": pm(r["target_acc_mean"], r["target_acc_std"]),
                        "reference": PUBLISHED.get(r["method"], "-"),
                    }
                )
    return rows
