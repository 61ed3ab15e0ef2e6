"""Chapter 1 basics: ``jaxdl predict``, ``jaxdl activations``, ``jaxdl eval-imagenet``."""

import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from experiments.common import (
    add_model_args,
    load_weights,
    pick_kernels,
    preprocessing,
    print_result,
    progress_bar,
    read_inputs,
    write_json,
)
from jaxdl import imagenet, viz
from jaxdl.data.images import load_images
from jaxdl.data.pipeline import batch_indices, prefetch
from jaxdl.errors import InputError
from jaxdl.imagenet import top_k
from jaxdl.layers import FLAX
from jaxdl.models import make_apply


def classify(model, params, meta, images, batch_size: int = 32, layers=FLAX, resample="auto"):
    """uint8 images (list of (H,W,C)) -> (network inputs (N,S,S,3), logits (N,1000));
    ``resample`` as in ``imagenet.preprocess``."""
    pre = preprocessing(meta)
    apply = make_apply(model, layers=layers)
    inputs = jnp.concatenate(
        [imagenet.preprocess(jnp.asarray(im), **pre, resample=resample) for im in images]
    )
    logits = jnp.concatenate(
        [apply(params, inputs[i : i + batch_size])[0] for i in range(0, len(inputs), batch_size)]
    )
    return inputs, logits


def predict(args):
    params, meta = load_weights(args.model, args.weights, args.data)
    images, labels, names = read_inputs(args.images)
    kernels = pick_kernels(args.kernels)
    inputs, logits = classify(
        args.model, params, meta, images, layers=kernels.layers, resample=args.resample
    )
    indices, probs = top_k(logits, 5)
    norm = preprocessing(meta)["norm"]
    out = Path(args.out)
    results = []
    for i, name in enumerate(names):
        top5 = [
            {"class": int(c), "name": imagenet.short_name(int(c)), "prob": float(p)}
            for c, p in zip(indices[i], probs[i])
        ]
        print(f"{name}: " + "; ".join(f"{t['name']} {t['prob']:.3f}" for t in top5))
        fig = viz.prediction_figure(
            images[i],
            np.asarray(imagenet.deprocess(inputs[i], norm)),
            [t["name"] for t in top5],
            [t["prob"] for t in top5],
            title=f"{name} ({args.model})",
        )
        figure = viz.save_figure(fig, out / f"predict_{name}.png")
        results.append({"image": name, "label": labels[i], "top5": top5, "figure": str(figure)})
    write_json(out / "predictions.json", results)
    print_result(
        {
            "command": "predict",
            "n": len(results),
            "out": str(out),
            "top1": [r["top5"][0]["class"] for r in results],
        }
    )


def activations(args):
    params, meta = load_weights(args.model, args.weights, args.data)
    images, _, names = read_inputs(args.images)
    pre = preprocessing(meta)
    apply = make_apply(args.model, layers=pick_kernels(args.kernels).layers)
    out = Path(args.out)
    figures = []
    for image, name in zip(images, names):
        x = imagenet.preprocess(jnp.asarray(image), **pre, resample=args.resample)
        maps, _ = apply(params, x, stop_at=args.layer)
        if maps.ndim != 4:
            raise InputError(
                f"layer {args.layer!r} is not a convolutional map (shape {maps.shape})"
            )
        fig = viz.activation_grid_figure(
            maps[0],
            title=f"{name}: {args.model} {args.layer}, "
            f"{maps.shape[-1]} maps of {maps.shape[1]}x{maps.shape[2]}",
        )
        figures.append(str(viz.save_figure(fig, out / f"activations_{args.layer}_{name}.png")))
    print_result({"command": "activations", "layer": args.layer, "figures": figures})


def read_labels(path):
    """``<file> <class>`` per line -> (file names, int labels)."""
    files, labels = [], []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise InputError(f"{path}:{number}: expected '<file> <class index>', got {line!r}")
        files.append(parts[0])
        labels.append(int(parts[1]))
    return files, np.asarray(labels)


