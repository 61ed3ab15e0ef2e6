"""Transfer learning on 15-Scene: ImageNet CNN features + linear SVMs (Table 1.1), and improvements.

Features of a frozen ImageNet network (SqueezeNet 1.1 by default, VGG16 given its weights) at
several layers, classified by a linear SVM whose C is chosen by cross-validation on the
100-per-class training set, without and with L2 normalisation; then the improvements of the
practical's "going further" question (a softmax-regression head, feature fusion, multi-view
averaging, whole-image views at larger sizes, an RBF SVM, fine-tuning the last block), each
scored on the test split; the headline method is the SVM that cross-validation on the training
set chooses. The method is ``jaxdl.transfer.scene``'s; this module extracts the features,
wires the config to it and writes the results.
Without the 15-Scene data it transfers a small CNN trained on digits 0-4 to digits 5-9.
"""

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np

from experiments.common import (
    Kernels,
    load_weights,
    preprocessing,
    progress_bar,
    weights_record,
)
from experiments.configs.transfer import TransferConfig as Config
from experiments.report import Section
from experiments.tables import write_table
from experiments.transfer_figures import result_figures
from jaxdl.data.digits import load_digits_images
from jaxdl.data.images import load_image
from jaxdl.data.scene15 import load_scene15
from jaxdl.errors import InputError
from jaxdl.models import get_model
from jaxdl.paths import cache_dir
from jaxdl.train.classifier import fit_classifier
from jaxdl.train.logging import MetricsLogger
from jaxdl.transfer import classifiers as clf
from jaxdl.transfer import scene
from jaxdl.transfer.features import (
    Preprocessing,
    decode_files,
    extract_features,
    padded_batches,
    run_batches,
)
from jaxdl.transfer.finetune import HEADS, finetune, trainable_layers

SCENE15 = "scene15"
SQUEEZENET_WEIGHTS = "weights/squeezenet1_1_onnx_zoo"
# model -> (Table 1.1 layers, fused layers)
MODEL_LAYERS = {
    "vgg16": (("relu6", "relu7", "relu8"), ("relu6", "relu7")),
    "mnist_cnn": (("conv1", "conv2", "features"), ("conv2", "features")),
}
SQUEEZENET_LAYERS = (
    ("fire5", "fire6", "fire7", "fire8", "fire9", "classifier"),
    ("fire4", "fire5", "fire6", "fire7", "fire8", "fire9"),
)
# The logits of a network as a layer name (SqueezeNet: the pooled post-ReLU classifier map).
LOGIT_LAYERS = {"vgg16": "fc8", "mnist_cnn": "logits"}
REFERENCES = (
    {
        "method": "AlexNet (ImageNet) fc7 + linear SVM, Zhou et al. 2014",
        "accuracy": 0.84,
        "normalised": None,
    },
    {
        "method": "VGG16 (ImageNet) relu6 + linear SVM, the practical",
        "accuracy": 0.906,
        "normalised": 0.912,
    },
)


def layers_of(config: Config) -> tuple[tuple, tuple]:
    """(table layers, fusion span) from the config or the model's defaults."""
    table, fusion = MODEL_LAYERS.get(config.model, SQUEEZENET_LAYERS)
    return (
        tuple(x for x in config.layers if x) or table,
        tuple(x for x in config.fusion if x) or fusion,
    )


def quick(config: Config) -> Config:
    """10 train / 10 test images per class, one layer, centre view, one whole-image side, no
    fine-tuning."""
    table, _ = layers_of(config)
    return dataclasses.replace(
        config,
        layers=(table[-2],),
        train_per_class=10,
        test_per_class=10,
        views="center",
        scales=config.scales[:1],
        cv_folds=3,
        rbf=False,
        head_steps=100,
        finetune_epochs=0,
    )


@dataclasses.dataclass(frozen=True)
class SceneData:
    """The images a run classifies: the train and test splits (paths and labels) and the class
    names."""

    train: object
    test: object
    classes: tuple[str, ...]


def extract(config: Config, kernels: Kernels, params, paths, layers, pre, label, classes=1000):
    """Cached features of ``paths`` with a progress bar; returns (features, seconds, cached)."""
    start = time.perf_counter()
    with progress_bar(total=len(paths), desc=f"{label} features", unit="img") as bar:
        features, cached = extract_features(
            config.model,
            params,
            paths,
            layers,
            pre,
            batch_size=config.batch_size,
            cache_dir=cache_dir(config.cache_dir, "features"),
            progress=bar.update,
            num_classes=classes,
            layer_set=kernels.layers,
        )
    return features, time.perf_counter() - start, cached


