"""Seeds as an axis: the vmapped step of stacked seeds equals the seeds' own steps, seeds
differ, and resume, NaN stops and logging work over stacked seeds."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import dann
from jaxdl.train import loop, seeds
from jaxdl.train.checkpoint import Checkpointer
from jaxdl.train.logging import SeedLoggers

SEEDS = (0, 1, 2)
RNG = np.random.default_rng(0)


def random_domain():
    x, y = RNG.integers(0, 256, (96, 32, 32, 3), dtype=np.uint8), RNG.integers(0, 10, 96)
    return dann.Domain(x, y, x, y)


DOMAINS = dann.Domains(random_domain(), random_domain(), "random")


def dann_parts(layers, method="self_train", steps=20):
    model = dann.DANN(hidden=16, widths=(4, 6), layers=layers)  # narrow: the test is of the axis
    optimizer = dann.make_optimizer("sgd", steps, mu0=0.01)
    step = dann.make_step(
        model,
        optimizer,
        method,
        setting=dann.Setting(steps=steps, augment="invert"),
        hyper=dann.Hyper(threshold=0.0, entropy=0.0),
    )
    return model, optimizer, step


def first_batches(seed, n, start=0):
    stream = dann.seed_batches(DOMAINS, 8, seed, start)
    return [next(stream) for _ in range(n)]


def test_the_vmapped_step_of_stacked_seeds_equals_each_seeds_own_steps(layers):
    """Three seeds, three steps of DANN + self-training (teacher, class shares, augmentation
    keys, the reversal ramp): stacked and vmapped against one seed at a time."""
    model, optimizer, step = dann_parts(layers)
    single, stacked = jax.jit(step), jax.jit(seeds.vmap_step(step))
    states = [dann.init_state(model, optimizer, s, "self_train") for s in SEEDS]
    together = seeds.stack(states)
    per_seed = [first_batches(s, 3) for s in SEEDS]
    for i in range(3):
        together, metrics = stacked(together, seeds.stack([b[i] for b in per_seed]))
        outs = [single(state, b[i]) for state, b in zip(states, per_seed)]
        states = [state for state, _ in outs]
        chex.assert_shape(metrics["loss"], (len(SEEDS),))
        np.testing.assert_allclose(
            metrics["loss"], [float(m["loss"]) for _, m in outs], rtol=1e-5, atol=1e-6
        )
    for state, unstacked in zip(states, seeds.unstack(together)):
        chex.assert_trees_all_close(unstacked.params, state.params, rtol=1e-5, atol=1e-6)
        chex.assert_trees_all_close(unstacked.extra, state.extra, rtol=1e-5, atol=1e-6)
        assert int(unstacked.step) == int(state.step) == 3


def test_seeds_differ_in_initial_params_keys_and_batches(layers):
    model, optimizer, _ = dann_parts(layers)
    states = [dann.init_state(model, optimizer, s) for s in SEEDS]
    kernels = [np.asarray(s.params["conv1"]["kernel"]) for s in states]
    keys = [np.asarray(s.key) for s in states]
    first = [first_batches(s, 1)[0] for s in SEEDS]
    for i in range(len(SEEDS)):
        for j in range(i + 1, len(SEEDS)):
            assert not np.allclose(kernels[i], kernels[j])
            assert not np.array_equal(keys[i], keys[j])
            assert not np.array_equal(first[i]["ys"], first[j]["ys"])
            assert not np.array_equal(first[i]["xt"], first[j]["xt"])


def test_seed_groups_by_mode():
    assert seeds.groups(SEEDS, "vmap") == [SEEDS]
    assert seeds.groups(SEEDS, "sequential") == [(0,), (1,), (2,)]
    assert seeds.groups(SEEDS, "auto", backend="cpu") == [(0,), (1,), (2,)]
    assert seeds.groups(SEEDS, "auto", backend="gpu") == [SEEDS]
    with pytest.raises(ValueError, match="distinct"):
        seeds.groups((0, 0))
    with pytest.raises(ValueError, match="seed mode"):
        seeds.groups(SEEDS, "fast")


def stacked_fit(layers, tmp_path, num_steps, *, resume=False, progress=None, lr=0.01):
    model = dann.DANN(layers=layers)
    optimizer = dann.make_optimizer("sgd", 8, mu0=lr)
    step = dann.make_step(model, optimizer, "dann", setting=dann.Setting(steps=8))
    initial = seeds.stack([dann.init_state(model, optimizer, s) for s in SEEDS])

    def batches(start):
        return seeds.stacked_batches([dann.seed_batches(DOMAINS, 8, s, start) for s in SEEDS])

    checkpointer = Checkpointer(tmp_path / "ckpt", every=3, keep=2)
    try:
        return loop.fit(
            loop.jit_step(seeds.vmap_step(step), batch_axis=1),
            initial,
            batches,
            num_steps=num_steps,
            checkpointer=checkpointer,
            logger=SeedLoggers(tmp_path / "logs", "dann", SEEDS),
            log_every=2,
            resume=resume,
            progress=progress,
        )
    finally:
        checkpointer.close()


def test_stacked_seeds_resume_to_the_uninterrupted_result_and_log_per_seed(tmp_path):
    from jaxdl.layers import FLAX

    whole, records = stacked_fit(FLAX, tmp_path / "whole", 8)
    assert [r["step"] for r in records] == [2, 4, 6, 8]
    chex.assert_shape(records[-1]["loss"], (len(SEEDS),))
    for s in SEEDS:
        rows = (tmp_path / "whole" / "logs" / f"dann_seed{s}.csv").read_text().splitlines()
        assert len(rows) == 1 + 4  # header + one row per logged step

    def killed_at_5(step, _):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stacked_fit(FLAX, tmp_path / "cut", 8, progress=killed_at_5)
    resumed, _ = stacked_fit(FLAX, tmp_path / "cut", 8, resume=True)
    np.testing.assert_array_equal(np.asarray(resumed.step), [8, 8, 8])
    chex.assert_trees_all_close(resumed.params, whole.params, rtol=1e-6, atol=1e-7)
    logged = SeedLoggers(tmp_path / "cut" / "logs", "dann", SEEDS)
    logged.resume(8)
    assert [r["step"] for r in logged.records] == [2, 4, 6, 8]  # no repeated step


def test_a_diverging_seed_stops_the_stacked_run_naming_it(tmp_path):
    from jaxdl.layers import FLAX

    with pytest.raises(FloatingPointError, match=r"is (nan|inf) \(seed index \d\) at step"):
        stacked_fit(FLAX, tmp_path, 8, lr=1e30)
    assert Checkpointer(tmp_path / "ckpt").latest_step() is None  # nothing bad was saved


def test_check_finite_names_the_seed_index():
    with pytest.raises(FloatingPointError, match=r"'loss' is nan \(seed index 1\) at step 4"):
        loop.check_finite(
            [{"loss": np.array([0.1, 0.2, 0.3])}, {"loss": np.array([0, np.nan, 1])}], 2
        )


def test_seed_loggers_split_stacked_records(tmp_path):
    logger = SeedLoggers(tmp_path, "run", (3, 7))
    logger.log(10, {"loss": np.array([1.0, 2.0]), "lam": 0.5})
    logger.log(20, {"loss": jnp.array([0.5, 1.5]), "lam": 0.6}, kind="eval")
    logger.flush()
    assert (tmp_path / "run_seed3.csv").read_text().splitlines()[1] == "10,1.0,0.5"
    assert (tmp_path / "run_seed7_eval.csv").is_file()
    steps, values = logger.series("loss")
    assert steps == [10, 20]
    np.testing.assert_allclose(values, [[1.0, 2.0], [0.5, 1.5]])


def test_the_vmapped_gan_step_of_stacked_seeds_equals_each_seeds_own_steps():
    """The GAN step (two optimisers, batch-norm statistics in ``extra``) over two seeds. SGD,
    not Adam: a bias before a batch norm gets a gradient of pure rounding noise, which Adam
    would blow up to full steps of either sign."""
    import optax

    from jaxdl.gan import GAN
    from jaxdl.gan.networks import Discriminator, Generator

    gan = GAN(
        Generator(28, 8, num_classes=10),
        Discriminator(28, 8, num_classes=10),
        z_dim=8,
        g_optimizer=optax.sgd(0.01),
        d_optimizer=optax.sgd(0.01),
    )
    rng = np.random.default_rng(1)
    batches = [
        [
            {
                "image": rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
                "label": rng.integers(0, 10, 8).astype(np.int32),
            }
            for _ in range(2)
        ]
        for _ in range(2)
    ]
    states = [gan.init(s, (28, 28, 1)) for s in (0, 1)]
    together = seeds.stack(states)
    single, stacked = jax.jit(gan.train_step), jax.jit(seeds.vmap_step(gan.train_step))
    for i in range(2):
        together, _ = stacked(together, seeds.stack([b[i] for b in batches]))
        states = [single(state, b[i])[0] for state, b in zip(states, batches)]
    for state, unstacked in zip(states, seeds.unstack(together)):
        chex.assert_trees_all_close(
            (unstacked.params, unstacked.extra), (state.params, state.extra), rtol=1e-5, atol=1e-6
        )
