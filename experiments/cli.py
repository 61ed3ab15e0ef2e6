"""The ``jaxdl`` command: thin argument parsing onto the experiment modules."""
import argparse
import importlib
import sys

from jaxdl import __version__
from jaxdl.models import MODELS

# Each module exposes register(subparsers) adding its commands (func=handler(args)).
COMMAND_MODULES = ("experiments.predict", "experiments.runner", "experiments.reproduce", "experiments.visualize")


def add_model_args(parser, default_model="squeezenet1_1", weights_required=True):
    """--model and --weights, shared by every command that runs an ImageNet network."""
    parser.add_argument("--model", default=default_model, choices=[m for m in MODELS if m != "mnist_cnn"],
                        help="architecture (default: %(default)s)")
    parser.add_argument("--weights", required=weights_required,
                        help="converted .npz (python -m weights_convert) or a source checkpoint: "
                        "torchvision .pth/.safetensors/.npz, ONNX-zoo .npy folder or .onnx")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="jaxdl",
        description="JAX/Flax experiments for four deep-learning practicals: transfer learning, "
        "visualising networks, domain adaptation, GANs. Every command ends by printing one JSON line.",
    )
    parser.add_argument("--version", action="version", version=f"jaxdl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"jaxdl: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
