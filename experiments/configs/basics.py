"""Config of the chapter-1 basics: architectures, predictions, activation maps, ImageNet
accuracy."""

import dataclasses

from jaxdl.options import check_fields, option


@dataclasses.dataclass(frozen=True)
class BasicsConfig:
    model: str = option("squeezenet1_1", "ImageNet architecture (jaxdl.models)")
    weights: str | None = option(
        None,
        "weights file or source checkpoint (default: the data folder's ONNX-zoo SqueezeNet 1.1)",
    )
    image_indices: tuple[int, ...] = option(
        (0, 5, 11, 17), "indices into imagenet_val_25.npz for the top-5 figures", min=0
    )
    layer: str = option("conv1", "layer whose activation maps are drawn")
    eval_images: int = option(
        500, "images of imagenet/val_subset scored for accuracy (0: skip)", min=0
    )
    seed: int = option(0, "random seed")

    def __post_init__(self):
        check_fields(self)
