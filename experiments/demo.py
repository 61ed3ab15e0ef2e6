"""``jaxdl demo``: a quick tour on the real data when present, on embedded data otherwise."""
import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import viz
from jaxdl.data.digits import load_digits_images
from jaxdl.models import get_model
from jaxdl.paths import data_file
from jaxdl.train.classifier import fit_classifier, predict_classes
from experiments.common import print_result, write_json


def demo_imagenet(out: Path, weights: Path, images: Path) -> dict:
    """Predictions and conv1 activation maps with the real ImageNet SqueezeNet 1.1."""
    from experiments import predict

    with np.load(images, allow_pickle=False) as data:
        picks = data["X"][[0, 5, 11]]
    sample = out / "demo_images.npz"
    np.savez(sample, X=picks)
    predict.predict(argparse.Namespace(model="squeezenet1_1", weights=str(weights), images=[str(sample)],
                                       out=str(out / "predict")))
    predict.activations(argparse.Namespace(model="squeezenet1_1", weights=str(weights), images=[str(sample)],
                                           layer="conv1", out=str(out / "activations")))
    return {"data": "ImageNet SqueezeNet 1.1 (ONNX zoo) on imagenet_val_25.npz"}


def demo_digits(out: Path, seed: int = 0) -> dict:
    """No ImageNet weights offline: train the small CNN on sklearn's digits, then the same
    prediction and activation-map figures on it."""
    x, y = load_digits_images(28)
    x = x[..., None].astype(np.float32) / 255.0
    split = 1400
    module = get_model("mnist_cnn")
    params = fit_classifier(module, x[:split], y[:split], epochs=8, batch_size=64, seed=seed)
    accuracy = float((predict_classes(module, params, x[split:]) == y[split:]).mean())
    probs = jax.nn.softmax(module.apply({"params": params}, jnp.asarray(x[split: split + 3]))[0])
    for i in range(3):
        top = np.argsort(-np.asarray(probs[i]))[:5]
        fig = viz.prediction_figure(x[split + i, ..., 0], x[split + i, ..., 0], [str(c) for c in top],
                                    np.asarray(probs[i])[top], title=f"digit, true {y[split + i]}")
        viz.save_figure(fig, out / "predict" / f"predict_digit_{i}.png")
    maps, _ = module.apply({"params": params}, jnp.asarray(x[split: split + 1]), stop_at="conv1")
    viz.save_figure(viz.activation_grid_figure(maps[0], title="digits CNN conv1"),
                    out / "activations" / "activations_conv1_digit.png")
    return {"data": "scikit-learn digits (embedded; no ImageNet weights found)", "digits_test_accuracy": accuracy}


def demo(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    weights = data_file("weights/squeezenet1_1_onnx_zoo", args.data)
    images = data_file("imagenet/imagenet_val_25.npz", args.data)
    if weights and images:
        summary = demo_imagenet(out, weights, images)
    else:
        print("demo: ../shared/data (or $JAXDL_DATA) not found: running on embedded scikit-learn digits")
        summary = demo_digits(out)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    write_json(out / "demo.json", summary)
    print_result({"command": "demo", "out": str(out), **summary})


def register(subparsers):
    p = subparsers.add_parser("demo", help="a quick tour of every chapter on the data at hand",
                              description="Runs quick versions of the experiments: on ../shared/data "
                              "(or $JAXDL_DATA, or --data) when present, otherwise on embedded data.")
    p.add_argument("--data", help="data folder (default: $JAXDL_DATA or ../shared/data)")
    p.add_argument("--out", default="runs/demo", help="output folder (default: %(default)s)")
    p.set_defaults(func=demo)
