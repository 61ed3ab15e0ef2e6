"""Each run records where it came from: the command line, the date, the commit, the data folder
(config.json) and the weights with their sha256 (results.json)."""

import datetime
import hashlib
import json

from experiments.cli import main
from experiments.common import sha256_of
from tests.conftest import require


def test_config_json_records_command_date_commit_and_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "no-data"))
    argv = ["run", "basics", "--quick", "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data_folder"] is None  # embedded data
    assert datetime.datetime.fromisoformat(saved["date"]).tzinfo is not None
    assert saved["commit"] is None or len(saved["commit"].split("+")[0]) == 40
    assert saved["kernels"] in ("cpu", "flax") and "command" in saved
    assert "jaxdl: basics finished in" in capsys.readouterr().err  # the closing summary line


def test_results_record_the_weights_and_their_sha256(data_dir, tmp_path, capsys):
    weights = require(data_dir, "weights/squeezenet1_1_onnx_zoo")
    out = tmp_path / "run"
    argv = [
        "run",
        "basics",
        "--quick",
        "--eval-images",
        "0",
        "--data",
        str(data_dir),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["weights"] == {"path": str(weights), "sha256": sha256_of(weights)}
    assert json.loads((out / "config.json").read_text())["data_folder"] == str(data_dir)
    capsys.readouterr()


def test_sha256_of_a_folder_covers_names_and_bytes(tmp_path):
    (tmp_path / "a.npy").write_bytes(b"1")
    first = sha256_of(tmp_path)
    (tmp_path / "a.npy").rename(tmp_path / "b.npy")
    assert sha256_of(tmp_path) != first
    assert sha256_of(tmp_path / "b.npy") == hashlib.sha256(b"1").hexdigest()
