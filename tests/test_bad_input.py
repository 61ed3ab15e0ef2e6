"""Bad input and faults through the ``jaxdl`` command: each is refused before any work with exit
2 and one ``jaxdl: error:`` line naming the file or value and what was expected (no traceback),
and never damages or mixes a run folder; arrays are checked where they enter. Plus the
image-decoding rules (16-bit, truncated, oversized files) and the config bounds behind them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from experiments.cli import main
from experiments.configs.dann import DannConfig
from experiments.configs.gan import GANConfig
from jaxdl.data import checks
from jaxdl.data.images import load_image
from jaxdl.data.scene15 import load_scene15
from jaxdl.errors import InputError

QUICK_DANN = [
    "run",
    "dann",
    "--quick",
    "--paper-steps",
    "4",
    "--eval-every",
    "2",
    "--checkpoint-every",
    "2",
    "--sweep",
    "",
    "--paper-methods",
    "source_only",
    "--strong-methods",
    "",
    "--seeds",
    "0",
    "--embed-size",
    "20",
    "--eval-size",
    "32",
    "--test-size",
    "32",
]


def error_line(capsys, argv) -> str:
    """Run a command that must be refused: exit 2, one stderr line, no traceback."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("jaxdl: error: ")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    return errors[0]


def finished_run(folder, experiment="dann"):
    """A folder as a finished run leaves it (config.json, results.json, DONE)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"experiment": experiment, "config": {}}))
    (folder / "results.json").write_text("{}")
    (folder / "DONE").write_text("ok\n")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--paper-steps", "-5"], "--paper-steps: expected >= 1, got -5"),
        (["--seeds", "0,0"], "seeds must be distinct"),
        (["--seed-mode", "fast"], "--seed-mode: expected one of auto, vmap, sequential"),
        (["--checkpoint-every", "0"], "--checkpoint-every: expected >= 1, got 0"),
        (["--batch-size", "0"], "--batch-size: expected >= 1, got 0"),
        (["--eval-every", "0"], "--eval-every: expected >= 1, got 0"),
        (
            ["--paper-methods", "foo"],
            "--paper-methods: expected one of source_only, dann, no_reversal, pseudo, self_train, "
            "target_only, got 'foo'",
        ),
        (
            ["--set", "strong.learning_rate=inf"],
            "--strong-learning-rate: expected a finite number, got inf",
        ),
    ],
)
def test_config_values_outside_their_bounds_are_refused(flags, message, tmp_path, capsys, embedded):
    assert message in error_line(capsys, ["run", "dann", "--out", tmp_path / "run", *flags])
    assert not (tmp_path / "run").exists()  # nothing created


def test_the_seed_flag_is_not_ambiguous_and_abbreviations_are_refused(tmp_path, capsys, embedded):
    """``--seed 3`` is ``--seeds 3`` (it was "ambiguous option"); an abbreviation is refused."""
    from experiments.cli import build_parser

    assert build_parser().parse_args(["run", "dann", "--seed", "3"]).__dict__["cfg.seeds"] == (3,)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "dann", "--paper-step", "3"])
    assert "unrecognized arguments: --paper-step" in capsys.readouterr().err


def test_help_lists_choices_and_says_each_default_once(capsys):
    from experiments.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "transfer", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--channels {grey_folded,rgb}" in text and "TEXT (default" not in text
    assert "(default: weights/squeezenet1_1_onnx_zoo in the data folder) (default" not in text


def test_progress_is_one_line_per_stage_when_piped(tmp_path, capsys, embedded):
    """stderr is not a terminal here: no tqdm frames (carriage returns), a line per stage."""
    out = tmp_path / "run"
    assert main([*QUICK_DANN, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "step/s" not in err
    lines = err.splitlines()
    assert "jaxdl: source only (paper_source_only, seed 0)" in lines
    assert any(
        line.startswith("jaxdl: source only (paper_source_only, seed 0): step 4 in ")
        for line in lines
    )


def test_gan_learning_rate_must_be_finite():
    with pytest.raises(ValueError, match="GANConfig.lr_d: expected a finite number, got inf"):
        GANConfig(lr_d=float("inf"))
    assert DannConfig().paper.steps == 6000  # the defaults pass their own bounds


def test_a_rejected_command_leaves_a_finished_folder_as_it_was(tmp_path, capsys, embedded):
    before = finished_run(tmp_path / "run")
    error_line(capsys, ["run", "dann", "--out", tmp_path / "run", "--paper-methods", "foo"])
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


def test_a_finished_folder_is_refused_without_resume_or_force(tmp_path, capsys, embedded):
    before = finished_run(tmp_path / "run")
    line = error_line(capsys, [*QUICK_DANN, "--out", tmp_path / "run"])
    assert "holds a finished run: pass --resume to continue it, --force to delete it" in line
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


def test_force_starts_clean_and_logs_are_not_doubled(tmp_path, capsys, embedded):
    out = tmp_path / "run"
    assert main([*QUICK_DANN, "--out", str(out)]) == 0
    log = out / "logs" / "paper_source_only_seed0.jsonl"
    first = log.read_text()
    assert main([*QUICK_DANN, "--out", str(out), "--force"]) == 0
    assert log.read_text().count("\n") == first.count("\n")
    capsys.readouterr()


@pytest.mark.parametrize("chapter", ["dann", "gan"])
def test_resume_without_a_checkpoint_is_refused(chapter, tmp_path, capsys, embedded):
    argv = [*QUICK_DANN] if chapter == "dann" else ["run", "gan", "--quick", "--steps", "2"]
    line = error_line(capsys, [*argv, "--out", tmp_path / "empty", "--resume"])
    assert "--resume" in line and "no run to resume" in line
    finished_run(tmp_path / "unstarted", chapter)  # a run folder, but no checkpoints in it
    (tmp_path / "unstarted" / "DONE").unlink()
    line = error_line(capsys, [*argv, "--out", tmp_path / "unstarted", "--resume"])
    assert "no checkpoint" in line


def test_a_damaged_checkpoint_is_one_line(tmp_path, capsys, embedded):
    out = tmp_path / "run"
    assert main([*QUICK_DANN, "--out", str(out)]) == 0
    for path in (out / "checkpoints").rglob("*"):
        if path.is_file():
            path.write_bytes(b"garbage")
    line = error_line(capsys, [*QUICK_DANN, "--out", out, "--resume"])
    assert "cannot be restored" in line and str(out / "checkpoints") in line


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path, capsys, embedded):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(f"{holder.pid}\n")
        line = error_line(capsys, [*QUICK_DANN, "--out", out])
        assert f"another run (pid {holder.pid}) is writing into this folder" in line
    finally:
        holder.kill()
        holder.wait()
    (out / ".lock").write_text(f"{holder.pid}\n")  # its process is gone: the lock is stale
    assert main([*QUICK_DANN, "--out", str(out)]) == 0
    assert not (out / ".lock").exists()
    capsys.readouterr()


def test_out_pointing_at_a_file_is_refused_before_the_work(tmp_path, capsys, embedded):
    (tmp_path / "file").write_text("x")
    assert "is a file; expected a folder" in error_line(
        capsys, [*QUICK_DANN, "--out", tmp_path / "file"]
    )


def test_an_explicit_data_folder_without_the_chapters_data_is_refused(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    line = error_line(
        capsys,
        ["run", "transfer", "--quick", "--data", tmp_path / "data", "--out", tmp_path / "run"],
    )
    assert f"--data {tmp_path / 'data'} lacks weights/squeezenet1_1_onnx_zoo, scene15" in line
    line = error_line(capsys, ["run", "gan", "--quick", "--data", tmp_path / "missing"])
    assert "no such folder" in line
    assert not (tmp_path / "run").exists()


def test_the_default_data_fallback_says_so_before_the_chapter_runs(tmp_path, capsys, embedded):
    assert main(["run", "basics", "--quick", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert (
        "jaxdl: basics: weights/squeezenet1_1_onnx_zoo, imagenet/imagenet_val_25.npz not in" in err
    )
    assert "running on embedded data" in err


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "expected a JSON object of DannConfig fields, got a list"),
        ('{"config": {"batch_size": "many"}}', "batch_size: expected int, got 'many'"),
        ('{"config": {"paper": {"steps": 1.5}}}', "steps: expected int, got 1.5"),
        ('{"config": {"steps": 10', "not a JSON file"),
    ],
)
def test_bad_config_files_name_the_file_and_what_was_expected(content, message, tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(content)
    line = error_line(capsys, ["run", "dann", "--config", path, "--out", tmp_path / "run"])
    assert str(path) in line and message in line


def test_an_out_of_range_label_in_an_npz_is_refused(tmp_path, capsys):
    np.savez(tmp_path / "x.npz", X=np.zeros((2, 8, 8, 3), np.uint8), y=np.array([3, 1000]))
    line = error_line(
        capsys, ["saliency", tmp_path / "x.npz", "--weights", tmp_path / "w.npz", "--target", "3"]
    )
    assert "label y[1] = 1000 is outside 0..999" in line


def test_a_16_bit_grey_png_is_scaled_not_clipped(tmp_path):
    """PIL would clip 16-bit values to 255 (a white image); they are scaled by 255/65535."""
    values = (np.arange(40 * 40).reshape(40, 40) * 40).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "grey16.png")
    image = load_image(tmp_path / "grey16.png")
    expected = np.round(values * (255 / 65535)).astype(np.uint8)
    np.testing.assert_array_equal(image, np.repeat(expected[..., None], 3, axis=-1))


def test_float_pixels_outside_0_1_are_refused(tmp_path):
    Image.fromarray(np.full((8, 8), 3.0, np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(ValueError, match=r"f.tif: float pixels outside \[0, 1\]"):
        load_image(tmp_path / "f.tif")


def test_a_decompression_bomb_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    from tests.test_cli_predict import random_weights

    Image.fromarray(np.zeros((100, 100), np.uint8)).save(tmp_path / "big.png")
    weights = random_weights(tmp_path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10,000 pixels > 2 x the limit
    line = error_line(capsys, ["predict", tmp_path / "big.png", "--weights", weights])
    assert "big.png: image too large to decode safely" in line


def test_a_truncated_jpeg_is_skipped_by_the_scene15_scan(tmp_path):
    """The scan decodes every file, so a truncated JPEG is skipped and counted up front instead
    of failing the extraction half-way."""
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for name in ("Coast", "Forest"):
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            for i in range(2):
                Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(
                    folder / f"{i}.jpg"
                )
    whole = (tmp_path / "train" / "Coast" / "0.jpg").read_bytes()
    (tmp_path / "train" / "Coast" / "0.jpg").write_bytes(whole[: len(whole) // 2])
    dataset = load_scene15(tmp_path)
    assert len(dataset.train.paths) == 3 and len(dataset.skipped) == 1
    assert dataset.skipped[0][0].endswith("0.jpg") and "readable" in dataset.skipped[0][1]


@pytest.mark.torch
def test_a_pth_holding_code_says_so(tmp_path, capsys, torch):
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    torch.save({"conv1.weight": Payload()}, tmp_path / "evil.pth")
    line = error_line(capsys, ["predict", tmp_path / "x.png", "--weights", tmp_path / "evil.pth"])
    assert "holds Python objects or code" in line and "weights_only" not in line


def test_a_diverging_dann_run_stops_with_one_line_and_keeps_its_checkpoints(
    tmp_path, capsys, embedded
):
    out = tmp_path / "run"
    line = error_line(
        capsys,
        [*QUICK_DANN, "--paper-optimizer", "sgd", "--paper-learning-rate", "1e30", "--out", out],
    )
    assert "is nan at step" in line or "is inf at step" in line


@pytest.mark.slow  # two DANN runs; test_reliability kills and resumes them too (12 s)
def test_an_interrupted_dann_run_resumes_to_the_uninterrupted_result(
    tmp_path, capsys, embedded, monkeypatch
):
    """Killed after its first checkpoint (a SystemExit raised from the progress callback), the
    run continues with --resume and ends with the numbers of an uninterrupted run."""
    from experiments import dann as chapter

    argv = [*QUICK_DANN, "--paper-methods", "dann"]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    whole = json.loads((tmp_path / "whole" / "results.json").read_text())["results"]

    class KilledAfterStep3(chapter.StepBar):
        def __call__(self, step, record=None):
            if step == 3:
                raise SystemExit("killed")

    monkeypatch.setattr(chapter, "StepBar", KilledAfterStep3)
    with pytest.raises(SystemExit):
        main([*argv, "--out", str(tmp_path / "cut")])
    assert not (tmp_path / "cut" / "DONE").exists() and not (tmp_path / "cut" / ".lock").exists()
    monkeypatch.undo()
    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "no-data"))
    assert main([*argv, "--out", str(tmp_path / "cut"), "--resume"]) == 0
    resumed = json.loads((tmp_path / "cut" / "results.json").read_text())["results"]

    def untimed(rows):
        return [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in rows]

    assert untimed(resumed) == untimed(whole)
    capsys.readouterr()


def _weights_files(folder):
    """Bad weights files: truncated, random bytes, an object array (it would need pickle), and
    another architecture's converted file."""
    from tests.test_cli_predict import random_weights

    good = random_weights(folder / "good")
    raw = open(good, "rb").read()
    (folder / "truncated.npz").write_bytes(raw[: len(raw) // 3])
    (folder / "random.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    np.savez(folder / "pickled.npz", conv1=np.array([{"code": "x"}], dtype=object))
    return good, random_weights(folder / "other", "squeezenet1_0")


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    good, other = _weights_files(folder)
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(folder / "ok.png")
    (folder / "text.png").write_text("not an image")
    np.savez(folder / "rank3.npz", X=np.zeros((4, 8, 8), np.uint8))
    return folder, good, other


@pytest.mark.parametrize(
    "argv, message",
    [
        (["predict", "{d}/ok.png", "--weights", "{d}/truncated.npz"], "corrupt or truncated"),
        (["predict", "{d}/ok.png", "--weights", "{d}/random.npz"], "random.npz"),
        (["predict", "{d}/ok.png", "--weights", "{d}/pickled.npz"], "pickled.npz"),
        (
            ["predict", "{d}/ok.png", "--weights", "{other}"],
            "holds squeezenet1_0 weights, not squeezenet1_1",
        ),
        (["predict", "{d}/missing.png", "--weights", "{good}"], "missing.png: no such image file"),
        (["predict", "{d}/text.png", "--weights", "{good}"], "text.png: not a readable image"),
        (["predict", "{d}/rank3.npz", "--weights", "{good}"], "'X' must be (N,H,W,C)"),
        (["predict", "{d}/ok.png", "--weights", "{d}/nowhere.npz"], "nowhere.npz"),
        (["run", "dann", "--set", "stepz=3"], "unknown config key 'stepz'"),
        (["run", "gan", "--set", "lr_d=fast"], "override lr_d='fast'"),
    ],
)
def test_bad_inputs_through_the_cli_are_one_line_errors(argv, message, bad_files, capsys):
    folder, good, other = bad_files
    argv = [a.format(d=folder, good=good, other=other) for a in argv]
    if argv[0] == "run":
        argv += ["--out", str(folder / "never")]
    assert message in error_line(capsys, argv)
    assert not (folder / "never").exists()


# Arrays are checked where they enter (jaxdl.data.checks): each row was a wrong result with
# exit 0 or a traceback before.


def mnist_folder(tmp_path: Path, **arrays) -> Path:
    """A data folder whose mnist/mnist.npz holds a small MNIST, with ``arrays`` replaced (None:
    left out)."""
    rng = np.random.default_rng(0)
    base = {
        "x_train": rng.integers(0, 256, (256, 28, 28), dtype=np.uint8),
        "y_train": np.arange(256) % 10,
        "x_test": rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
        "y_test": np.arange(64) % 10,
    }
    base.update(arrays)
    folder = tmp_path / "data"
    (folder / "mnist").mkdir(parents=True)
    np.savez(folder / "mnist" / "mnist.npz", **{k: v for k, v in base.items() if v is not None})
    return folder


def label_value(value):
    labels = np.arange(256) % 10
    labels[7] = value
    return labels


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"y_train": label_value(12)}, "train y: label y[7] = 12 is outside 0..9"),
        ({"y_train": label_value(-1)}, "train y: label y[7] = -1 is outside 0..9"),
        (
            {"x_train": np.full((256, 28, 28), 255.0, np.float32)},
            "train x: float pixels in [255, 255]; expected uint8 0..255 or float in [0, 1]",
        ),
        ({"x_train": np.full((256, 28, 28), np.nan, np.float32)}, "pixels are NaN or infinite"),
        ({"y_train": None}, "no array 'y_train' in it"),
        ({"y_train": np.arange(200) % 10}, "200 labels for 256 images"),
        (
            {"x_train": np.zeros((256, 28, 28, 3), np.uint8)},
            "expected images of shape (N, 28, 28), got (256, 28, 28, 3)",
        ),
    ],
)
def test_bad_mnist_arrays_are_one_line_errors(arrays, message, tmp_path, capsys):
    data = mnist_folder(tmp_path, **arrays)
    line = error_line(
        capsys, ["run", "gan", "--conditional", "--quick", "--data", data, "--out", tmp_path / "r"]
    )
    assert message in line and str(data / "mnist" / "mnist.npz") in line


