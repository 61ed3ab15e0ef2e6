"""Transfer learning on 15-Scene: ImageNet CNN features + linear SVMs (Table 1.1), and improvements.

Features of a frozen ImageNet network (SqueezeNet 1.1 by default, VGG16 given its weights) at
several layers, classified by a linear SVM whose C is chosen by cross-validation on the
100-per-class training set, without and with L2 normalisation; then the improvements of the
practical's "going further" question (a linear head trained with optax, feature fusion,
multi-view averaging, whole-image views at larger sizes, an RBF SVM, fine-tuning the last
block), each scored on the test split; the headline method is the SVM that cross-validation on
the training set chooses.
Without the 15-Scene data it transfers a small CNN trained on digits 0-4 to digits 5-9.
"""

import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np

from experiments.common import (
    Kernels,
    load_weights,
    preprocessing,
    progress_bar,
    weights_record,
)
from experiments.configs.transfer import TransferConfig as Config
from experiments.tables import write_table
from jaxdl import viz
from jaxdl.data.digits import load_digits_images
from jaxdl.data.images import load_image
from jaxdl.data.scene15 import load_scene15
from jaxdl.errors import InputError
from jaxdl.models import get_model
from jaxdl.paths import cache_dir
from jaxdl.train.classifier import fit_classifier
from jaxdl.train.logging import MetricsLogger
from jaxdl.transfer import classifiers as clf
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
    """(table layers, fusion layers) from the config or the model's defaults."""
    table, fusion = MODEL_LAYERS.get(config.model, SQUEEZENET_LAYERS)
    return (
        tuple(x for x in config.layers if x) or table,
        tuple(x for x in config.fusion if x) or fusion,
    )


def fusion_candidates(config: Config) -> tuple[tuple[str, ...], ...]:
    """The fused layer sets to choose from: the config's ``fusion`` as given, or every run of at
    least two consecutive layers of the model's fusion span that ends at its last layer
    (SqueezeNet: fire8+fire9, fire7..fire9, ..., fire4..fire9)."""
    _, span = layers_of(config)
    if any(config.fusion):
        return (span,)
    return (
        tuple(span[start:] for start in range(len(span) - 2, -1, -1)) if len(span) > 1 else (span,)
    )


def choose_fusion(train, y_train, config: Config, workdir: Path) -> tuple[str, ...]:
    """The candidate fusion with the best cross-validated accuracy on the training set (the test
    split plays no part); all candidates' CV accuracies -> fusion_cv.csv."""
    candidates = fusion_candidates(config)
    if len(candidates) == 1:
        return candidates[0]
    fits = {
        c: fit_config_svm(clf.concat_normalized([train[layer] for layer in c]), y_train, config)
        for c in candidates
    }
    rows = [
        {
            "layers": "+".join(c),
            "dim": sum(train[layer].shape[1] for layer in c),
            "cv_accuracy": round(fits[c].cv_accuracy, 4),
            "C": fits[c].C,
        }
        for c in candidates
    ]
    write_table(rows, workdir, "fusion_cv")
    return max(candidates, key=lambda c: fits[c].cv_accuracy)


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


@dataclasses.dataclass
class Scored:
    """One classifier's test predictions: ``name``, why it was tried, predictions, accuracy, and
    for an SVM its C and the cross-validated accuracy on the training set that chose it."""

    name: str
    why: str
    y_pred: np.ndarray
    accuracy: float
    C: float | None = None
    cv_accuracy: float | None = None


def fit_config_svm(train_x, y_train, config, normalize=False, kernel="linear") -> clf.SVMFit:
    """An SVM on the training features, C by the config's cross-validation."""
    return clf.fit_svm(
        train_x,
        y_train,
        normalize=normalize,
        kernel=kernel,
        cs=config.svm_c,
        folds=config.cv_folds,
        seed=config.seed,
    )


def scored_fit(name, why, fit: clf.SVMFit, test_x, y_test) -> Scored:
    return Scored(
        name, why, fit.predict(test_x), fit.accuracy(test_x, y_test), fit.C, fit.cv_accuracy
    )


def score_svm(
    name, why, train_x, y_train, test_x, y_test, config, normalize=False, kernel="linear"
) -> Scored:
    fit = fit_config_svm(train_x, y_train, config, normalize, kernel)
    return scored_fit(name, why, fit, test_x, y_test)


