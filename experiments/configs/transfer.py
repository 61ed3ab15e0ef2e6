"""Config of chapter 1's transfer learning on 15-Scene (practical section 1.2 and question 11)."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class TransferConfig:
    model: str = "squeezenet1_1"  # squeezenet1_1 | vgg16 (any ImageNet model of jaxdl.models)
    weights: str | None = None  # default: weights/squeezenet1_1_onnx_zoo in the data folder
    layers: tuple[str, ...] = ()  # Table 1.1 rows; () = the model's (SqueezeNet fire5..classifier, VGG16 relu6..8)
    channels: str = "grey_folded"  # grey_folded (conv1 summed over colour) | rgb (grey replicated)
    batch_size: int = 32
    svm_c: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
    cv_folds: int = 5
    # Improvements over the best single layer ("" entries of a tuple are dropped):
    fusion: tuple[str, ...] = ()  # layers concatenated; () = chosen by CV among fire8+fire9 .. fire4..fire9 (VGG16: relu6+relu7)
    views: str = "flip"  # multi-view averaging of the fused features: flip | tencrop | center (off)
    rbf: bool = True  # an RBF SVM on the best features
    head_steps: int = 300  # optax linear head on the best single layer; 0 skips
    finetune_epochs: int = 6  # fine-tune the last block(s) with crop/flip augmentation; 0 skips
    finetune_lr: float = 1e-3
    train_per_class: int = 100  # the standard split; fewer = a seeded subset
    test_per_class: int = 0  # 0 = the whole test split (2985 images)
    cache_dir: str | None = None  # feature cache; default $JAXDL_CACHE or ~/.cache/jaxdl/features
    seed: int = 0
