"""The shared training loop: exact resume, clear checkpoint errors, NaN stop, logging, and the
same loss curve on 1 and 4 devices."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.train import loop
from jaxdl.train.batches import array_stream
from jaxdl.train.checkpoint import Checkpointer, CheckpointError
from jaxdl.train.logging import MetricsLogger
from jaxdl.train.state import create_state, step_key

OPTIMIZER = optax.adam(0.05)
RNG = np.random.default_rng(0)
DATA = {"x": RNG.normal(size=(64, 4)).astype(np.float32)}
DATA["y"] = (DATA["x"] @ np.array([1.0, -2.0, 0.5, 3.0], np.float32)).astype(np.float32)


def regression_step(state, batch, nan_after=None):
    """Adam on a noisy linear regression (noise from the step key, to test the RNG resume)."""
    noise = 0.01 * jax.random.normal(step_key(state), batch["y"].shape)

    def loss_fn(w):
        return jnp.mean((batch["x"] @ w - batch["y"] - noise) ** 2)

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    if nan_after is not None:
        loss = jnp.where(state.step >= nan_after, jnp.nan, loss)
    updates, opt_state = OPTIMIZER.update(grads, state.opt_state, state.params)
    return state.replace(
        step=state.step + 1, params=optax.apply_updates(state.params, updates), opt_state=opt_state
    ), {"loss": loss}


def initial_state():
    params = jnp.zeros(4)
    return create_state(params, OPTIMIZER.init(params), seed=3)


def batches(start):
    return array_stream(DATA, 8, seed=1, start_step=start)


def test_resume_after_a_kill_ends_with_the_same_params(tmp_path):
    step = loop.jit_step(regression_step)
    reference, _ = loop.fit(step, initial_state(), batches, num_steps=20)

    def kill_at_13(s, _):
        if s == 13:
            raise KeyboardInterrupt

    ckpt = Checkpointer(tmp_path / "ckpt", every=5, keep=2)
    with pytest.raises(KeyboardInterrupt):
        loop.fit(
            step, initial_state(), batches, num_steps=20, checkpointer=ckpt, progress=kill_at_13
        )
    assert ckpt.all_steps() == [5, 10]
    resumed, _ = loop.fit(
        step,
        initial_state(),
        batches,
        num_steps=20,
        checkpointer=Checkpointer(tmp_path / "ckpt", every=5, keep=2),
        resume=True,
    )
    assert int(resumed.step) == 20
    np.testing.assert_array_equal(np.asarray(resumed.params), np.asarray(reference.params))
    np.testing.assert_array_equal(np.asarray(resumed.key), np.asarray(reference.key))


def test_wall_time_counts_on_over_a_resume(tmp_path):
    """``wall_s`` is the training time since step 1, not since the resume (10 ms per step)."""

    def fit(progress, resume):
        logger = MetricsLogger(tmp_path / "logs")
        checkpointer = Checkpointer(tmp_path / "ckpt", every=5, keep=2)
        loop.fit(
            loop.jit_step(regression_step),
            initial_state(),
            batches,
            num_steps=20,
            checkpointer=checkpointer,
            logger=logger,
            log_every=5,
            resume=resume,
            progress=progress,
        )
        return logger

    def slow_then_kill_at_13(s, _):
        time.sleep(0.01)
        if s == 13:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(slow_then_kill_at_13, resume=False)
    logger = fit(lambda s, r: time.sleep(0.01), resume=True)
    steps, wall = logger.series("wall_s")
    assert steps == [5, 10, 15, 20] and np.all(np.diff(wall) > 0)
    assert loop.wall_seconds(logger) == wall[-1] >= 0.18  # 18 sleeps precede the last record


def test_resume_without_a_checkpoint_is_an_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        loop.fit(
            loop.jit_step(regression_step),
            initial_state(),
            batches,
            num_steps=5,
            checkpointer=Checkpointer(tmp_path / "empty"),
            resume=True,
        )


def test_corrupt_checkpoint_is_an_error_not_a_restart(tmp_path):
    ckpt = Checkpointer(tmp_path / "ckpt", every=5)
    loop.fit(
        loop.jit_step(regression_step), initial_state(), batches, num_steps=5, checkpointer=ckpt
    )
    for f in (tmp_path / "ckpt" / "5").rglob("*"):
        if f.is_file() and f.stat().st_size > 0 and "metadata" not in f.name:
            f.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="step 5"):
        Checkpointer(tmp_path / "ckpt").restore_latest(initial_state())


def test_nan_stops_with_step_and_metric_and_keeps_last_good_checkpoint(tmp_path):
    ckpt = Checkpointer(tmp_path / "ckpt", every=5, keep=3)
    step = loop.jit_step(lambda s, b: regression_step(s, b, nan_after=6))
    with pytest.raises(FloatingPointError, match=r"'loss' is nan at step 7"):
        loop.fit(step, initial_state(), batches, num_steps=20, checkpointer=ckpt, log_every=10)
    assert ckpt.all_steps() == [5]
    restored = ckpt.restore_latest(initial_state())
    assert int(restored.step) == 5 and np.all(np.isfinite(np.asarray(restored.params)))


def test_metrics_are_window_means_in_csv_and_jsonl(tmp_path):
    logger = MetricsLogger(tmp_path)
    calls = []
    _, records = loop.fit(
        loop.jit_step(regression_step),
        initial_state(),
        batches,
        num_steps=10,
        logger=logger,
        log_every=5,
        hooks=[(10, lambda s, st: {"eval": 1.5})],
        progress=lambda s, r: calls.append(s),
    )
    assert [r["step"] for r in records] == [5, 10, 10] and records[-1] == {"step": 10, "eval": 1.5}
    assert calls == list(range(1, 11))
    # one CSV per kind of record: no sparse columns, no step twice
    assert (tmp_path / "metrics.csv").read_text().splitlines()[0] == "step,loss,wall_s"
    assert [
        line.split(",")[0] for line in (tmp_path / "metrics.csv").read_text().splitlines()[1:]
    ] == ["5", "10"]
    assert (tmp_path / "metrics_eval.csv").read_text().splitlines() == ["step,eval", "10,1.5"]
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 3


CURVE_SCRIPT = """
import json, os, jax
pid, nproc = int(os.environ.get("PROCESS_ID", 0)), int(os.environ.get("NUM_PROCESSES", 1))
if nproc > 1:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(os.environ["COORDINATOR"], num_processes=nproc, process_id=pid)
import jax.numpy as jnp, numpy as np, optax
from jaxdl.train import loop
from jaxdl.train.batches import array_stream
from jaxdl.train.state import create_state
rng = np.random.default_rng(0)
data = {"x": rng.normal(size=(256, 16)).astype(np.float32), "y": rng.integers(0, 3, 256)}
opt = optax.sgd(0.1)
def step(state, batch):
    def loss_fn(p):
        h = jnp.tanh(batch["x"] @ p["w1"])
        return optax.softmax_cross_entropy_with_integer_labels(h @ p["w2"], batch["y"]).mean()
    loss, g = jax.value_and_grad(loss_fn)(state.params)
    u, o = opt.update(g, state.opt_state)
    return state.replace(step=state.step + 1, params=optax.apply_updates(state.params, u),
    opt_state=o), {"loss": loss}