def chosen_by_cv(scored) -> Scored:
    """The classifier with the best cross-validated training accuracy (the first of equals):
    the test split plays no part in the choice."""
    return max((s for s in scored if s.cv_accuracy is not None), key=lambda s: s.cv_accuracy)


def scale_candidates(config: Config) -> tuple[tuple[int, ...], ...]:
    """The whole-image view sides to choose from: each of ``config.scales`` alone, then all."""
    singles = tuple((side,) for side in config.scales)
    return singles + ((config.scales,) if len(config.scales) > 1 else ())


def layer_table(train, test, y_train, y_test, layers, config, workdir: Path):
    """Table 1.1: one row per layer (dim, accuracy raw / L2-normalised, the chosen Cs) -> CSV +
    MD."""
    rows, scored = [], {}
    for layer in layers:
        raw = score_svm(layer, "", train[layer], y_train, test[layer], y_test, config)
        normed = score_svm(
            f"{layer} (L2)", "", train[layer], y_train, test[layer], y_test, config, normalize=True
        )
        scored[layer] = normed
        rows.append(
            {
                "layer": layer,
                "dim": train[layer].shape[1],
                "accuracy": round(raw.accuracy, 4),
                "accuracy_normalised": round(normed.accuracy, 4),
                "C": raw.C,
                "C_normalised": normed.C,
            }
        )
    write_table(rows, workdir, "table1_1")
    return rows, scored


