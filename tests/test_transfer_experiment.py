"""``jaxdl run transfer`` end to end: VGG16 with weights the test creates, and the digits
fallback."""

import json
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from experiments import transfer
from experiments.runner import run_experiment
from jaxdl.data.scene15 import CLASSES
from jaxdl.models import get_model
from jaxdl.transfer import scene
from jaxdl.weights import save_params


def scene_folder(root, train=2, test=1, classes=CLASSES[:3]):
    """Tiny grey 'scenes': a per-class gradient direction plus noise, JPEGs of varied sizes."""
    rng = np.random.default_rng(0)
    for label, name in enumerate(classes):
        for split, count in (("train", train), ("test", test)):
            folder = root / "scene15" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                h, w = 72 + 8 * i, 80
                ramp = np.linspace(0, 255, w if label % 2 else h)
                image = (
                    np.broadcast_to(ramp[None, :] if label % 2 else ramp[:, None], (h, w))
                    * (label + 1)
                    / 3
                )
                image = image + rng.normal(0, 10, (h, w))
                Image.fromarray(image.clip(0, 255).astype(np.uint8), "L").save(
                    folder / f"image_{i:04d}.jpg"
                )
    return root


@pytest.mark.slow  # end-to-end chapter 1 run on VGG16 (half a minute)
def test_vgg16_path_runs_end_to_end_with_saved_weights(tmp_path):
    data = scene_folder(tmp_path / "data")
    size = 64  # VGG16's adaptive pool makes any input >= 32 work; keeps the test cheap
    params = jax.jit(get_model("vgg16").init)(jax.random.key(0), jnp.zeros((1, size, size, 3)))[
        "params"
    ]
    weights = save_params(
        tmp_path / "vgg16_random.npz",
        params,
        {
            "architecture": "vgg16",
            "source": "random init (test)",
            "preprocessing": {"size": size, "resize": 72, "normalization": "torchvision"},
        },
    )
    config = transfer.Config(
        model="vgg16",
        weights=str(weights),
        channels="rgb",
        layers=("relu6", "relu7"),
        svm_c=(1.0,),
        cv_folds=2,
        views="flip",
        scales=(64, 80),
        rbf=False,
        head_steps=20,
        finetune_epochs=0,
        batch_size=4,
        cache_dir=str(tmp_path / "cache"),
    )
    results = run_experiment("transfer", transfer.run, config, tmp_path / "run", data)
    assert results["data_source"] == "15-Scene" and results["model"] == "vgg16"
    assert [(row["layer"], row["dim"]) for row in results["table"]] == [
        ("relu6", 4096),
        ("relu7", 4096),
    ]
    assert all(0.0 <= row["accuracy"] <= 1.0 for row in results["table"])
    assert [i["method"] for i in results["improvements"]] == [
        "linear head (softmax regression) on " + results["best_layer"],
        "fusion relu6+relu7",
        "fusion + flip views",
        "fusion + flip views + whole image at "
        + results["improvements"][-1]["method"].split(" at ")[1],
    ]
    assert results["improvements"][-1]["method"].endswith("(chosen by 2-fold CV among 3)")
    assert results["best_method"] in [i["method"] for i in results["improvements"]] + [
        results["best_layer"] + " (L2)"
    ]
    for name in (
        "table1_1.csv",
        "table1_1.md",
        "improvements.csv",
        "per_class.csv",
        "scales_cv.csv",
        "confusion_baseline.png",
        "misclassified_baseline.png",
        "results.json",
        "config.json",
    ):
        assert (tmp_path / "run" / name).is_file(), name
    assert json.loads((tmp_path / "run" / "results.json").read_text())["n_test"] == 3


def test_without_data_it_transfers_a_digits_cnn():
    pytest.importorskip("sklearn")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as out:
        config = transfer.quick(transfer.Config())
        results = transfer.run(config, Path(out), None)
        assert results["data_source"] == "scikit-learn digits"
        assert [row["layer"] for row in results["table"]] == ["conv1", "conv2", "features"]
        assert results["best_accuracy"] > 0.8  # features of 0-4 separate the unseen digits 5-9
        assert (Path(out) / "confusion_baseline.png").is_file()


