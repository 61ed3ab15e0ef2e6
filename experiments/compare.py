"""``jaxdl compare``: two finished runs, seed by seed, with a paired test per metric.

A claim that one setting beats another holds only when the difference is the same on the same
seeds; this reads the ``per_seed`` results of two run folders (e.g. a GAN lever against the
default), pairs them by seed (and by setting, method and reversal scale where a run holds
several), and prints each metric's means, paired difference, t-test and verdict.
"""

import json
import math
import sys
from pathlib import Path

from experiments.common import print_result
from jaxdl import stats
from jaxdl.errors import InputError

KEYS = ("setting", "method", "reversal_scale")  # what else, beside the seed, names a row
NOT_METRICS = ("seed", "seconds", "steps", *KEYS)


def load_per_seed(run: Path) -> list[dict]:
    """The ``per_seed`` rows of ``run/results.json``."""
    path = Path(run) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results.json (expected a finished run folder)")
    rows = json.loads(path.read_text()).get("per_seed")
    if not rows:
        raise InputError(f"{path}: no per_seed results to compare")
    return rows


def is_metric(name: str, value) -> bool:
    return (
        name not in NOT_METRICS
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def one_sided(rows_a: list[dict], rows_b: list[dict]) -> dict[str, list[str]]:
    """The metrics only one of the two runs has, which cannot be compared (a run scored before a
    metric existed, say): ``{"only in a": [...], "only in b": [...]}``, empty sides left out."""

    def names(rows):
        return {k for r in rows for k, v in r.items() if is_metric(k, v)}

    a, b = names(rows_a), names(rows_b)
    sides = {"only in a": sorted(a - b), "only in b": sorted(b - a)}
    return {side: found for side, found in sides.items() if found}


def row_key(row: dict) -> tuple:
    return tuple((k, row[k]) for k in KEYS if k in row)


def compare_rows(rows_a: list[dict], rows_b: list[dict], metrics=None) -> list[dict]:
    """One paired comparison (``stats.paired_test`` of a - b plus the two means) per row key and
    metric present in both, over the seeds both have; ``metrics`` restricts the metrics."""
    index_b = {(row_key(r), r["seed"]): r for r in rows_b}
    groups: dict[tuple, list] = {}
    for a in rows_a:
        b = index_b.get((row_key(a), a["seed"]))
        if b is not None:
            groups.setdefault(row_key(a), []).append((a, b))
    if not groups:
        raise InputError("the two runs share no seed (of the same setting and method)")
    out = []
    for key, pairs in groups.items():
        names = [k for k, v in pairs[0][0].items() if is_metric(k, v)]
        for name in names:
            if metrics and name not in metrics:
                continue
            pairs_m = [(a[name], b[name]) for a, b in pairs if is_metric(name, b.get(name))]
            if len(pairs_m) < 2 or len(pairs_m) < len(pairs):
                continue
            a_values, b_values = zip(*pairs_m)
            out.append(
                {
                    **dict(key),
                    "metric": name,
                    "seeds": " ".join(str(a["seed"]) for a, _ in pairs),
                    "mean_a": stats.mean_std(a_values)["mean"],
                    "mean_b": stats.mean_std(b_values)["mean"],
                    **stats.paired_test(a_values, b_values),
                }
            )
    if not out:
        raise InputError("no metric with at least 2 shared seeds in both runs")
    return out


def verdict(row: dict) -> str:
    if row["n"] < stats.MIN_SEEDS:
        return f"not tested ({row['n']} seeds)"
    return stats.direction(row) or "no significant difference"


def _tested(row: dict, key: str, spec: str) -> str:
    """A test statistic, or "--" where too few seeds make it meaningless."""
    return format(row[key], spec) if row["n"] >= stats.MIN_SEEDS else "--"


def format_table(rows: list[dict], name_a: str, name_b: str) -> str:
    lines = [
        f"a = {name_a}, b = {name_b}; paired over the seeds",
        "| " + " | ".join(("row", "metric", "seeds", "a", "b", "a - b", "t", "p", "a is")) + " |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        label = " ".join(f"{r[k]}" for k in KEYS if k in r) or "-"
        lines.append(
            f"| {label} | {r['metric']} | {r['seeds']} | {r['mean_a']:.4g} | {r['mean_b']:.4g} | "
            f"{r['mean_diff']:+.4g} | {_tested(r, 't', '.3g')} | {_tested(r, 'p', '.2g')} | "
            f"{verdict(r)} |"
        )
    return "\n".join(lines)


def _command(args):
    rows_a, rows_b = load_per_seed(args.run_a), load_per_seed(args.run_b)
    rows = compare_rows(rows_a, rows_b, args.metrics.split(",") if args.metrics else None)
    skipped = one_sided(rows_a, rows_b)
    for side, names in skipped.items():
        print(f"jaxdl: compare: not compared, {side}: {', '.join(names)}", file=sys.stderr)
    print(format_table(rows, args.run_a, args.run_b))
    print_result(
        {
            "command": "compare",
            "a": args.run_a,
            "b": args.run_b,
            "comparisons": [{**r, "verdict": verdict(r)} for r in rows],
            "not_compared": skipped,
        }
    )


def register(subparsers):
    p = subparsers.add_parser(
        "compare",
        help="compare two finished runs seed by seed (paired t-test per metric)",
        description=__doc__.replace("``", ""),
    )
    p.add_argument("run_a", help="a run folder holding results.json (a: the setting tested)")
    p.add_argument("run_b", help="the run folder it is compared against (b: the baseline)")
    p.add_argument(
        "--metrics",
        help="comma-separated metrics to compare (default: every numeric per-seed metric)",
    )
    p.set_defaults(func=_command)
