"""``python -m weights_convert ARCH SOURCE OUT``: convert a checkpoint into jaxdl's format."""

import argparse
import json
import sys

from jaxdl.models import MODELS
from weights_convert.convert import convert_file


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m weights_convert",
        description="Convert an ImageNet checkpoint into jaxdl Flax params: OUT (.npz, no pickle) "
        "plus OUT's .json sidecar (architecture, source sha256, preprocessing).",
        epilog="Sources: torchvision .pth (read without torch) / .safetensors / .npz with "
        "torchvision "
        "keys; "
        "the ONNX-zoo SqueezeNet 1.1 as a folder of .npy files or an .onnx file (needs onnx); "
        "the Deep-Compression Caffe SqueezeNet 1.0 decoded .npz (arch squeezenet1_0_caffe).",
    )
    parser.add_argument(
        "arch", choices=[m for m in MODELS if m != "mnist_cnn"], help="architecture"
    )
    parser.add_argument("source", help="checkpoint file or .npy folder")
    parser.add_argument(
        "out",
        help="output .npz path (.npz appended when it has no suffix; a "
        ".json copy of the metadata is written beside it)",
    )
    args = parser.parse_args(argv)
    try:
        _, meta = convert_file(args.arch, args.source, args.out)
    except (ValueError, FileNotFoundError) as e:
        print(f"weights_convert: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
