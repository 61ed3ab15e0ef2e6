"""`jaxdl run dann` end to end on the embedded data (tiny settings): files, summary, resume."""

import dataclasses
import json

import pytest

from experiments import dann as chapter
from experiments.runner import run_experiment

QUICK = chapter.quick(chapter.Config())
TINY = dataclasses.replace(
    QUICK,
    paper=dataclasses.replace(QUICK.paper, steps=12),
    strong=dataclasses.replace(QUICK.strong, methods=("source_only", "self_train"), steps=12),
    batch_size=16,
    eval_every=6,
    sweep=(0.3,),
    eval_size=100,
    embed_size=40,
    checkpoint_every=6,
)


@pytest.mark.slow  # end-to-end chapter 3 run (half a minute)
def test_dann_chapter_on_embedded_data_writes_its_report_material(tmp_path):
    results = run_experiment("dann", chapter.run, TINY, tmp_path, data=None)
    assert results["data_used"].startswith("embedded")
    assert set(results["target_accuracy"]) == {
        "paper/source_only",
        "paper/dann",
        "strong/source_only",
        "strong/self_train",
    }
    tables = ["results_paper.csv", "results_strong.csv", "results_per_seed.csv", "sweep.csv"]
    logs = [f"logs/{run}_seed{s}.csv" for run in ("paper_dann", "sweep_0.3") for s in (0, 1)]
    for name in results["figures"] + tables + logs + ["comparisons.csv"]:
        assert (tmp_path / name).is_file(), name
    assert [r["reversal_scale"] for r in results["sweep"]] == [0.3, 1.0]
    assert all(r["n"] == 2 for r in results["sweep"])
    assert len(results["per_seed"]) == 2 * 5  # 4 runs of the two settings and 1 sweep scale
    compared = {(c["setting"], c["comparison"], c["metric"]) for c in results["comparisons"]}
    assert ("paper", "dann - source_only", "target_acc") in compared
    json.dumps(results)
    # a resumed run restores the finished checkpoints instead of training again
    again = chapter.run(dataclasses.replace(TINY, resume=True), tmp_path, None)
    assert again["target_accuracy"] == results["target_accuracy"]


def test_source_only_without_sweep_has_no_sweep_section(tmp_path):
    config = dataclasses.replace(
        TINY,
        paper=dataclasses.replace(TINY.paper, methods=("source_only",)),
        strong=dataclasses.replace(TINY.strong, methods=()),
        sweep=(),
        seeds=(0,),
    )
    results = chapter.run(config, tmp_path, None)
    assert results["sweep"] == [] and not (tmp_path / "sweep.csv").exists()
    assert all("reversal factor" not in s["title"] for s in results["sections"])


def test_the_paper_preset_trained_by_the_library_equals_the_chapters_first_steps(tmp_path):
    """The chapter's defaults are the library's presets, and its seed-group training of DANN in
    the paper setting takes the same first steps as the library's step applied by hand."""
    import jax
    import numpy as np

    from jaxdl import dann

    config = chapter.Config()
    assert config.paper == dann.PAPER and config.strong == dann.STRONG
    assert config.hyper() == dann.Hyper() and config.batch_size == dann.BATCH_SIZE
    setting = dataclasses.replace(dann.PAPER, steps=3)
    config = dataclasses.replace(config, paper=setting, seeds=(0,), eval_every=3, eval_size=50)
    domains = dann.load_domains(None)
    run = chapter.Run("dann", setting, config.reversal_scale, "paper_dann")
    parts = chapter.build(run, config, domains, chapter.Kernels())
    (result,) = chapter.train_group(run, config, domains, tmp_path, parts, (0,))

    library = dann.build(setting, "dann", pixel_mean=domains.pixel_mean)
    state = dann.init_state(library.model, library.optimizer, 0, "dann")
    batches = dann.seed_batches(domains, dann.BATCH_SIZE, seed=0)
    step = jax.jit(library.step)
    for _ in range(3):
        state, _ = step(state, next(batches))
    for ours, theirs in zip(jax.tree.leaves(result.params), jax.tree.leaves(state.params)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
