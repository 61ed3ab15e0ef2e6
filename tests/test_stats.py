"""The reported statistics against scipy and closed forms."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from jaxdl import stats


def test_mean_std_and_paired_test_against_scipy():
    a, b = np.array([0.76, 0.78, 0.75, 0.77]), np.array([0.52, 0.55, 0.51, 0.53])
    summary = stats.mean_std(a)
    assert summary["n"] == 4 and np.isclose(summary["std"], np.std(a, ddof=1))
    test = stats.paired_test(a, b)
    reference = scipy_stats.ttest_rel(a, b)
    assert np.isclose(test["t"], reference.statistic) and np.isclose(test["p"], reference.pvalue)
    assert np.isclose(test["mean_diff"], np.mean(a - b)) and test["all_seeds"]
    mixed = stats.paired_test([0.5, 0.6, 0.55], [0.55, 0.5, 0.56])
    assert not mixed["all_seeds"] and mixed["p"] > 0.05
    with pytest.raises(ValueError, match="same >= 2 seeds"):
        stats.paired_test([0.5], [0.4])
    assert stats.mean_std([0.7])["std"] == 0.0


def test_direction_needs_significance_and_the_same_sign_on_every_seed():
    higher = stats.paired_test([0.76, 0.78, 0.75], [0.52, 0.55, 0.51])
    lower = stats.paired_test([0.52, 0.55, 0.51], [0.76, 0.78, 0.75])
    assert stats.direction(higher) == "higher" and stats.direction(lower) == "lower"
    assert lower["all_seeds_lower"] and not lower["all_seeds"]
    # significant on average but one seed the other way: no claim either way
    mixed = {"p": 0.01, "all_seeds": False, "all_seeds_lower": False, "mean_diff": -0.1, "n": 3}
    assert stats.direction(mixed) is None
    assert stats.direction({**higher, "p": 0.2}) is None
    # two seeds: no claim and no p-value, whatever the t-test says
    two = stats.paired_test([0.76, 0.78], [0.52, 0.55])
    assert stats.direction(two) is None
    assert stats.verdict(two) == (
        "not tested: 2 seeds (a paired test needs 3 or more); difference +0.2350"
    )
    assert stats.verdict(higher).startswith("higher by +0.2367 (paired t-test p = ")


def test_wilson_interval_against_scipy_and_at_the_edges():
    for successes, n in ((7, 25), (1, 12), (16, 100), (0, 100), (100, 100)):
        reference = scipy_stats.binomtest(successes, n).proportion_ci(method="wilson")
        np.testing.assert_allclose(
            stats.wilson_interval(successes, n), (reference.low, reference.high), atol=1e-5
        )
    low, high = stats.wilson_interval(0, 100)
    assert low == 0.0 and 0 < high < 0.04  # usable with no success at all
    narrow, wide = stats.wilson_interval(50, 1000), stats.wilson_interval(5, 100)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(3, 2)