@pytest.mark.parametrize(
    "content, message",
    [(b"", "not a readable .npz"), ("truncated", "not a readable .npz")],
)
def test_an_empty_or_truncated_mnist_file_is_one_line(content, message, tmp_path, capsys):
    data = mnist_folder(tmp_path)
    path = data / "mnist" / "mnist.npz"
    path.write_bytes(content if isinstance(content, bytes) else path.read_bytes()[:3000])
    line = error_line(capsys, ["run", "gan", "--quick", "--data", data, "--out", tmp_path / "r"])
    assert message in line and str(path) in line


def test_float_mnist_m_images_are_checked_at_the_door(tmp_path, capsys):
    """MNIST-M in float: [0, 1] is converted (round(255 x)), 0..255 refused in one line."""
    from jaxdl.data.mnist_m import load_mnist_m

    data = mnist_folder(tmp_path)
    (data / "mnist_m").mkdir()
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (32, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(32) % 10
    arrays = {"y_train": labels, "y_test": labels}
    np.savez(
        data / "mnist_m" / "mnist_m.npz", x_train=pixels / 255.0, x_test=pixels / 255.0, **arrays
    )
    x, y = load_mnist_m(data / "mnist_m" / "mnist_m.npz")
    np.testing.assert_array_equal(x, pixels)
    assert x.dtype == np.uint8 and y.dtype == np.int64
    np.savez(
        data / "mnist_m" / "mnist_m.npz",
        x_train=pixels.astype(np.float32),
        x_test=pixels.astype(np.float32),
        **arrays,
    )
    line = error_line(capsys, ["run", "dann", "--quick", "--data", data, "--out", tmp_path / "r"])
    assert "mnist_m.npz: train x: float pixels in [0, 255]" in line


@pytest.mark.parametrize(
    "images, message",
    [
        (np.full((2, 16, 16, 3), 200.0, np.float32), "float pixels in [200, 200]"),
        (np.full((2, 16, 16, 3), np.nan, np.float32), "pixels are NaN or infinite"),
    ],
)
def test_float_or_nan_npz_images_are_refused_by_saliency_and_predict(
    images, message, tmp_path, capsys
):
    from tests.test_cli_predict import random_weights

    weights = random_weights(tmp_path)
    np.savez(tmp_path / "x.npz", X=images, y=np.array([1, 2]))
    for command in (["saliency"], ["predict"]):
        line = error_line(capsys, [*command, tmp_path / "x.npz", "--weights", weights])
        assert f"{tmp_path / 'x.npz'}: 'X': " in line and message in line


def test_npz_images_in_0_1_equal_their_uint8_form():
    from experiments.common import read_inputs

    pixels = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    assert np.array_equal(checks.images_uint8(pixels / 255.0, "x"), pixels)
    assert np.array_equal(checks.images_uint8(pixels.astype(np.int64), "x"), pixels)
    with pytest.raises(InputError, match="integer pixels in 0..300"):
        checks.images_uint8(np.array([0, 300]), "x")
    with pytest.raises(InputError, match="expected integer class labels"):
        checks.labels_in_range(np.array([0.5]), "y", classes=10)
    assert read_inputs  # the CLI's reader goes through these checks (tested above)