def evaluate_folder(
    model, params, meta, image_dir, files, labels, batch_size=50, progress=True, layers=FLAX
):
    """Top-1/top-5 accuracy over a folder; decoding runs ahead of the network in a thread."""
    pre = preprocessing(meta)
    apply = make_apply(model, layers=layers)
    paths = [Path(image_dir) / f for f in files]

    def decoded():
        for idx in batch_indices(len(paths), batch_size):
            images, kept = load_images([paths[i] for i in idx], pre["size"], pre["resize"])
            yield images, labels[idx][kept]

    top1 = top5 = n = 0
    start = time.perf_counter()
    bar = (
        progress_bar(total=len(paths), unit="img", desc="ImageNet accuracy")
        if progress
        else tqdm(disable=True)
    )
    for images, y in prefetch(decoded(), size=3):
        x = imagenet.normalize(jnp.asarray(images, jnp.float32) / 255.0, pre["norm"])
        best, _ = top_k(apply(params, x)[0], 5)
        top1 += int((best[:, 0] == y).sum())
        top5 += int((best == y[:, None]).any(axis=1).sum())
        n += len(y)
        bar.update(len(y))
    bar.close()
    seconds = time.perf_counter() - start
    return {
        "top1": top1 / max(n, 1),
        "top5": top5 / max(n, 1),
        "n": n,
        "skipped": len(paths) - n,
        "images_per_s": n / seconds,
    }


def eval_imagenet(args):
    params, meta = load_weights(args.model, args.weights, args.data)
    files, labels = read_labels(args.labels)
    result = evaluate_folder(
        args.model,
        params,
        meta,
        args.image_dir,
        files,
        labels,
        args.batch_size,
        layers=pick_kernels(args.kernels).layers,
    )
    if not args.json:
        print(
            f"{args.model}: top-1 {result['top1']:.4f}  top-5 {result['top5']:.4f}  on "
            f"{result['n']} images"
        )
    print_result(result)


def register(subparsers):
    """Add this chapter's commands to the ``jaxdl`` parser."""
    p = subparsers.add_parser(
        "predict",
        help="top-5 ImageNet classes of images, with the Fig. 1.1 figure",
        description="Print the top-5 classes of each image and save a figure "
        "(original, preprocessed input, top-5 bars) per image into --out.",
    )
    p.add_argument("images", nargs="+", help="image files, or .npz files holding X (N,H,W,3) uint8")
    add_model_args(p)
    p.add_argument("--out", default="runs/predict", help="output folder (default: %(default)s)")
    p.set_defaults(func=predict)

    p = subparsers.add_parser(
        "activations",
        help="8x8 grid of the first 64 activation maps of a layer",
        description="Save the grid of the first 64 activation maps (Fig. 1.2).",
    )
    p.add_argument("images", nargs="+", help="image files or .npz files with X")
    add_model_args(p)
    p.add_argument("--layer", default="conv1", help="named layer (default: %(default)s)")
    p.add_argument("--out", default="runs/activations", help="output folder (default: %(default)s)")
    p.set_defaults(func=activations)

    p = subparsers.add_parser(
        "eval-imagenet",
        help="top-1/top-5 accuracy on a labelled image folder",
        description="Accuracy on a folder of ImageNet images; the last line is "
        '{"top1": ..., "top5": ..., "n": ...}.',
    )
    add_model_args(p)
    p.add_argument("--image-dir", required=True, help="folder of images (required)")
    p.add_argument(
        "--labels", required=True, help="file with '<file> <class 0..999>' per line (required)"
    )
    p.add_argument(
        "--batch-size", type=int, default=50, help="images per network call (default: %(default)s)"
    )
    p.add_argument("--json", action="store_true", help="print only the JSON line (default: off)")
    p.set_defaults(func=eval_imagenet)
