"""Config of chapter 1's transfer learning on 15-Scene (practical section 1.2 and question 11)."""

import dataclasses

from jaxdl.options import check_fields, option, same_option
from jaxdl.transfer.scene import SceneMethod


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
    channels: str = same_option(SceneMethod, "channels")
    batch_size: int = option(32, "images per feature-extraction batch", min=1)
    svm_c: tuple[float, ...] = same_option(SceneMethod, "svm_c")
    cv_folds: int = same_option(SceneMethod, "cv_folds")
    fusion: tuple[str, ...] = option(
        (),
        "layers concatenated (empty: chosen by CV among fire8+fire9 .. "
        "fire4..fire9; VGG16: relu6+relu7)",
    )
    views: str = same_option(SceneMethod, "views")
    scales: tuple[int, ...] = same_option(SceneMethod, "scales")
    rbf: bool = same_option(SceneMethod, "rbf")
    head_steps: int = option(
        300, "steps of a softmax-regression head on the best single layer (0: skip)", min=0
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
    seed: int = same_option(SceneMethod, "seed")

    def __post_init__(self):
        check_fields(self)

    def method(self) -> SceneMethod:
        """The library's method with this config's choices."""
        return SceneMethod(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(SceneMethod)}
        )
