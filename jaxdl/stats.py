"""The statistics a reported result needs: mean +- std over seeds, a paired comparison of two
methods over the same seeds, and a binomial confidence interval for a success rate."""

import math

import numpy as np

from jaxdl.errors import InputError


def mean_std(values) -> dict:
    """``{"mean", "std", "n"}`` of per-seed values (std with ddof=1; 0 for one seed).

    >>> mean_std([0.75, 0.77, 0.79])
    {'mean': 0.77, 'std': 0.020000000000000018, 'n': 3}
    """
    values = np.asarray(values, np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "std": std, "n": len(values)}


def paired_test(a, b) -> dict:
    """Paired comparison of two methods over the same seeds: mean difference ``a - b``, its
    standard deviation, the paired t statistic and its two-sided p-value (scipy's
    ``ttest_rel``; n - 1 degrees of freedom), and whether ``a`` is above ``b`` on every seed
    (``all_seeds``) or below it on every seed (``all_seeds_lower``).

    >>> test = paired_test([0.756, 0.767, 0.785], [0.605, 0.612, 0.617])
    >>> round(test["mean_diff"], 3), round(test["p"], 3), test["all_seeds"], direction(test)
    (0.158, 0.001, True, 'higher')
    """
    from scipy import stats

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or len(a) < 2:
        raise InputError("a paired test needs the same >= 2 seeds for both methods")
    diff = a - b
    if np.all(diff == diff[0]):  # no spread: t is undefined
        t, p = (np.inf * np.sign(diff[0]) if diff[0] else 0.0), (0.0 if diff[0] else 1.0)
    else:
        result = stats.ttest_rel(a, b)
        t, p = float(result.statistic), float(result.pvalue)
    return {
        "mean_diff": float(diff.mean()),
        "std_diff": float(diff.std(ddof=1)),
        "t": float(t),
        "p": float(p),
        "n": len(a),
        "all_seeds": bool(np.all(diff > 0)),
        "all_seeds_lower": bool(np.all(diff < 0)),
    }


MIN_SEEDS = 3  # fewer seeds give a t-test with too few degrees of freedom to report


def direction(test: dict, alpha: float = 0.05):
    """What a ``paired_test`` allows one to say of ``a`` against ``b``: "higher" or "lower" when
    there are at least ``MIN_SEEDS`` seeds, p < ``alpha`` and every seed moved that way, else
    None (no significant difference, or too few seeds to tell)."""
    if test["n"] < MIN_SEEDS or test["p"] >= alpha:
        return None
    if test["all_seeds"]:
        return "higher"
    return "lower" if test["all_seeds_lower"] else None


def verdict(test: dict, alpha: float = 0.05) -> str:
    """A ``paired_test`` in words: the direction and its p-value, no significant difference,
    or, under ``MIN_SEEDS`` seeds, the difference alone (no p-value is reported from so few).

    >>> verdict(paired_test([0.74, 0.76], [0.60, 0.61]))
    'not tested: 2 seeds (a paired test needs 3 or more); difference +0.1450'
    """
    diff = f"{test['mean_diff']:+.4f}"
    if test["n"] < MIN_SEEDS:
        needs = f"a paired test needs {MIN_SEEDS} or more"
        return f"not tested: {test['n']} seeds ({needs}); difference {diff}"
    word = direction(test, alpha)
    p = f"paired t-test p = {test['p']:.2g}, n = {test['n']}"
    return f"{word} by {diff} ({p})" if word else f"no significant difference ({diff}, {p})"


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for z = 1.96) of a success rate ``successes / n``: unlike
    the normal approximation it stays inside [0, 1] and is usable at 0 or n successes.

    >>> [round(v, 3) for v in wilson_interval(12, 100)]
    [0.07, 0.198]
    >>> [round(v, 3) for v in wilson_interval(0, 500)]
    [0.0, 0.008]
    """
    if n <= 0 or not 0 <= successes <= n:
        raise InputError(f"expected 0 <= successes <= n and n > 0, got {successes} of {n}")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
