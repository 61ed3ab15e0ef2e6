"""Chapter 1 basics: VGG16/SqueezeNet sizes, top-5 predictions, activation maps, ImageNet accuracy.

Answers the practical's first questions: how many parameters VGG16 has and which share sits
in its fully connected layers, what the network predicts on ImageNet images, and what the
first layer's activation maps look like.
"""

import dataclasses
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from experiments.common import (
    Kernels,
    load_weights,
    preprocessing,
    read_image_subset,
    weights_record,
)
from experiments.configs.basics import BasicsConfig as Config
from experiments.digits import digits_classifier
from experiments.predict import classify, evaluate_folder, read_labels
from experiments.report import Section
from experiments.tables import write_table
from jaxdl import imagenet, stats, viz
from jaxdl.imagenet import top_k
from jaxdl.models import make_apply
from jaxdl.train.classifier import predict_classes
from jaxdl.weights import expected_shapes

WEIGHTS = "weights/squeezenet1_1_onnx_zoo"
IMAGES = "imagenet/imagenet_val_25.npz"
VAL_SUBSET = "imagenet/val_subset"
# published top-1 on the full 50,000-image ImageNet validation set, beside the subset's
FULL_VALIDATION = {
    "squeezenet1_1": (
        "ONNX model zoo squeezenet1.1-7 56.34%, torchvision squeezenet1_1 58.18%",
        0.5634,
    ),
    # Deep Compression reports its 510x smaller SqueezeNet at the original's 57.5% top-1
    "squeezenet1_0": (
        "SqueezeNet 1.0 57.5% (Iandola et al. 2016, kept by Deep Compression)",
        0.575,
    ),
}


def full_validation_text(model: str, top1: float, n: int) -> str:
    """The published full-validation top-1 beside the subset's, and whether the subset's 95%
    (Wilson) interval holds it."""
    if model not in FULL_VALIDATION:
        return ""
    text, published = FULL_VALIDATION[model]
    low, high = stats.wilson_interval(round(top1 * n), n)
    inside = low <= published <= high
    return (
        f" Published top-1 on the full 50,000-image validation set: {text}. The subset's 95% "
        f"interval, [{low:.3f}, {high:.3f}], "
        + (
            "holds it."
            if inside
            else "does not hold it: the subset is not a random sample of "
            "the validation set (a calibration subset, easier than the whole), so its accuracy "
            "checks the conversion, not the network's ImageNet accuracy."
        )
    )


def quick(config: Config) -> Config:
    return dataclasses.replace(config, image_indices=config.image_indices[:2], eval_images=100)


def parameter_table(arch: str):
    """[(layer, params)] in network order and the total, from shapes alone (no weights)."""
    per_layer = {}
    for name, shape in expected_shapes(arch).items():
        layer = name.rsplit("/", 1)[0]
        per_layer[layer] = per_layer.get(layer, 0) + int(np.prod(shape))
    return list(per_layer.items()), sum(per_layer.values())


def architecture_section(workdir: Path) -> tuple[dict, Section]:
    rows, total = parameter_table("vgg16")
    fc = sum(n for layer, n in rows if layer.startswith("fc"))
    write_table(
        [{"layer": layer, "parameters": n} for layer, n in rows + [("total", total)]],
        workdir,
        "vgg16_parameters",
    )
    sizes = {arch: parameter_table(arch)[1] for arch in ("squeezenet1_0", "squeezenet1_1")}
    numbers = {
        "vgg16_parameters": total,
        "vgg16_conv_parameters": total - fc,
        "vgg16_fc_share": fc / total,
        **{f"{a}_parameters": n for a, n in sizes.items()},
    }
    text = (
        f"VGG16 has {total:,} parameters; its three fully connected layers hold {fc:,} "
        f"({100 * fc / total:.1f}%), the 13 convolutions {total - fc:,}. fc6 alone "
        f"(25088x4096 + 4096) holds {dict(rows)['fc6']:,}. SqueezeNet 1.0 has "
        f"{sizes['squeezenet1_0']:,} and 1.1 {sizes['squeezenet1_1']:,} parameters "
        f"({total / sizes['squeezenet1_1']:.0f}x fewer than VGG16), with no fully connected layer."
    )
    section = Section(
        "Q1. How many parameters does VGG16 have, and where?", text, table="vgg16_parameters.csv"
    )
    return numbers, section


def top5_section(config: Config, workdir: Path, images, labels, inputs, logits, norm) -> Section:
    """Q2: a figure per image with the network's five best classes."""
    indices, probs = top_k(logits, 5)
    figures, lines = [], []
    for i, (index, label) in enumerate(zip(config.image_indices, labels)):
        names = [imagenet.short_name(int(c)) for c in indices[i]]
        title = f"image {index}: true class {imagenet.short_name(int(label))}"
        deprocessed = np.asarray(imagenet.deprocess(inputs[i], norm))
        fig = viz.prediction_figure(images[i], deprocessed, names, probs[i], title=title)
        figures.append(viz.save_figure(fig, workdir / f"top5_{index:02d}.png").name)
        lines.append(
            f"image {index} ({imagenet.short_name(int(label))}): "
            + ", ".join(f"{n} {p:.2f}" for n, p in zip(names, probs[i]))
        )
    captions = tuple(
        f"The image as given, the network's input and its top-5: {line}" for line in lines
    )
    return Section(
        "Q2. Top-5 predictions on ImageNet images",
        "; ".join(lines) + ".",
        tuple(figures),
        captions=captions,
    )


