"""`jaxdl run dann` end to end on the embedded data (tiny settings): files, summary, resume."""

import dataclasses
import json

import pytest

from experiments import dann as chapter
from experiments.runner import run_experiment

TINY = dataclasses.replace(
    chapter.quick(chapter.Config()),
    steps=12,
    batch_size=16,
    eval_every=6,
    sweep=(0.3,),
    sweep_steps=6,
    eval_size=100,
    embed_size=40,
    checkpoint_every=6,
)


@pytest.mark.slow  # end-to-end chapter 3 run (half a minute)
def test_dann_chapter_on_embedded_data_writes_its_report_material(tmp_path):
    results = run_experiment("dann", chapter.run, TINY, tmp_path, data=None)
    assert results["data_used"].startswith("embedded")
    assert set(results["target_accuracy"]) == {"source_only", "dann"}
    for name in results["figures"] + ["results.csv", "results.md", "sweep.csv", "logs/dann.csv"]:
        assert (tmp_path / name).is_file(), name
    assert [r["reversal_scale"] for r in results["sweep"]] == [0.3, 1.0]
    json.dumps(results)
    # a resumed run restores the finished checkpoints instead of training again
    again = chapter.run(dataclasses.replace(TINY, resume=True), tmp_path, None)
    assert again["target_accuracy"] == results["target_accuracy"]


def test_source_only_without_sweep_has_no_sweep_section(tmp_path):
    config = dataclasses.replace(TINY, methods=("source_only",), sweep=())
    results = chapter.run(config, tmp_path, None)
    assert results["sweep"] == [] and not (tmp_path / "sweep.csv").exists()
    assert all("reversal factor" not in s["title"] for s in results["sections"])
