"""Published weights by name (``jaxdl.hub``, ``jaxdl.models.published``) against a loopback
HTTP server this test starts (127.0.0.1, a thread; ``JAXDL_WEIGHTS_MIRROR`` points at it):
a good file fetched, converted, then served from the cache with the server stopped; a tampered
file refused and not cached; a connection dropped mid-file leaving nothing trusted; two
concurrent fetches; offline and unreachable servers as one line, within seconds."""

import hashlib
import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from jaxdl import hub
from jaxdl.errors import InputError
from jaxdl.models import WEIGHTS, pretrained
from tests.conftest import require
from tests.test_bad_input import error_line

ROOT = Path(__file__).resolve().parents[1]


class Server:
    """Serves ``files`` ({name: bytes}) at http://127.0.0.1:<port>/<name>; a name in ``drop``
    gets half its bytes, then the connection closes. Counts the requests per name."""

    def __init__(self):
        self.files, self.drop, self.requests = {}, set(), {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests[name] = server.requests.get(name, 0) + 1
                if name not in server.files:
                    self.send_error(404)
                    return
                body = server.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name in server.drop:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch, tmp_path):
    """The loopback server as the weights mirror, online, with an empty cache and no data."""
    served = Server()
    monkeypatch.setenv("JAXDL_WEIGHTS_MIRROR", served.url)
    monkeypatch.delenv("JAXDL_OFFLINE", raising=False)
    monkeypatch.setenv("JAXDL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "no-data"))
    yield served
    served.stop()


def source(tmp_path, content: bytes, pin: str | None = None, name="weights.bin") -> hub.Source:
    pin = pin or hashlib.sha256(content).hexdigest()
    return hub.Source(name, (hub.Pinned(f"https://example.invalid/{name}", pin),), 0.1)


def leftovers(home: Path) -> list[str]:
    """Files and folders in the downloads cache."""
    folder = home / "downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_good_file_is_fetched_once_then_served_from_the_cache(server, tmp_path):
    content = np.random.default_rng(0).bytes(100_000)
    server.files["weights.bin"] = content
    entry = source(tmp_path, content)
    path = hub.fetch(entry)
    assert path.read_bytes() == content and path == tmp_path / "home" / "downloads" / "weights.bin"
    server.stop()
    assert hub.fetch(entry) == path  # no server: the cache
    assert server.requests == {"weights.bin": 1} and leftovers(tmp_path / "home") == ["weights.bin"]


def test_a_tampered_file_is_refused_and_nothing_is_cached(server, tmp_path):
    content = b"the published bytes" * 1000
    server.files["weights.bin"] = content.replace(b"published", b"tampered!")
    with pytest.raises(
        InputError, match=r"weights.bin: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}"
    ):
        hub.fetch(source(tmp_path, content))
    assert leftovers(tmp_path / "home") == []


def test_an_8_hex_prefix_pin_is_checked_as_torchvision_does(server, tmp_path):
    content = b"torchvision-style file" * 100
    server.files["weights.bin"] = content
    digest = hashlib.sha256(content).hexdigest()
    wrong = format((int(digest[:8], 16) + 1) % 16**8, "08x")
    with pytest.raises(InputError, match=f"expected {wrong}; refused"):
        hub.fetch(source(tmp_path, content, pin=wrong))
    assert hub.fetch(source(tmp_path, content, pin=digest[:8])).read_bytes() == content


def test_a_connection_dropped_mid_file_leaves_nothing_trusted(server, tmp_path):
    content = np.random.default_rng(1).bytes(200_000)
    server.files["weights.bin"] = content
    server.drop.add("weights.bin")
    with pytest.raises(InputError, match="cannot download .*weights.bin"):
        hub.fetch(source(tmp_path, content))
    assert leftovers(tmp_path / "home") == []
    server.drop.clear()
    assert hub.fetch(source(tmp_path, content)).read_bytes() == content


FETCH = """
import sys
from experiments.cli import main
from jaxdl import hub
pinned = hub.Pinned("https://example.invalid/weights.bin", sys.argv[1])
entry = hub.Source("weights.bin", (pinned,), 1)
print(hub.fetch(entry))
"""


def test_two_concurrent_fetches_end_with_one_good_file(server, tmp_path):
    content = np.random.default_rng(2).bytes(3_000_000)
    server.files["weights.bin"] = content
    digest = hashlib.sha256(content).hexdigest()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", FETCH, digest], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    assert outputs[0] == outputs[1] == str(tmp_path / "home" / "downloads" / "weights.bin")
    assert hub.sha256_of(outputs[0]) == digest
    assert leftovers(tmp_path / "home") == ["weights.bin"]


def test_an_unreachable_server_fails_within_seconds_in_one_line(server, monkeypatch, tmp_path):
    server.stop()  # nothing listens on its port any more
    start = time.monotonic()
    with pytest.raises(InputError, match="cannot download .* and place it at .*weights.bin"):
        hub.fetch(source(tmp_path, b"x"))
    assert time.monotonic() - start < hub.CONNECT_TIMEOUT_S + 5
    assert leftovers(tmp_path / "home") == []


def test_offline_a_missing_file_is_one_line_naming_url_hash_and_cache_path(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("JAXDL_OFFLINE", "1")
    monkeypatch.setenv("JAXDL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JAXDL_DATA", str(tmp_path / "no-data"))
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    line = error_line(capsys, ["predict", tmp_path / "x.png", "--weights", "imagenet"])
    pinned = WEIGHTS["squeezenet1_1"]["torchvision"].files[0]
    assert "JAXDL_OFFLINE=1" in line and pinned.url in line and pinned.sha256 in line
    assert str(tmp_path / "home" / "downloads" / "squeezenet1_1-b8a52dc0.pth") in line
    line = error_line(capsys, ["predict", tmp_path / "x.png", "--weights", "resnet"])
    assert "resnet" in line


def test_a_damaged_copy_in_the_data_folder_is_named_not_used(server, tmp_path, monkeypatch):
    data = tmp_path / "data"
    copy = data / "weights" / "squeezenet1_1_onnx_zoo"
    copy.mkdir(parents=True)
    entry = WEIGHTS["squeezenet1_1"]["onnx_zoo"]
    for pinned in entry.files:
        (copy / pinned.filename).write_bytes(b"not the file")
    monkeypatch.setenv("JAXDL_DATA", str(data))
    with pytest.raises(InputError, match="not the published squeezenet0_conv0_bias.npy"):
        hub.fetch(entry)


def test_onnx_zoo_weights_by_name_download_convert_and_stay_cached(server, tmp_path, data_dir):
    """The real pins: the data folder's copy of the ONNX-zoo files served by the loopback
    mirror, fetched into an empty cache, converted; with the server stopped and the downloads
    deleted, the converted cache alone serves the same params."""
    folder = require(data_dir, "weights/squeezenet1_1_onnx_zoo")
    entry = WEIGHTS["squeezenet1_1"]["onnx_zoo"]
    for pinned in entry.files:
        server.files[pinned.filename] = (folder / pinned.filename).read_bytes()
    model, params, meta = pretrained("squeezenet1_1", "onnx_zoo")
    assert meta["weights"] == "squeezenet1_1:onnx_zoo" and meta["url"].startswith("https://raw.")
    assert meta["preprocessing"]["normalization"] == "torchvision"
    assert len(server.requests) == 52
    server.stop()
    import shutil

    shutil.rmtree(tmp_path / "home" / "data")
    _, again, meta2 = pretrained("squeezenet1_1", "onnx_zoo")
    assert meta2 == meta
    for a, b in zip(
        *(np.asarray(v) for v in (params["conv1"]["kernel"], again["conv1"]["kernel"]))
    ):
        np.testing.assert_array_equal(a, b)
    x = np.zeros((1, 224, 224, 3), np.float32)
    logits, _ = model.apply({"params": params}, x)
    assert logits.shape == (1, 1000)


@pytest.mark.torch
def test_torchvision_pth_by_name_converts_without_torch_in_the_path(
    server, tmp_path, monkeypatch, torch
):
    """A torchvision-layout SqueezeNet 1.1 .pth (random weights the test makes) behind a pin of
    its own: ``pretrained`` fetches it, reads it without PyTorch and equals the converter."""
    from weights_convert import convert_file
    from weights_convert.torch_models import build

    net = build("squeezenet1_1")
    path = tmp_path / "squeezenet1_1-test.pth"
    torch.save(net.state_dict(), path)
    content = path.read_bytes()
    server.files[path.name] = content
    pinned = hub.Pinned(
        f"https://download.pytorch.org/models/{path.name}", hashlib.sha256(content).hexdigest()
    )
    monkeypatch.setitem(
        WEIGHTS["squeezenet1_1"], "torchvision", hub.Source(path.name, (pinned,), 4.7)
    )
    _, params, meta = pretrained("squeezenet1_1")
    expected, _ = convert_file("squeezenet1_1", path)
    np.testing.assert_array_equal(
        params["fire9"]["expand3x3"]["kernel"], expected["fire9"]["expand3x3"]["kernel"]
    )
    assert meta["url"] == pinned.url and meta["sha256"] == pinned.sha256
    saved = json.loads(
        (tmp_path / "home" / "converted" / "squeezenet1_1-torchvision.json").read_text()
    )
    assert saved["sha256"] == pinned.sha256


def fake_mnist(tmp_path: Path) -> bytes:
    rng = np.random.default_rng(0)
    path = tmp_path / "served_mnist.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (256, 28, 28), dtype=np.uint8),
        y_train=np.arange(256) % 10,
        x_test=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
        y_test=np.arange(64) % 10,
    )
    return path.read_bytes()


GAN_SMOKE = ["run", "gan", "--quick", "--steps", "2", "--seeds", "0", "--eval-samples", "100"]


@pytest.mark.slow
def test_a_chapter_without_a_data_folder_downloads_its_published_data_once(
    server, tmp_path, monkeypatch, capsys
):
    """No data folder and online: the GAN chapter fetches MNIST (pinned; here a test file behind
    a pin of its own) into $JAXDL_HOME/data and runs on it; later runs read the cache, also with
    the server stopped; an unreachable server falls back to embedded data in one line."""
    from experiments.runner import chapter_data
    from jaxdl.data import published

    content = fake_mnist(tmp_path)
    server.files["mnist.npz"] = content
    pinned = hub.Pinned(published.KERAS_MNIST, hashlib.sha256(content).hexdigest())
    monkeypatch.setitem(
        published.DATA, "mnist", hub.Source("mnist/mnist.npz", (pinned,), 0.1, cache="data")
    )
    assert main([*GAN_SMOKE, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    home_data = tmp_path / "home" / "data"
    assert f"downloading mnist/mnist.npz (at most 0 MB) into {home_data}" in err
    assert f"jaxdl: gan: data from {home_data}" in err
    results = json.loads((tmp_path / "a" / "results.json").read_text())
    assert results["mnist"] and str(home_data / "mnist" / "mnist.npz") in results["data_source"]
    server.stop()
    assert chapter_data("gan", None) == home_data
    assert "downloading" not in capsys.readouterr().err
    (home_data / "mnist" / "mnist.npz").unlink()
    assert chapter_data("gan", None) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-2].startswith("jaxdl: gan: cannot download") and "embedded data" in err[-1]
    assert server.requests == {"mnist.npz": 1}


def test_a_full_disk_during_a_download_is_one_line_and_leaves_nothing(
    server, tmp_path, monkeypatch
):
    from tests.test_reliability import small_disk

    content = np.random.default_rng(3).bytes(3_000_000)
    server.files["weights.bin"] = content
    with small_disk(tmp_path / "disk", "1m") as disk:
        monkeypatch.setenv("JAXDL_HOME", str(disk))
        with pytest.raises(InputError, match=r"cannot write .*weights.bin into .*MiB free"):
            hub.fetch(source(tmp_path, content))
        assert leftovers(disk) == []


def test_a_run_records_published_weights_by_name_url_and_pins():
    from experiments.common import weights_record

    record = weights_record("onnx_zoo", "squeezenet1_1")
    assert record["weights"] == "squeezenet1_1:onnx_zoo" and len(record["sha256"]) == 52
    assert weights_record("imagenet", "vgg16") == {
        "weights": "vgg16:torchvision",
        "url": "https://download.pytorch.org/models/vgg16-397923af.pth",
        "sha256": ["vgg16-397923af.pth " + WEIGHTS["vgg16"]["torchvision"].files[0].sha256],
    }


@pytest.mark.slow
def test_eval_imagenet_by_name_offline_without_torch_reproduces_the_table(data_dir, tmp_path):
    """JAXDL_OFFLINE=1, the data folder set and torch not importable: the ONNX-zoo weights by
    name give the README's top-1 0.708 on the 500 images."""
    folder = require(data_dir, "imagenet/val_subset")
    require(data_dir, "weights/squeezenet1_1_onnx_zoo")
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "torch.py").write_text("raise ImportError('torch is not installed here')\n")
    env = {
        **__import__("os").environ,
        "JAXDL_OFFLINE": "1",
        "JAXDL_DATA": str(data_dir),
        "JAXDL_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(blocked),
    }
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "eval-imagenet",
        "--model",
        "squeezenet1_1",
        "--weights",
        "onnx_zoo",
        "--image-dir",
        str(folder / "images"),
        "--labels",
        str(folder / "labels.txt"),
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["n"] == 500 and result["top1"] == pytest.approx(0.708, abs=0.002)


def test_without_mnist_m_the_dann_chapter_fetches_the_photos_that_build_it(
    server, tmp_path, monkeypatch, capsys, data_dir
):
    """MNIST-M is built from MNIST and the BSDS500 photos (Ganin & Lempitsky's recipe): with no
    data folder the DANN chapter fetches both (the photos' real pins, served by the loopback
    mirror from the data folder's copy) and builds its target domain from them."""
    from experiments.runner import chapter_data
    from jaxdl.dann import load_domains
    from jaxdl.data import published

    photos = require(data_dir, "bsds500")
    for pinned in published.DATA["bsds500"].files:
        server.files[pinned.filename] = (photos / pinned.filename).read_bytes()
    content = fake_mnist(tmp_path)
    server.files["mnist.npz"] = content
    pinned = hub.Pinned(published.KERAS_MNIST, hashlib.sha256(content).hexdigest())
    monkeypatch.setitem(
        published.DATA, "mnist", hub.Source("mnist/mnist.npz", (pinned,), 0.1, cache="data")
    )
    home_data = tmp_path / "home" / "data"
    assert chapter_data("dann", None) == home_data
    assert f"downloading mnist/mnist.npz, bsds500 (at most 23 MB) into {home_data}" in (
        capsys.readouterr().err
    )
    assert len(list((home_data / "bsds500").rglob("*.jpg"))) == 300
    domains = load_domains(home_data, build_target=False, seed=0)
    assert domains.description == "MNIST -> MNIST-M built from BSDS500 photos"
    assert domains.target.x_train.shape == (256, 32, 32, 3)


@pytest.mark.slow
def test_the_transfer_chapter_fetches_15_scene_and_its_weights_by_name(
    server, tmp_path, capsys, data_dir
):
    """15-Scene's 4485 images and the ONNX-zoo weights under their real pins, served by the
    loopback mirror from the data folder's copies: the transfer chapter's data folder is then the
    cache, holding the standard split."""
    from experiments.runner import chapter_data
    from jaxdl.data import published
    from jaxdl.data.scene15 import load_scene15

    for name, folder in (
        ("scene15", "scene15"),
        ("squeezenet1_1", "weights/squeezenet1_1_onnx_zoo"),
    ):
        for pinned in published.DATA[name].files:
            server.files[pinned.filename] = (
                require(data_dir, folder) / pinned.filename
            ).read_bytes()
    home_data = tmp_path / "home" / "data"
    assert chapter_data("transfer", None) == home_data
    assert "downloading weights/squeezenet1_1_onnx_zoo, scene15 (at most 97 MB)" in (
        capsys.readouterr().err
    )
    dataset = load_scene15(home_data / "scene15")
    assert (len(dataset.train), len(dataset.test)) == (1500, 2985)