def test_fusion_is_chosen_by_cross_validation_on_the_training_set():
    method = scene.SceneMethod(svm_c=(1.0,), cv_folds=3)
    _, span = transfer.layers_of(transfer.Config())
    candidates = scene.fusion_candidates(span)
    assert candidates[0] == ("fire8", "fire9") and candidates[-1] == (
        "fire4",
        "fire5",
        "fire6",
        "fire7",
        "fire8",
        "fire9",
    )
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    train = {layer: rng.normal(size=(60, 8)) for layer in candidates[-1]}
    train["fire4"][:, :3] += 4.0 * np.eye(3)[y]  # only the earliest layer knows the class
    choice = scene.choose(candidates, lambda c: [train[x] for x in c], y, method, "+".join)
    assert choice.chosen == candidates[-1] and len(choice.rows) == len(candidates)
    assert scene.fusion_candidates(("fire7", "fire9")) == (("fire7", "fire9"),)


def test_the_headline_method_is_chosen_by_cross_validation_not_by_the_test_split():
    def scored(name, test, cv):
        return scene.Scored(name, "", np.zeros(1), test, cv_accuracy=cv)

    rows = [scored("a", 0.95, 0.80), scored("b", 0.90, 0.85), scored("head", 0.99, None)]
    assert scene.chosen_by_cv(rows).name == "b"  # the best test accuracy plays no part
    assert scene.chosen_by_cv([scored("x", 0.5, 0.9), scored("y", 0.6, 0.9)]).name == "x"
    assert scene.side_candidates((320, 384)) == ((320,), (384,), (320, 384))
    assert scene.side_candidates((320,)) == ((320,),)
    assert scene.side_candidates(()) == ()


def synthetic_features(y_train, y_test):
    """A ``scene.Features`` of six fire layers: noisy class signals that differ by layer, view
    and side, so every choice of the method has something to choose (seeded per call)."""

    def features(split, layers, views, side):
        y = y_train if split == "train" else y_test
        out = {}
        for k, layer in enumerate(layers):
            key = (split, layer, views, side or 0)
            rng = np.random.default_rng(zlib.crc32(repr(key).encode()))
            strength = 0.6 + 0.15 * int(layer[-1]) + 0.2 * (views != "center") + (side or 0) / 800
            out[layer] = rng.normal(size=(len(y), 12)) + strength * np.eye(12)[y] * (k % 3 + 1)
        return out

    return features


class FakeSplit:
    def __init__(self, labels, name):
        self.labels, self.paths = labels, [f"{name}{i}.jpg" for i in range(len(labels))]

    def subset(self, per_class, seed):
        return self

    def __len__(self):
        return len(self.labels)


def test_the_library_method_with_its_defaults_is_the_chapters(monkeypatch, tmp_path):
    """On synthetic features, ``scene.classify_scenes`` with its defaults gives the numbers of
    the chapter's 15-Scene run (weights, images and feature extraction replaced by the same
    synthetic features; the head and fine-tuning, the chapter's own additions, off)."""
    config = transfer.Config(head_steps=0, finetune_epochs=0, layers=("fire8", "fire9"))
    assert config.method() == scene.SceneMethod()
    y_train, y_test = np.repeat(np.arange(4), 15), np.repeat(np.arange(4), 10)
    features = synthetic_features(y_train, y_test)
    _, span = transfer.layers_of(config)
    ours = scene.classify_scenes(features, y_train, y_test, layers=config.layers, span=span)

    train, test = FakeSplit(y_train, "train"), FakeSplit(y_test, "test")

    def extract(config, kernels, params, paths, layers, pre, label, classes=1000):
        side = pre.size if pre.resize is None else None
        split = "train" if paths == train.paths else "test"
        return features(split, layers, pre.views, side), 0.0, False

    class Dataset:
        classes, skipped, standard_split = ("a", "b", "c", "d"), (), True

    Dataset.train, Dataset.test = train, test
    monkeypatch.setattr(transfer, "extract", extract)
    monkeypatch.setattr(transfer, "load_weights", lambda model, weights: ({}, {}))
    monkeypatch.setattr(transfer, "load_scene15", lambda folder, seed: Dataset)
    monkeypatch.setattr(transfer, "weights_record", lambda weights, model: {})
    monkeypatch.setattr(transfer, "load_image", lambda path, h, w: np.zeros((h, w)))
    results = transfer.scene15_run(config, tmp_path, tmp_path, transfer.Kernels())
    assert [s.name for s in ours.tried] == [i["method"] for i in results["improvements"]]
    assert [s.accuracy for s in ours.tried] == [i["accuracy"] for i in results["improvements"]]
    assert ours.best.accuracy == results["best_accuracy"] and ours.table == results["table"]
    assert len(ours.fusion.rows) == 5 and len(ours.sides.rows) == 3
    assert (tmp_path / "fusion_cv.csv").is_file() and (tmp_path / "scales_cv.csv").is_file()