def features_of(config: Config, kernels: Kernels, params, pre, data: SceneData, known) -> Callable:
    """The ``scene.Features`` callback of a network: features of either split at a view (the
    standard crop, or the whole image resized to ``side``), served from ``known`` ({(split,
    views, side): {layer: features}}, the standard view's already extracted) where it holds
    them, else extracted (cached on disk) and kept there."""

    def features(split: str, layers, views: str, side: int | None) -> dict:
        have = known.setdefault((split, views, side), {})
        missing = tuple(layer for layer in layers if layer not in have)
        if missing:
            view = dataclasses.replace(pre, views=views)
            if side is not None:
                view = dataclasses.replace(view, size=side, resize=None)
            label = f"{split} {views}" + (f" {side}px" if side else "")
            paths = getattr(data, split).paths
            have.update(extract(config, kernels, params, paths, missing, view, label)[0])
        return {layer: have[layer] for layer in layers}

    return features


def head_scored(config: Config, train: dict, test: dict, labels, layer: str, classes: int):
    """A softmax-regression head on the L2-normalised features of ``layer``, scored."""
    y_train, y_test = labels
    x_train, x_test = clf.l2_normalize(train[layer]), clf.l2_normalize(test[layer])
    head = clf.fit_linear_head(x_train, y_train, classes, steps=config.head_steps, seed=config.seed)
    y_pred = np.asarray(clf.linear_logits(head, x_test).argmax(-1))
    return scene.Scored(
        f"linear head (softmax regression) on {layer}",
        "softmax regression trained end to end with AdamW instead of hinge loss; a check that "
        "the SVM is not the bottleneck",
        y_pred,
        float(np.mean(y_pred == y_test)),
    )


