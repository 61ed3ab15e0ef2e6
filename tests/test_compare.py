"""``jaxdl compare``: two run folders paired by seed (and setting/method), a test per metric."""

import json

import numpy as np
import pytest

from experiments import compare
from experiments.cli import main
from jaxdl import stats


def write_run(folder, per_seed):
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"per_seed": per_seed}))
    return folder


def gan_rows(inception, seeds=(0, 1, 2)):
    return [
        {"seed": s, "inception_score": v, "class_shares": [0.1] * 10, "seconds": 60.0 + s}
        for s, v in zip(seeds, inception)
    ]


def test_pairs_by_seed_and_matches_the_paired_test(tmp_path):
    a = write_run(tmp_path / "a", gan_rows([6.2, 6.4, 6.3]))
    # b lists its seeds in another order and has one a lacks: pairing is by seed, not position
    b = write_run(tmp_path / "b", gan_rows([5.9, 5.8, 5.7, 9.9], seeds=(2, 0, 1, 3)))
    (row,) = compare.compare_rows(compare.load_per_seed(a), compare.load_per_seed(b))
    expected = stats.paired_test([6.2, 6.4, 6.3], [5.8, 5.7, 5.9])
    assert row["metric"] == "inception_score" and row["seeds"] == "0 1 2"
    assert np.isclose(row["p"], expected["p"]) and np.isclose(row["mean_diff"], 0.5)
    assert compare.verdict(row) == "higher"  # seconds and list-valued shares are not metrics


def test_rows_of_a_chapter_run_pair_by_setting_and_method(tmp_path):
    def rows(offset):
        return [
            {"setting": "paper", "method": m, "seed": s, "target_acc": base + offset + 0.01 * s}
            for m, base in (("dann", 0.7), ("source_only", 0.5))
            for s in (0, 1, 2)
        ]

    out = compare.compare_rows(rows(0.05), rows(0.0))
    assert [r["method"] for r in out] == ["dann", "source_only"]
    assert all(np.isclose(r["mean_diff"], 0.05) for r in out)


def test_cli_prints_a_table_and_a_json_line(tmp_path, capsys):
    a = write_run(tmp_path / "a", gan_rows([6.2, 6.4, 6.3]))
    b = write_run(tmp_path / "b", gan_rows([6.3, 6.2, 6.35]))
    assert main(["compare", str(a), str(b)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "no significant difference" in lines[-2]
    payload = json.loads(lines[-1])
    assert payload["comparisons"][0]["verdict"] == "no significant difference"


def test_cli_names_the_metrics_only_one_run_has(tmp_path, capsys):
    rows_a = [{**r, "share_distance": 0.05 + 0.01 * r["seed"]} for r in gan_rows([9.3, 9.4, 9.3])]
    a = write_run(tmp_path / "a", rows_a)  # scored after share_distance existed
    b = write_run(tmp_path / "b", gan_rows([6.6, 6.5, 6.7]))
    assert compare.one_sided(rows_a, compare.load_per_seed(b)) == {"only in a": ["share_distance"]}
    assert main(["compare", str(a), str(b)]) == 0
    captured = capsys.readouterr()
    assert "not compared, only in a: share_distance" in captured.err
    payload = json.loads(captured.out.strip().splitlines()[-1])
    assert [c["metric"] for c in payload["comparisons"]] == ["inception_score"]
    assert payload["not_compared"] == {"only in a": ["share_distance"]}


@pytest.mark.parametrize(
    "rows_b, message",
    [
        (None, "no results.json"),
        (gan_rows([6.0, 6.1, 6.2], seeds=(5, 6, 7)), "share no seed"),
        (gan_rows([6.0], seeds=(0,)), "at least 2 shared seeds"),
    ],
)
def test_bad_runs_are_one_line_errors(tmp_path, capsys, rows_b, message):
    a = write_run(tmp_path / "a", gan_rows([6.2, 6.4, 6.3]))
    b = tmp_path / "b"
    if rows_b is not None:
        write_run(b, rows_b)
    assert main(["compare", str(a), str(b)]) == 2
    assert message in capsys.readouterr().err
