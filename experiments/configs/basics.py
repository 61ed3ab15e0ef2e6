"""Config of the chapter-1 basics: architectures, predictions, activation maps, ImageNet accuracy."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class BasicsConfig:
    model: str = "squeezenet1_1"
    weights: str | None = None  # default: the ONNX-zoo SqueezeNet 1.1 in the data folder
    images: tuple[int, ...] = (0, 5, 11, 17)  # indices into imagenet_val_25.npz
    layer: str = "conv1"
    eval_images: int = 500  # images of imagenet/val_subset to score; 0 skips
    seed: int = 0