def finetuned(config: Config, kernels: Kernels, params, pre, data: SceneData, workdir: Path):
    """Fine-tune the last block(s) on the training images, score the test split
    (``config.views``)."""
    images = decode_files(data.train.paths, pre, side=pre.resize or pre.size)
    shutil.rmtree(workdir / "finetune_ckpt", ignore_errors=True)  # a fresh run, not a resume
    (workdir / "finetune.jsonl").unlink(missing_ok=True)
    steps = config.finetune_epochs * (len(images) // config.batch_size)
    with progress_bar(total=steps, desc="fine-tune", unit="step") as bar:
        tuned, records = finetune(
            config.model,
            params,
            images,
            data.train.labels,
            len(data.classes),
            pre,
            epochs=config.finetune_epochs,
            batch_size=config.batch_size,
            learning_rate=config.finetune_lr,
            seed=config.seed,
            checkpoint_dir=workdir / "finetune_ckpt",
            logger=MetricsLogger(workdir, "finetune"),
            progress=lambda step, record: bar.update(),
            layer_set=kernels.layers,
        )
    layer = LOGIT_LAYERS.get(config.model, "classifier")
    view = dataclasses.replace(pre, views=config.views)
    paths = data.test.paths
    logits = extract(
        config, kernels, tuned, paths, (layer,), view, "fine-tuned test", len(data.classes)
    )
    y_pred = logits[0][layer].argmax(-1)
    return scene.Scored(
        f"fine-tuned {'+'.join(trainable_layers(config.model))} ({config.finetune_epochs} epochs, "
        "crop/flip)",
        "the frozen ImageNet features were never trained for scenes; adapting the last block "
        f"(and a new {HEADS[config.model]}) to 15-Scene with augmentation fits the target task "
        f"(final train loss {records[-1]['loss']:.3f})",
        y_pred,
        float(np.mean(y_pred == data.test.labels)),
    )


def scene15_run(config: Config, workdir: Path, data: Path, kernels: Kernels) -> dict:
    weights = config.weights or str(data / SQUEEZENET_WEIGHTS)
    params, meta = load_weights(config.model, weights)
    pre = config.method().preprocessing(**preprocessing(meta))
    dataset = load_scene15(data / SCENE15, seed=config.seed)
    train = dataset.train.subset(config.train_per_class, config.seed)
    test = dataset.test
    if config.test_per_class:
        test = dataset.test.subset(config.test_per_class, config.seed)
    split = SceneData(train, test, dataset.classes)
    table_layers, span = layers_of(config)
    layers = tuple(dict.fromkeys(table_layers + span))
    start = time.perf_counter()
    train_f, _, cached = extract(config, kernels, params, train.paths, layers, pre, "train")
    test_f = extract(config, kernels, params, test.paths, layers, pre, "test")[0]
    feature_seconds = time.perf_counter() - start
    result = scene.classify_scenes(
        features_of(
            config,
            kernels,
            params,
            pre,
            split,
            {("train", "center", None): train_f, ("test", "center", None): test_f},
        ),
        train.labels,
        test.labels,
        layers=table_layers,
        span=span,
        method=config.method(),
        fusion=tuple(x for x in config.fusion if x) or None,
    )
    extra = []
    if config.head_steps:
        labels = (train.labels, test.labels)
        extra.append(
            head_scored(config, train_f, test_f, labels, result.best_layer, len(split.classes))
        )
    tried = extra + result.tried
    if config.finetune_epochs:
        tried.append(finetuned(config, kernels, params, pre, split, workdir))
    for name, choice in (("fusion_cv", result.fusion), ("scales_cv", result.sides)):
        if choice is not None and len(choice.rows) > 1:
            write_table(choice.rows, workdir, name)
    facts = {
        "feature_seconds": round(feature_seconds, 1),
        "features_from_cache": bool(cached),
        "n_train": len(train),
        "n_test": len(test),
        "skipped_files": len(dataset.skipped),
        "standard_split": dataset.standard_split,
        "weights": weights_record(weights, config.model),
        "data_source": "15-Scene",
    }
    test_image = lambda i: load_image(test.paths[i], 160, 160)  # noqa: E731
    return report(config, workdir, result, tried, split, test_image, facts)


def references_text() -> str:
    return "; ".join(
        f"{r['method']}: {r['accuracy']}"
        + (f" / {r['normalised']} normalised" if r["normalised"] else "")
        for r in REFERENCES
    )


def write_tables(result, tried: list, best, split: SceneData, workdir: Path) -> None:
    """Table 1.1, the improvements and the per-class accuracies -> CSV + MD."""
    write_table(result.table, workdir, "table1_1")
    rows = [
        {
            "method": s.name,
            "accuracy": round(s.accuracy, 4),
            "cv_accuracy": None if s.cv_accuracy is None else round(s.cv_accuracy, 4),
            "why": s.why,
        }
        for s in [result.baseline] + tried
    ]
    write_table(rows, workdir, "improvements")
    n, y_test = len(split.classes), split.test.labels
    per_class = zip(
        split.classes,
        clf.per_class_accuracy(y_test, result.baseline.y_pred, n),
        clf.per_class_accuracy(y_test, best.y_pred, n),
    )
    rows = [
        {
            "class": name,
            f"accuracy_{result.best_layer}": round(float(a), 4),
            "accuracy_best": round(float(b), 4),
        }
        for name, a, b in per_class
    ]
    write_table(rows, workdir, "per_class")


def report(config: Config, workdir: Path, result, tried, split: SceneData, test_image, facts):
    """The tables, figures and sections of a run -> its results dict (``tried``: the
    improvements in order; the headline is the SVM cross-validation chooses among them)."""
    baseline = result.baseline
    best = scene.chosen_by_cv([baseline] + tried)
    write_tables(result, tried, best, split, workdir)
    y_test, classes = split.test.labels, split.classes
    figures = result_figures(baseline, y_test, classes, test_image, workdir, "baseline")
    if best is not baseline:
        figures += result_figures(best, y_test, classes, test_image, workdir, "best")
    table_text = (
        f"{config.model} features of {len(split.train.labels)} training images, linear SVM (C "
        f"by {config.cv_folds}-fold CV over {list(config.svm_c)}), accuracy on {len(y_test)} "
        f"test images. Layer chosen by CV: {result.best_layer} ({baseline.accuracy:.3f} "
        f"normalised). References: {references_text()}"
    )
    improvements = (
        " ".join(f"{s.name}: {s.accuracy:.3f} -- {s.why}." for s in tried)
        + f" Chosen by {config.cv_folds}-fold CV on the training set among the SVMs: "
        f"{best.name}, test accuracy {best.accuracy:.3f}."
        if tried
        else "none run"
    )
    sections = [
        Section("Table 1.1: SVM accuracy per layer", table_text, table="table1_1.csv"),
        Section("Improvements", improvements, table="improvements.csv"),
        Section(
            "Per-class accuracy, confusion and errors",
            f"Baseline {baseline.name} ({baseline.accuracy:.3f}) and the method chosen by CV, "
            f"{best.name} ({best.accuracy:.3f}).",
            figures=tuple(f for f, _ in figures),
            table="per_class.csv",
            captions=tuple(c for _, c in figures),
        ),
    ]
    return {
        **facts,
        "model": config.model,
        "table": result.table,
        "references": list(REFERENCES),
        "improvements": [
            {"method": s.name, "accuracy": s.accuracy, "cv_accuracy": s.cv_accuracy, "why": s.why}
            for s in tried
        ],
        "best_layer": result.best_layer,
        "baseline_accuracy": baseline.accuracy,
        "best_method": best.name,
        "best_accuracy": best.accuracy,  # of the method chosen by CV (``best_method``)
        "best_cv_accuracy": best.cv_accuracy,
        "figures": [f for f, _ in figures],
        "headline": headline(config, result, best, facts),
        "sections": [s.to_json() for s in sections],
    }


def headline(config: Config, result, best, facts: dict) -> list[dict]:
    """The summary table's rows: the best single layer and the method chosen by CV."""
    data = f"{facts['n_train']} train / {facts['n_test']} test images"
    reference = "0.912 (VGG16 relu6 normalised, the practical); 0.84 (AlexNet, Zhou et al. 2014)"
    rows = [
        {
            "result": f"{config.model} {result.best_layer} + linear SVM (L2), test accuracy "
            f"on {data}",
            "measured": f"{result.baseline.accuracy:.3f} (one split, seed {config.seed})",
            "reference": reference,
        }
    ]
    if best is not result.baseline:
        rows.append(
            {
                "result": f"chosen by CV: {best.name}",
                "measured": f"{best.accuracy:.3f} (one split, seed {config.seed})",
                "reference": reference,
            }
        )
    return rows


@dataclasses.dataclass(frozen=True)
class DigitSplit:
    """A split of the digits fallback: its labels (what ``SceneData`` needs of a split)."""

    labels: np.ndarray


def digits_run(config: Config, workdir: Path, kernels: Kernels) -> dict:
    """Fallback: a CNN trained on digits 0-4 (source task), its features for digits 5-9 (target)."""
    x, y = load_digits_images(28)
    x = x[..., None]
    source = y < 5
    module = get_model("mnist_cnn", num_classes=5, layers=kernels.layers)
    params = fit_classifier(
        module, x[source] / 255.0, y[source], epochs=5, batch_size=64, seed=config.seed
    )
    x_t, y_t = x[~source], y[~source] - 5
    order = np.random.default_rng(config.seed).permutation(len(y_t))
    per_class = min(config.train_per_class, 50)
    train_idx = np.sort(np.concatenate([order[y_t[order] == c][:per_class] for c in range(5)]))
    test_idx = np.setdiff1d(np.arange(len(y_t)), train_idx)
    layers, _ = MODEL_LAYERS["mnist_cnn"]
    pre = Preprocessing(size=28, resize=None, channels="as_is")

    def features(idx):
        batches = padded_batches(x_t[idx], 128)
        return run_batches(
            "mnist_cnn", params, batches, layers, pre, num_classes=5, layer_set=kernels.layers
        )

    digits_config = dataclasses.replace(config, model="mnist_cnn")
    train, test = features(train_idx), features(test_idx)
    labels = y_t[train_idx], y_t[test_idx]
    table, normalised = scene.layer_table(train, test, *labels, layers, config.method())
    best_layer = max(normalised, key=lambda layer: normalised[layer].cv_accuracy)
    result = scene.SceneResult(table, best_layer, normalised[best_layer], [], None, None, None)
    split = SceneData(DigitSplit(labels[0]), DigitSplit(labels[1]), tuple(map(str, range(5, 10))))
    facts = {
        "n_train": len(train_idx),
        "n_test": len(test_idx),
        "data_source": "scikit-learn digits",
        "note": "15-Scene not found in the data folder: a digits CNN trained on 0-4, its "
        "features classified for digits 5-9 by linear SVMs.",
    }
    test_image = lambda i: x_t[test_idx][i, ..., 0]  # noqa: E731
    return report(digits_config, workdir, result, [], split, test_image, facts)


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    if data is None or not (data / SCENE15).is_dir():
        return digits_run(config, workdir, kernels)
    if config.weights is None and config.model != "squeezenet1_1":
        raise InputError(
            f"--weights is required for {config.model}: only SqueezeNet 1.1 ImageNet weights are "
            "in the data folder"
        )
    return scene15_run(config, workdir, data, kernels)
