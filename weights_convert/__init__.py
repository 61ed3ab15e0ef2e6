"""Convert ImageNet checkpoints (torchvision, ONNX model zoo, Caffe) into jaxdl's Flax params."""

from weights_convert.convert import convert, convert_file, load_any

__all__ = ["convert", "convert_file", "load_any"]