def confusion_figure(y_true, y_pred, classes, title):
    """Row-normalised confusion matrix (true class = row) with the diagonal annotated."""
    matrix = clf.confusion_matrix(y_true, y_pred, len(classes)).astype(float)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = viz.new_figure(1, 1, size=(7.5, 6.5))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=90)
    ax.set_yticks(range(len(classes)), classes)
    for i in range(len(classes)):
        ax.text(
            i,
            i,
            f"{matrix[i, i]:.2f}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if matrix[i, i] > 0.5 else "black",
        )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def misclassified_figure(images, y_true, y_pred, classes, title, count: int = 12, seed: int = 0):
    """Up to ``count`` misclassified test images (a seeded draw), titled "true -> predicted"."""
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))
    chosen = np.sort(np.random.default_rng(seed).permutation(wrong)[:count])
    cols = 6
    rows = max(1, -(-len(chosen) // cols))
    fig, axes = viz.new_figure(rows, cols, size=(2.2, 2.9))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, chosen):
        ax.imshow(images(i), cmap="gray")
        ax.set_title(f"{classes[y_true[i]]}\n-> {classes[y_pred[i]]}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.96), h_pad=1.5)
    return fig


def result_figures(scored: Scored, y_test, classes, images, workdir: Path, tag: str) -> list[str]:
    """Confusion matrix and misclassified examples of one classifier; returns the file names."""
    fig = confusion_figure(
        y_test, scored.y_pred, classes, f"{scored.name}: accuracy {scored.accuracy:.3f}"
    )
    names = [viz.save_figure(fig, workdir / f"confusion_{tag}.png").name]
    fig = misclassified_figure(
        images, y_test, scored.y_pred, classes, f"misclassified ({scored.name})"
    )
    names.append(viz.save_figure(fig, workdir / f"misclassified_{tag}.png").name)
    return names


def feature_cache(config: Config) -> Path:
    return cache_dir(config.cache_dir, "features")


def extract(
    config: Config,
    kernels: Kernels,
    params,
    paths,
    layers,
    pre: Preprocessing,
    label: str,
    num_classes: int = 1000,
):
    """Cached features of ``paths`` with a tqdm bar (images/s); returns (features, seconds,
    cached)."""
    start = time.perf_counter()
    with progress_bar(total=len(paths), desc=f"{label} features", unit="img") as bar:
        features, cached = extract_features(
            config.model,
            params,
            paths,
            layers,
            pre,
            batch_size=config.batch_size,
            cache_dir=feature_cache(config),
            progress=bar.update,
            num_classes=num_classes,
            layer_set=kernels.layers,
        )
    return features, time.perf_counter() - start, cached


def improvements(config, kernels, params, pre, data, best_layer, workdir: Path) -> list[Scored]:
    """Every improvement of the config, scored on the test split (``data`` = the feature dicts)."""
    train, test, y_train, y_test, splits, classes = data
    fusion, candidates = (
        choose_fusion(train, y_train, config, workdir),
        len(fusion_candidates(config)),
    )
    chosen = (
        f" (chosen by {config.cv_folds}-fold CV on the training set among {candidates})"
        if candidates > 1
        else ""
    )
    results = []
    if config.head_steps:
        head = clf.fit_linear_head(
            clf.l2_normalize(train[best_layer]),
            y_train,
            len(classes),
            steps=config.head_steps,
            seed=config.seed,
        )
        y_pred = np.asarray(clf.linear_logits(head, clf.l2_normalize(test[best_layer])).argmax(-1))
        results.append(
            Scored(
                f"linear head (optax) on {best_layer}",
                "softmax regression trained end to end "
                "with AdamW instead of hinge loss; a check that the SVM is not the bottleneck",
                y_pred,
                float(np.mean(y_pred == y_test)),
            )
        )
    fused_train = clf.concat_normalized([train[layer] for layer in fusion])
    fused_test = clf.concat_normalized([test[layer] for layer in fusion])
    results.append(
        score_svm(
            f"fusion {'+'.join(fusion)}{chosen}",
            "earlier layers keep more spatial/texture "
            "detail that scene categories need; concatenating L2-normalised blocks lets the SVM "
            "weigh them",
            fused_train,
            y_train,
            fused_test,
            y_test,
            config,
        )
    )
    blocks = ([train[layer] for layer in fusion], [test[layer] for layer in fusion])
    if config.views != "center":
        view_pre = dataclasses.replace(pre, views=config.views)
        train_v = extract(
            config, kernels, params, splits[0].paths, fusion, view_pre, f"train {config.views}"
        )[0]
        test_v = extract(
            config, kernels, params, splits[1].paths, fusion, view_pre, f"test {config.views}"
        )[0]
        blocks = ([train_v[layer] for layer in fusion], [test_v[layer] for layer in fusion])
        results.append(
            score_svm(
                f"fusion + {config.views} views",
                "averaging the features of mirrored (and shifted) "
                "views removes left/right and crop-position noise; scenes are mirror-symmetric",
                clf.concat_normalized(blocks[0]),
                y_train,
                clf.concat_normalized(blocks[1]),
                y_test,
                config,
            )
        )
    if config.scales:
        scored, blocks = multi_scale(
            config,
            kernels,
            params,
            pre,
            splits,
            fusion,
            blocks,
            (y_train, y_test),
            workdir,
            base_name=results[-1].name,
        )
        results.append(scored)
    best_x = (clf.concat_normalized(blocks[0]), clf.concat_normalized(blocks[1]))
    if config.rbf:
        results.append(
            score_svm(
                "RBF SVM on the features of the row above",
                "a non-linear kernel can separate classes that "
                "share a linear direction (kitchen / living room / bedroom)",
                best_x[0],
                y_train,
                best_x[1],
                y_test,
                config,
                kernel="rbf",
            )
        )
    if config.finetune_epochs:
        results.append(
            finetuned(config, kernels, params, pre, splits, y_train, y_test, len(classes), workdir)
        )
    return results


def whole_image_features(config, kernels, params, pre, splits, layers, side: int):
    """(train, test) features of the whole images resized to side x side, not cropped (mirror
    views averaged unless ``config.views`` is "center")."""
    view_pre = dataclasses.replace(
        pre, size=side, resize=None, views="center" if config.views == "center" else "flip"
    )
    return tuple(
        extract(config, kernels, params, split.paths, layers, view_pre, f"{name} {side}px")[0]
        for split, name in zip(splits, ("train", "test"))
    )


def multi_scale(
    config, kernels, params, pre, splits, fusion, blocks, labels, workdir: Path, base_name: str
):
    """The fused ``blocks`` (train, test) joined by whole-image features at the sides that
    cross-validation picks among ``scale_candidates`` (all candidates -> scales_cv.csv).

    Returns the scored SVM, named "<base_name> + whole image at ...", and the chosen blocks."""
    y_train, y_test = labels
    scaled = {
        side: whole_image_features(config, kernels, params, pre, splits, fusion, side)
        for side in config.scales
    }

    def joined(split: int, sides):
        return blocks[split] + [scaled[side][split][layer] for side in sides for layer in fusion]

    candidates = scale_candidates(config)
    fits = {
        c: fit_config_svm(clf.concat_normalized(joined(0, c)), y_train, config) for c in candidates
    }
    write_table(
        [
            {
                "sides": "+".join(map(str, c)),
                "dim": sum(b.shape[1] for b in joined(0, c)),
                "cv_accuracy": round(fits[c].cv_accuracy, 4),
                "C": fits[c].C,
            }
            for c in candidates
        ],
        workdir,
        "scales_cv",
    )
    sides = max(candidates, key=lambda c: fits[c].cv_accuracy)
    among = f" (chosen by CV among {len(candidates)})" if len(candidates) > 1 else ""
    scored = scored_fit(
        f"{base_name} + whole image at {'+'.join(f'{side}px' for side in sides)}{among}",
        "the standard view is a centre crop at ImageNet's object scale; the whole scene, "
        "enlarged, shows the network its layout and its small parts at the sizes it detects",
        fits[sides],
        clf.concat_normalized(joined(1, sides)),
        y_test,
    )
    return scored, (joined(0, sides), joined(1, sides))


def finetuned(
    config, kernels, params, pre, splits, y_train, y_test, num_classes, workdir: Path
) -> Scored:
    """Fine-tune the last block(s) on the training images, score the test split
    (``config.views``)."""
    images = decode_files(splits[0].paths, pre, side=pre.resize or pre.size)
    shutil.rmtree(workdir / "finetune_ckpt", ignore_errors=True)  # a fresh run, not a resume
    (workdir / "finetune.jsonl").unlink(missing_ok=True)
    with progress_bar(
        total=config.finetune_epochs * (len(images) // config.batch_size),
        desc="fine-tune",
        unit="step",
    ) as bar:
        tuned, records = finetune(
            config.model,
            params,
            images,
            y_train,
            num_classes,
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
    logits_layer = LOGIT_LAYERS.get(config.model, "classifier")
    view_pre = dataclasses.replace(pre, views=config.views)
    logits = extract(
        config,
        kernels,
        tuned,
        splits[1].paths,
        (logits_layer,),
        view_pre,
        "fine-tuned test",
        num_classes=num_classes,
    )[0][logits_layer]
    y_pred = logits.argmax(-1)
    blocks = "+".join(trainable_layers(config.model))
    return Scored(
        f"fine-tuned {blocks} ({config.finetune_epochs} epochs, crop/flip)",
        "the frozen ImageNet features were never trained for scenes; adapting the last block "
        "(and a new "
        f"{HEADS[config.model]}) to 15-Scene with augmentation fits the target task "
        f"(final train loss {records[-1]['loss']:.3f})",
        y_pred,
        float(np.mean(y_pred == y_test)),
    )


def scene15_run(config: Config, workdir: Path, data: Path, kernels: Kernels) -> dict:
    weights = config.weights or str(data / SQUEEZENET_WEIGHTS)
    params, meta = load_weights(config.model, weights)
    pre = Preprocessing(**preprocessing(meta), channels=config.channels)
    dataset = load_scene15(data / SCENE15, seed=config.seed)
    train = dataset.train.subset(config.train_per_class, config.seed)
    test = (
        dataset.test.subset(config.test_per_class, config.seed)
        if config.test_per_class
        else dataset.test
    )
    table_layers, fusion = layers_of(config)
    layers = tuple(dict.fromkeys(table_layers + fusion))
    train_f, train_s, cached = extract(config, kernels, params, train.paths, layers, pre, "train")
    test_f, test_s, _ = extract(config, kernels, params, test.paths, layers, pre, "test")
    timing = {
        "feature_seconds_train": round(train_s, 1),
        "feature_seconds_test": round(test_s, 1),
        "features_from_cache": bool(cached),
    }
    return report(
        config,
        kernels,
        workdir,
        (train_f, test_f, train.labels, test.labels, (train, test), dataset.classes),
        params,
        pre,
        table_layers,
        lambda i: load_image(test.paths[i], 160, 160),
        {
            **timing,
            "n_train": len(train),
            "n_test": len(test),
            "skipped_files": len(dataset.skipped),
            "standard_split": dataset.standard_split,
            "weights": weights_record(weights, config.model),
            "data_source": "15-Scene",
        },
    )


def report(
    config, kernels, workdir, data, params, pre, table_layers, test_image, extra: dict
) -> dict:
    """Table 1.1, the improvements, per-class accuracy and figures -> the summary dict."""
    train, test, y_train, y_test, _, classes = data
    rows, scores = layer_table(train, test, y_train, y_test, table_layers, config, workdir)
    best_layer = max(scores, key=lambda layer: scores[layer].cv_accuracy)  # CV, not the test split
    baseline = scores[best_layer]
    tried = (
        improvements(config, kernels, params, pre, data, best_layer, workdir)
        if params is not None
        else []
    )
    best = chosen_by_cv([baseline] + tried)
    write_table(
        [
            {
                "method": s.name,
                "accuracy": round(s.accuracy, 4),
                "cv_accuracy": None if s.cv_accuracy is None else round(s.cv_accuracy, 4),
                "why": s.why,
            }
            for s in [baseline] + tried
        ],
        workdir,
        "improvements",
    )
    per_class = [
        {
            "class": name,
            f"accuracy_{best_layer}": round(float(a), 4),
            "accuracy_best": round(float(b), 4),
        }
        for name, a, b in zip(
            classes,
            clf.per_class_accuracy(y_test, baseline.y_pred, len(classes)),
            clf.per_class_accuracy(y_test, best.y_pred, len(classes)),
        )
    ]
    write_table(per_class, workdir, "per_class")
    base_figs = result_figures(baseline, y_test, classes, test_image, workdir, "baseline")
    best_figs = (
        result_figures(best, y_test, classes, test_image, workdir, "best")
        if best is not baseline
        else []
    )
    table_text = (
        f"{config.model} features of {len(y_train)} training images, linear SVM (C by "
        f"{config.cv_folds}-fold CV over {list(config.svm_c)}), accuracy on {len(y_test)} test "
        f"images. Layer chosen by CV: {best_layer} "
        f"({baseline.accuracy:.3f} normalised). References: "
        + "; ".join(
            f"{r['method']}: {r['accuracy']}"
            + (f" / {r['normalised']} normalised" if r["normalised"] else "")
            for r in REFERENCES
        )
    )
    sections = [
        {
            "title": "Table 1.1: SVM accuracy per layer",
            "text": table_text,
            "figures": [],
            "table": "table1_1.csv",
        },
        {
            "title": "Improvements",
            "text": " ".join(f"{s.name}: {s.accuracy:.3f} -- {s.why}." for s in tried)
            + f" Chosen by {config.cv_folds}-fold CV on the training set among the SVMs: "
            f"{best.name}, test accuracy {best.accuracy:.3f}."
            if tried
            else "none run",
            "figures": [],
            "table": "improvements.csv",
        },
        {
            "title": "Per-class accuracy, confusion and errors",
            "text": f"Baseline {baseline.name} ({baseline.accuracy:.3f}) and the method chosen "
            f"by CV, {best.name} ({best.accuracy:.3f}).",
            "figures": base_figs + best_figs,
            "table": "per_class.csv",
        },
    ]
    return {
        **extra,
        "model": config.model,
        "table": rows,
        "references": list(REFERENCES),
        "improvements": [
            {"method": s.name, "accuracy": s.accuracy, "cv_accuracy": s.cv_accuracy, "why": s.why}
            for s in tried
        ],
        "best_layer": best_layer,
        "baseline_accuracy": baseline.accuracy,
        "best_method": best.name,
        "best_accuracy": best.accuracy,  # of the method chosen by CV (``best_method``)
        "best_cv_accuracy": best.cv_accuracy,
        "figures": base_figs + best_figs,
        "sections": sections,
    }


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
        return run_batches(
            "mnist_cnn",
            params,
            padded_batches(x_t[idx], 128),
            layers,
            pre,
            num_classes=5,
            layer_set=kernels.layers,
        )

    digits_config = dataclasses.replace(config, model="mnist_cnn")
    result = report(
        digits_config,
        kernels,
        workdir,
        (
            features(train_idx),
            features(test_idx),
            y_t[train_idx],
            y_t[test_idx],
            None,
            tuple(str(c) for c in range(5, 10)),
        ),
        None,
        pre,
        layers,
        lambda i: x_t[test_idx][i, ..., 0],
        {
            "n_train": len(train_idx),
            "n_test": len(test_idx),
            "data_source": "sklearn digits",
            "note": "15-Scene not found in the data folder: a digits CNN trained on 0-4, its "
            "features "
            "classified for digits 5-9 by linear SVMs.",
        },
    )
    return result


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    if data is None or not (data / SCENE15).is_dir():
        return digits_run(config, workdir, kernels)
    if config.weights is None and config.model != "squeezenet1_1":
        raise InputError(
            f"--weights is required for {config.model}: only SqueezeNet 1.1 ImageNet weights are "
            "in the data folder"
        )
    return scene15_run(config, workdir, data, kernels)
