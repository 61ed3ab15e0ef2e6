"""Runs that are stopped, killed, resumed, raced or fed bad arrays: a signal stops at a step with
a checkpoint and one line; every seed group resumes to the numbers of an uninterrupted run; a
resume may not change the config (and damages nothing when refused); the run lock is held by
one process at a time; a full disk is one line; arrays are checked where they enter."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from tests.test_bad_input import error_line

ROOT = Path(__file__).resolve().parents[1]
GAN = [
    "run",
    "gan",
    "--quick",
    "--seeds",
    "0,1",
    "--steps",
    "200",
    "--checkpoint-every",
    "50",
    "--sample-every",
    "50",
    "--eval-samples",
    "300",
    "--time-budget-s",
    "0",
]
DANN = [
    "run",
    "dann",
    "--quick",
    "--paper-methods",
    "dann",
    "--strong-methods",
    "",
    "--sweep",
    "",
    "--paper-steps",
    "60",
    "--checkpoint-every",
    "10",
    "--eval-every",
    "20",
    "--seeds",
    "0,1",
    "--embed-size",
    "20",
    "--eval-size",
    "32",
    "--test-size",
    "64",
]


def snapshot(folder: Path) -> dict:
    """Every file of ``folder`` (checkpoints aside) by relative path -> bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "checkpoints" not in p.parts
    }


def untimed(results: dict) -> list:
    """The per-seed numbers of a run, without its times."""
    rows = results.get("per_seed") or results["results"]
    return [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in rows]


def run_whole(argv, out: Path, data: Path) -> dict:
    os.environ["JAXDL_DATA"] = str(data)
    try:
        assert main([*argv, "--out", str(out)]) == 0
    finally:
        del os.environ["JAXDL_DATA"]
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def whole_runs(tmp_path_factory):
    """The uninterrupted 2-seed GAN and DANN runs the interrupted ones must end equal to."""
    base = tmp_path_factory.mktemp("whole")
    return {
        "gan": run_whole(GAN, base / "gan", base / "no-data"),
        "dann": run_whole(DANN, base / "dann", base / "no-data"),
        "folder": base,
    }


def start(argv, out: Path, tmp_path: Path) -> subprocess.Popen:
    """The command in a child process (a signal reaches only it), on embedded data."""
    env = {**os.environ, "JAXDL_DATA": str(tmp_path / "no-data"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", *argv, "--out", str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", ["gan", "dann"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_two_seed_run_stopped_or_killed_resumes_to_the_uninterrupted_numbers(
    chapter, sig, whole_runs, tmp_path, monkeypatch, capsys
):
    """Stopped after the first seed group's first checkpoint: SIGTERM ends the run with a
    checkpoint, one line and exit 143; SIGKILL leaves it as it was. Then ``--resume`` continues
    every seed group (the second one has no checkpoint yet: it starts) to the same numbers."""
    argv = GAN if chapter == "gan" else DANN
    first = "seeds0/50" if chapter == "gan" else "paper_dann/seeds0/10"
    out = tmp_path / "run"
    process = start(argv, out, tmp_path)
    wait_for(out / "checkpoints" / first, process)
    process.send_signal(sig)
    _, err = process.communicate(timeout=300)
    if sig == signal.SIGTERM:
        assert process.returncode == 143, err[-2000:]
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert last.startswith("jaxdl: stopped by SIGTERM") and last.endswith("--resume"), last
        assert not (out / ".lock").exists()
    else:
        assert process.returncode == -signal.SIGKILL
    assert not (out / "DONE").exists()
    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "no-data"))
    assert main([*argv, "--out", str(out), "--resume"]) == 0
    capsys.readouterr()
    resumed = json.loads((out / "results.json").read_text())
    assert untimed(resumed) == untimed(whole_runs[chapter])
    assert resumed["resumes"][0]["changed"] == {}
    assert first.split("/")[-2] in "/".join(resumed["resumes"][0]["checkpoint_steps"])


LONG_GAN = ["run", "gan", "--quick", "--seeds", "0", "--steps", "100000", "--time-budget-s", "0"]


@pytest.mark.slow
def test_sigint_is_one_line_without_a_traceback(tmp_path):
    out = tmp_path / "run"
    process = start(LONG_GAN, out, tmp_path)
    wait_for(out / "checkpoints" / "seeds0", process)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1].startswith("jaxdl: stopped by SIGINT at step ")


