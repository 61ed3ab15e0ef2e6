"""GAN training through the shared loop: exact resume, NaN stop, the chapter run end to end."""

import json

import chex
import numpy as np
import pytest

from jaxdl.gan import GAN
from jaxdl.gan.networks import Discriminator, Generator
from jaxdl.train import loop
from jaxdl.train.batches import array_stream
from jaxdl.train.checkpoint import Checkpointer
from tests.conftest import require

BATCH = 8


@pytest.fixture(scope="module")
def tiny():
    """A small conditional GAN, its compiled step and 64 random 'digits'."""
    gan = GAN(Generator(28, 8, num_classes=10), Discriminator(28, 8, num_classes=10), z_dim=16)
    rng = np.random.default_rng(0)
    arrays = {
        "image": rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
        "label": rng.integers(0, 10, 64).astype(np.int32),
    }
    return gan, loop.jit_step(gan.train_step), arrays


def _fit(tiny, directory, num_steps, resume=False, batches=None):
    gan, step, arrays = tiny
    checkpointer = Checkpointer(directory, every=2, keep=3)
    try:
        state, _ = loop.fit(
            step,
            gan.init(0, (28, 28, 1)),
            batches or (lambda start: array_stream(arrays, BATCH, 0, start)),
            num_steps=num_steps,
            checkpointer=checkpointer,
            log_every=1,
            resume=resume,
        )
    finally:
        checkpointer.close()
    return state, checkpointer


def test_resume_reproduces_an_uninterrupted_run(tiny, tmp_path):
    straight, _ = _fit(tiny, tmp_path / "straight", 4)
    _fit(tiny, tmp_path / "split", 2)
    resumed, _ = _fit(tiny, tmp_path / "split", 4, resume=True)
    assert int(resumed.step) == 4
    chex.assert_trees_all_close(
        (resumed.params, resumed.extra, resumed.opt_state),
        (straight.params, straight.extra, straight.opt_state),
        atol=1e-6,
    )


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tiny, tmp_path):
    gan, _, arrays = tiny
    images = arrays["image"][:BATCH].astype(np.float32) / 127.5 - 1.0

    def batches(start):  # step 3 sees a NaN image: the losses diverge there
        for step in range(start + 1, 100):
            yield {
                "image": np.full_like(images, np.nan) if step == 3 else images,
                "label": arrays["label"][:BATCH],
            }

    with pytest.raises(FloatingPointError, match="at step 3"):
        _fit(tiny, tmp_path / "nan", 10, batches=batches)
    checkpointer = Checkpointer(tmp_path / "nan", every=2)
    assert checkpointer.latest_step() == 2
    restored = checkpointer.restore_latest(gan.init(0, (28, 28, 1)))
    checkpointer.close()
    assert int(restored.step) == 2
    chex.assert_tree_all_finite(restored.params)


@pytest.mark.slow
def test_quick_run_on_digits_writes_figures_scores_and_resumes(tmp_path):
    import dataclasses

    from experiments import gan as chapter
    from experiments.runner import run_experiment

    config = dataclasses.replace(
        chapter.quick(chapter.Config(conditional=True)),
        steps=40,
        sample_every=20,
        checkpoint_every=20,
        eval_samples=200,
        time_budget_s=0.0,
    )
    results = run_experiment("gan", chapter.run, config, tmp_path, data=None)
    assert results["steps"] == 40 and not results["mnist"] and results["seeds"] == [0, 1]
    per_seed = {r["seed"]: r["inception_score"] for r in results["per_seed"]}
    assert len(per_seed) == 2 and per_seed[0] != per_seed[1]
    assert np.isclose(results["gen_inception_score"], np.mean(list(per_seed.values())))
    for name in (
        "losses.png",
        "progress.gif",
        "class_by_z.png",
        "class_shares.png",
        "quality.csv",
        "logs/metrics_seed0.csv",
        "logs/metrics_seed1.csv",
        "samples/seed0/step_000020.png",
        "samples/seed1/step_000040.png",
    ):
        assert (tmp_path / name).is_file(), name
    assert (
        1.0 <= results["gen_inception_score"] <= 10.0
        and 0.0 <= results["gen_label_accuracy"] <= 1.0
    )
    for r in results["per_seed"]:
        assert len(r["class_shares"]) == 10 and np.isclose(sum(r["class_shares"]), 1.0)
    assert "uniform noise (floor)" in (tmp_path / "quality.csv").read_text()
    longer = dataclasses.replace(config, steps=60, resume=True)
    resumed = chapter.run(longer, tmp_path, None)
    assert resumed["steps"] == 60
    # the training time covers the 40 steps before the resume, not only the 20 after it
    assert resumed["train_seconds"] > results["train_seconds"]
    assert (
        json.loads((tmp_path / "results.json").read_text())["steps"] == 40
    )  # run() alone leaves it


@pytest.mark.slow
def test_quick_cdcgan_on_mnist_scores_above_noise(data_dir, tmp_path):
    """The demo's cDCGAN (``--quick``, real MNIST) has learnt something: every seed's samples
    score better than uniform noise on all three scores."""
    from experiments import gan as chapter
    from experiments.runner import run_experiment

    require(data_dir, chapter.MNIST)
    config = chapter.quick(chapter.Config(conditional=True))
    results = run_experiment("gan", chapter.run, config, tmp_path, data=data_dir)
    assert results["mnist"]
    for r in results["per_seed"]:
        assert r["inception_score"] > results["noise_inception_score"], r
        assert r["frechet_distance"] < results["noise_frechet_distance"], r
        assert r["label_accuracy"] > results["noise_label_accuracy"], r


@pytest.mark.slow  # trains the digits scoring classifier (20 s)
def test_scoring_is_the_same_whatever_the_run_seeds():
    """The scoring classifier and the scored noise do not follow ``--seeds``: a run on seeds
    1, 0, 2 is scored exactly as one on 0, 1, 2, so the two compare seed by seed."""
    import dataclasses

    from experiments import gan as chapter

    data = chapter.load_data(None, 28)[:4]
    config = chapter.quick(chapter.Config())
    scored = [
        chapter.scorer(dataclasses.replace(config, seeds=seeds), *data)
        for seeds in ((0, 1), (3, 1))
    ]
    (_, references_a, facts_a), (_, references_b, facts_b) = scored
    assert facts_a["classifier_cache"] == facts_b["classifier_cache"]
    assert references_a == references_b
