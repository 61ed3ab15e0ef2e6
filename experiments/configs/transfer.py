"""Config of chapter 1's transfer learning on 15-Scene (practical section 1.2 and question 11)."""

import dataclasses

from jaxdl.options import check_fields, option


@dataclasses.dataclass(frozen=True)
class TransferConfig:
    model: str = option(
        "squeezenet1_1", "squeezenet1_1 or vgg16 (any ImageNet model of jaxdl.models)"
    )
    weights: str | None = option(
        None, "weights (default: weights/squeezenet1_1_onnx_zoo in the data folder)"
    )
    layers: tuple[str, ...] = option(
        (), "Table 1.1 rows (empty: SqueezeNet fire5..classifier, VGG16 relu6..8)"
    )
    channels: str = option(
        "grey_folded",
        "grey_folded (conv1 summed over colour) or rgb (grey replicated)",
        choices=("grey_folded", "rgb"),
    )
    batch_size: int = option(32, "images per feature-extraction batch", min=1)
    svm_c: tuple[float, ...] = option(
        (0.001, 0.01, 0.1, 1.0, 10.0, 100.0), "SVM C values cross-validated", min=0
    )
    cv_folds: int = option(5, "cross-validation folds", min=2)
    fusion: tuple[str, ...] = option(
        (),
        "layers concatenated (empty: chosen by CV among fire8+fire9 .. "
        "fire4..fire9; VGG16: relu6+relu7)",
    )
    views: str = option(
        "flip",
        "views averaged for the fused features: flip, tencrop or center (off)",
        choices=("flip", "tencrop", "center"),
    )
    scales: tuple[int, ...] = option(
        (320, 384),
        "sides of whole-image views (resized, not cropped) whose fused features join the "
        "standard view's; the set is chosen by CV among each side and all together (empty: off)",
        min=32,
    )
    rbf: bool = option(True, "an RBF SVM on the best features")
    head_steps: int = option(
        300, "steps of the optax linear head on the best single layer (0: skip)", min=0
    )
    finetune_epochs: int = option(
        6, "fine-tune the last block(s) with crop/flip augmentation (0: skip)", min=0
    )
    finetune_lr: float = option(1e-3, "fine-tuning learning rate", min=0)
    train_per_class: int = option(
        100, "training images per class (the standard split; fewer: a seeded subset)", min=1
    )
    test_per_class: int = option(
        0, "test images per class (0: the whole test split, 2985 images)", min=0
    )
    cache_dir: str | None = option(
        None, "feature cache (default: $JAXDL_CACHE or ~/.cache/jaxdl/features)"
    )
    seed: int = option(0, "random seed")

    def __post_init__(self):
        check_fields(self)