k1, k2 = jax.random.split(jax.random.key(0))
params = {"w1": 0.3 * jax.random.normal(k1, (16, 32)), "w2": 0.3 * jax.random.normal(k2, (32, 3))}
_, records = loop.fit(loop.jit_step(step), create_state(params, opt.init(params), 0),
                      lambda s: ({k: v[pid::nproc] for k, v in b.items()} for b in
                      array_stream(data, 32, 0, s)),
                      num_steps=30, log_every=1)
print(json.dumps({"devices": jax.device_count(), "loss": [r["loss"] for r in records]}))
"""


def curve_process(devices: int, **env):
    env = {
        **os.environ,
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "JAX_PLATFORMS": "cpu",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-c", CURVE_SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )


def curve_of(process) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, f"exit {process.returncode}: {err[-2000:]}"
    return json.loads(out.strip().splitlines()[-1])


def loss_curve(devices: int) -> dict:
    return curve_of(curve_process(devices))


def test_one_and_four_devices_give_the_same_loss_curve():
    one, four = loss_curve(1), loss_curve(4)
    assert (one["devices"], four["devices"]) == (1, 4)
    assert len(one["loss"]) == 30 and one["loss"][-1] < one["loss"][0]
    np.testing.assert_allclose(four["loss"], one["loss"], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_two_processes_on_localhost_give_the_same_loss_curve():
    """Multi-host path: jax.distributed.initialize with 2 CPU processes, each feeding half of
    every batch (rows pid::2), sees the single-device loss curve."""
    port = 20000 + os.getpid() % 20000
    common = {"NUM_PROCESSES": "2", "COORDINATOR": f"localhost:{port}"}
    procs = [curve_process(1, PROCESS_ID=str(pid), **common) for pid in range(2)]
    curves = [curve_of(p) for p in procs]
    one = loss_curve(1)
    for curve in curves:
        assert curve["devices"] == 2
        np.testing.assert_allclose(curve["loss"], one["loss"], rtol=1e-5, atol=1e-6)


def test_prefetch_stops_its_thread_when_the_consumer_stops_early():
    import itertools
    import threading

    from jaxdl.data.pipeline import prefetch

    before = threading.active_count()
    stream = prefetch(itertools.count(), size=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert threading.active_count() == before
    with pytest.raises(ZeroDivisionError):
        list(prefetch(iter([1, 0]), transform=lambda v: 1 / v))