def activation_section(config: Config, workdir: Path, params, inputs, kernels) -> Section:
    """Q3: the activation maps of ``config.layer`` on the first image."""
    apply = make_apply(config.model, layers=kernels.layers)
    maps, _ = apply(params, inputs[:1], stop_at=config.layer)
    title = f"{config.model} {config.layer} on image {config.image_indices[0]}"
    fig = viz.activation_grid_figure(maps[0], title=title)
    name = viz.save_figure(fig, workdir / f"activations_{config.layer}.png").name
    shown = min(64, maps.shape[-1])
    return Section(
        f"Q3. Activation maps of {config.layer}",
        f"The first {shown} of {maps.shape[-1]} maps of {config.layer} "
        f"({maps.shape[1]}x{maps.shape[2]}): edge, colour and texture detectors.",
        (name,),
        captions=(f"The first {shown} activation maps of {title}, each scaled to its own range",),
    )


def accuracy_section(config: Config, data: Path, params, meta, kernels) -> tuple[dict, Section]:
    """Top-1 / top-5 of the weights on the labelled validation subset."""
    files, y = read_labels(data / VAL_SUBSET / "labels.txt")
    result = evaluate_folder(
        config.model,
        params,
        meta,
        data / VAL_SUBSET / "images",
        files[: config.eval_images],
        y[: config.eval_images],
        progress=True,
        layers=kernels.layers,
    )
    text = (
        f"{config.model} ({meta.get('source_format', 'converted')} weights): top-1 "
        f"{result['top1']:.3f}, top-5 {result['top5']:.3f} on {result['n']} images of "
        "imagenet/val_subset (resize 256, centre crop)."
        + full_validation_text(config.model, result["top1"], result["n"])
    )
    numbers = {f"val_{k}": v for k, v in result.items()}
    return numbers, Section("ImageNet accuracy of the converted weights", text)


def imagenet_sections(config: Config, workdir: Path, data: Path, kernels: Kernels):
    """Top-5 figures, activation maps and val-subset accuracy with real ImageNet weights."""
    weights = config.weights or str(data / WEIGHTS)
    params, meta = load_weights(config.model, weights)
    images, labels = read_image_subset(data / IMAGES, config.image_indices)
    inputs, logits = classify(config.model, params, meta, list(images), layers=kernels.layers)
    norm = preprocessing(meta)["norm"]
    indices, _ = top_k(logits, 5)
    numbers = {
        "top5_hits": int((indices == labels[:, None]).any(axis=1).sum()),
        "n_images": len(labels),
        "weights": weights_record(weights, config.model),
    }
    sections = [
        top5_section(config, workdir, images, labels, inputs, logits, norm),
        activation_section(config, workdir, params, inputs, kernels),
    ]
    if config.eval_images and (data / VAL_SUBSET).is_dir():
        accuracy, section = accuracy_section(config, data, params, meta, kernels)
        numbers.update(accuracy)
        sections.append(section)
    return numbers, sections


def digits_sections(config: Config, workdir: Path, kernels: Kernels):
    """No ImageNet weights: the same figures with the small CNN trained on scikit-learn digits."""
    digits = digits_classifier(config.seed, kernels.layers)
    x, y = digits.x_test, digits.y_test
    accuracy = float((predict_classes(digits.module, digits.params, x) == y).mean())
    logits, acts = digits.module.apply({"params": digits.params}, jnp.asarray(x[:2]))
    indices, probs = top_k(logits, 5)
    figures = []
    for i in range(2):
        fig = viz.prediction_figure(
            x[i, ..., 0],
            x[i, ..., 0],
            [str(c) for c in indices[i]],
            probs[i],
            title=f"digit, true {y[i]}",
        )
        figures.append(viz.save_figure(fig, workdir / f"top5_digit_{i}.png").name)
    fig = viz.activation_grid_figure(acts["conv1"][0], title="digits CNN conv1")
    activation_figure = viz.save_figure(fig, workdir / "activations_conv1.png").name
    note = "No ImageNet weights in the data folder: shown on a CNN trained on scikit-learn digits."
    return {"digits_test_accuracy": accuracy}, [
        Section(
            "Q2. Top-5 predictions",
            f"{note} Test accuracy {accuracy:.3f}.",
            tuple(figures),
            captions=tuple(
                f"A test digit (true class {y[i]}) and the CNN's top-5" for i in range(2)
            ),
        ),
        Section(
            "Q3. Activation maps of conv1",
            note,
            (activation_figure,),
            captions=("The digits CNN's conv1 maps on a test digit",),
        ),
    ]


def headline(numbers: dict, config: Config) -> list[dict]:
    """The summary table's rows: VGG16's size and, with ImageNet weights, their accuracy."""
    rows = [
        {
            "result": "VGG16 parameters (share in the fully connected layers)",
            "measured": f"{numbers['vgg16_parameters']:,} ({100 * numbers['vgg16_fc_share']:.1f}%)",
            "reference": "138M (Simonyan & Zisserman 2015)",
        }
    ]
    if "val_top1" in numbers:
        rows.append(
            {
                "result": f"{config.model} top-1 on {numbers['val_n']} validation images",
                "measured": f"{numbers['val_top1']:.3f}",
                "reference": FULL_VALIDATION.get(config.model, ("-",))[0],
            }
        )
    return rows


def run(config: Config, workdir: Path, data: Path | None, kernels: Kernels = Kernels()) -> dict:
    numbers, section = architecture_section(workdir)
    has_imagenet = (
        data is not None
        and (config.weights or (data / WEIGHTS).exists())
        and (data / IMAGES).exists()
    )
    if has_imagenet:
        more, sections = imagenet_sections(config, workdir, data, kernels)
    else:
        more, sections = digits_sections(config, workdir, kernels)
    sections = [section] + sections
    return {
        **numbers,
        **more,
        "imagenet_weights": bool(has_imagenet),
        "figures": [f for s in sections for f in s.figures],
        "headline": headline({**numbers, **more}, config),
        "sections": [s.to_json() for s in sections],
    }