def test_inside_a_loop_a_signal_waits_for_the_step_and_a_second_exits_at_once(monkeypatch):
    from jaxdl.train import preemption

    exits, seen = [], []
    monkeypatch.setattr(preemption.os, "_exit", lambda code: exits.append(code))
    preemption.install(lambda signum, second: seen.append((signum, second)))
    try:
        with pytest.raises(preemption.Preempted):  # outside a loop: at once
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        preemption.uninstall()
        preemption.install(lambda signum, second: seen.append((signum, second)))
        with preemption.step_boundaries():
            os.kill(os.getpid(), signal.SIGTERM)  # waits for the loop's next step
            time.sleep(0.1)
            assert preemption.stop_requested(7) == signal.SIGTERM and exits == []
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)
        assert exits == [143]
    finally:
        preemption.uninstall()
    assert seen == [(signal.SIGTERM, False), (signal.SIGTERM, False), (signal.SIGTERM, True)]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def finished_gan(folder: Path, argv) -> Path:
    """A folder as a finished GAN run of ``argv`` leaves it (its checkpoints stand-ins)."""
    from experiments import configs
    from experiments.cli import build_parser
    from experiments.configs.gan import GANConfig
    from experiments.flags import config_from_args
    from experiments.gan import quick

    config = config_from_args(GANConfig, build_parser().parse_args(argv), quick)
    (folder / "checkpoints" / "seeds0" / "200").mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"experiment": "gan", "config": configs.to_dict(config)})
    )
    (folder / "results.json").write_text("{}")
    (folder / "DONE").write_text("ok\n")
    return folder


def test_a_resume_that_changes_the_config_is_refused_and_leaves_the_run_untouched(
    tmp_path, capsys, embedded
):
    out = finished_gan(tmp_path / "run", GAN)
    before = snapshot(out)
    line = error_line(capsys, [*GAN, "--steps", "300", "--lr-d", "0.01", "--out", out, "--resume"])
    assert "--lr-d 0.0002 -> 0.01" in line and "--steps" not in line.split("may change")[0]
    line = error_line(capsys, [*GAN, "--conditional", "--out", out, "--resume"])
    assert "--conditional False -> True" in line and len(line) < 500
    line = error_line(capsys, [*DANN, "--out", out, "--resume"])
    assert "holds no dann run" in line
    assert snapshot(out) == before  # DONE, config.json and results.json as they were


@pytest.mark.slow
def test_a_resume_with_more_steps_is_recorded(whole_runs, tmp_path, capsys, embedded):
    out = tmp_path / "run"
    shutil.copytree(whole_runs["folder"] / "gan", out)
    assert main([*GAN, "--steps", "250", "--out", str(out), "--resume"]) == 0
    capsys.readouterr()
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["steps"] == 250
    (record,) = config["resumes"]
    assert record["changed"] == {"steps": [200, 250]}
    assert record["checkpoint_steps"] == {"seeds0": 200, "seeds1": 200}
    assert json.loads((out / "results.json").read_text())["steps"] == 250


LOCKER = """
import os, sys, time
from pathlib import Path
from experiments.lock import run_lock
folder = Path(sys.argv[1])
while not (folder / "go").exists():
    time.sleep(0.001)
try:
    with run_lock(folder):
        try:
            fd = os.open(folder / "inside", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            sys.exit(9)  # the other process holds it too
        time.sleep(0.05)
        os.close(fd)
        os.unlink(folder / "inside")
except ValueError:
    sys.exit(3)  # refused: the other one holds it
"""


@pytest.mark.slow  # processes racing for the lock (8 s)
def test_the_run_lock_is_never_held_twice(tmp_path):
    """100 pairs of processes take one folder's lock at the same moment, half of them over a
    stale lock (a dead process's pid) that both try to break: never both inside."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    codes = []
    for batch in range(10):
        pairs = []
        for i in range(10):
            folder = tmp_path / f"pair{batch}_{i}"
            folder.mkdir()
            if i % 2:
                (folder / ".lock").write_text(f"{dead}\n")
            pairs.append(
                (
                    folder,
                    [
                        subprocess.Popen([sys.executable, "-c", LOCKER, str(folder)], cwd=ROOT)
                        for _ in range(2)
                    ],
                )
            )
        time.sleep(0.5)  # both started
        for folder, _ in pairs:
            (folder / "go").touch()
        for folder, processes in pairs:
            pair = [p.wait(timeout=60) for p in processes]
            codes.append(pair)
            assert 9 not in pair, f"{folder}: both processes held the lock"
            assert 0 in pair, f"{folder}: neither took the lock ({pair})"
            assert not (folder / ".lock").exists()
            assert [p.name for p in folder.iterdir()] == ["go"], list(folder.iterdir())
    assert len(codes) == 100


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    """A tmpfs of ``size`` mounted at ``path`` (root only; skip where mounting is refused)."""
    path.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_the_last_checkpoint_stays_usable(
    whole_runs, tmp_path, capsys, embedded
):
    """Two GAN checkpoints (4.2 MB each) fit in 10 MB, a third does not: one line naming the
    folder and the free space, and the run resumes from the last whole checkpoint elsewhere."""
    with small_disk(tmp_path / "disk", "10m") as disk:
        line = error_line(capsys, [*GAN, "--out", disk / "run"])
        assert "no space left on the device of" in line and "MiB free" in line
        assert "the checkpoint of step 100 is complete and kept" in line
        shutil.copytree(disk / "run", tmp_path / "moved")
    assert sorted(p.name for p in (tmp_path / "moved" / "checkpoints" / "seeds0").iterdir()) == [
        "100",
        "50",
    ]
    assert main([*GAN, "--out", str(tmp_path / "moved"), "--resume"]) == 0
    capsys.readouterr()
    resumed = json.loads((tmp_path / "moved" / "results.json").read_text())
    assert untimed(resumed) == untimed(whole_runs["gan"])


@pytest.mark.slow
def test_a_first_checkpoint_that_does_not_fit_is_one_line(tmp_path, capsys, embedded):
    """The 4.2 MB checkpoint fails half-written inside orbax: one line, nothing left of it."""
    with small_disk(tmp_path / "disk", "3m") as disk:
        line = error_line(capsys, [*GAN, "--out", disk / "run"])
        assert "no space left on the device of" in line and "no checkpoint was saved" in line
        assert list((disk / "run" / "checkpoints" / "seeds0").iterdir()) == []


def test_a_bug_shows_its_traceback_and_debug_shows_any(monkeypatch, tmp_path, capsys, embedded):
    """Only bad input is one line: an exception of another type is a bug and escapes with its
    traceback; --debug prints the traceback of a bad input too."""
    from experiments import gan

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(gan, "load_data", broken)
    with pytest.raises(ValueError, match="a bug"):
        main(["run", "gan", "--quick", "--out", str(tmp_path / "a")])
    assert main(["run", "gan", "--set", "stepz=1", "--debug", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("jaxdl: error: ")


def test_likely_mistakes_warn_in_one_line(tmp_path, capsys):
    """Legal but surely wrong: a budget beyond the pixel range, a 15-Scene class with test
    images only, an animated GIF (its first frame is used)."""
    from PIL import Image

    from jaxdl.data.images import load_image
    from jaxdl.data.scene15 import load_scene15
    from jaxdl.interpret import PGDConfig

    with pytest.warns(UserWarning, match="PGD eps 300 is in 0..255 pixel units and exceeds"):
        PGDConfig(eps=300)
    rng = np.random.default_rng(0)
    for split, classes in (("train", ("Coast",)), ("test", ("Coast", "Forest"))):
        for name in classes:
            (tmp_path / "s" / split / name).mkdir(parents=True)
            Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(
                tmp_path / "s" / split / name / "0.jpg"
            )
    with pytest.warns(UserWarning, match="Forest have test images but no training images"):
        load_scene15(tmp_path / "s")
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (10, 200)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match="an animated image of 2 frames; its first is used"):
        assert load_image(tmp_path / "a.gif").mean() < 100
    from tests.test_cli_predict import random_weights

    weights = random_weights(tmp_path / "w")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "x.png")
    assert (
        main(
            [
                "fgsm",
                str(tmp_path / "x.png"),
                "--weights",
                str(weights),
                "--eps",
                "300",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if line.startswith("jaxdl: warning: ")]
    assert len(warned) == 1 and "--eps 300 is in 0..255 pixel units" in warned[0], err


def test_reproduce_resumes_a_chapter_stopped_part_way_and_reruns_any_other(tmp_path):
    """``jaxdl reproduce`` continues an unfinished run of the same config from its checkpoints
    (its ``resume`` switch aside) and re-runs a folder of another config or without them."""
    from experiments import configs
    from experiments.configs.gan import GANConfig
    from experiments.reproduce import resumable, same_config

    folder = tmp_path / "gan"
    (folder / "checkpoints" / "seeds0" / "50").mkdir(parents=True)
    config = GANConfig(steps=300)
    saved = {"experiment": "gan", "config": configs.to_dict(config)}
    (folder / "config.json").write_text(json.dumps(saved))
    assert resumable(folder, config)
    assert same_config(folder, GANConfig(steps=300, resume=True))
    assert not resumable(folder, GANConfig(steps=400))
    (folder / "DONE").write_text("ok\n")
    assert not resumable(folder, config)  # finished: re-used instead
    (folder / "DONE").unlink()
    shutil.rmtree(folder / "checkpoints")
    assert not resumable(folder, config)
