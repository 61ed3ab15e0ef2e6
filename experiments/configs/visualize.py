"""Config of chapter 2: saliency, adversarial examples and class visualisation. The methods'
settings are the library's configs, nested (``--set pgd.steps=20``)."""

import dataclasses

from jaxdl.interpret import ClassVizConfig, FoolConfig, OnePixelConfig, PGDConfig, SmoothGradConfig
from jaxdl.interpret.adversarial import warn_if_beyond_pixel_range
from jaxdl.options import check_fields, option


@dataclasses.dataclass(frozen=True)
class VisualizeConfig:
    model: str = option("squeezenet1_1", "ImageNet architecture (jaxdl.models)")
    weights: str | None = option(
        None, "weights (default: the data folder's ONNX-zoo SqueezeNet 1.1)"
    )
    image_indices: tuple[int, ...] = option(
        tuple(range(25)), "indices into imagenet_val_25.npz", min=0
    )
    examples: int = option(
        3, "saliency figure rows per case (consistent / inconsistent prediction)", min=0
    )
    smoothgrad: SmoothGradConfig = SmoothGradConfig()
    gradcam_layer: str = option("fire9", "layer Grad-CAM explains")
    fool_targets: tuple[str, ...] = option(
        ("stingray", "goldfinch", "wombat"), "classes of the fooling images"
    )
    fool: FoolConfig = FoolConfig()
    pgd: PGDConfig = PGDConfig()  # its step is scaled with each budget of the sweep
    attack_eps: tuple[float, ...] = option(
        (0.5, 1.0, 2.0, 4.0, 8.0), "L-inf budgets (/255) of the FGSM / PGD sweep", min=0
    )
    val_images: int = option(
        500, "images of imagenet/val_subset the attacks also run on (0: none)", min=0
    )
    onepixel_val_images: int = option(
        100, "correctly classified val_subset images the one-pixel attack runs on", min=1
    )
    # Su et al.'s 400 x 100 (the library default) takes hours on 25 images on a CPU
    onepixel: OnePixelConfig = OnePixelConfig(population=50, generations=6)
    viz_classes: tuple[str, ...] = option(("bee eater", "wombat", "snail"), "classes visualised")
    viz_presets: tuple[str, ...] = option(
        ("none", "default", "strong"),
        "regularisation presets compared",
        choices=("none", "default", "strong"),
    )
    # the "default" preset's settings (the others replace its regularisation); the strong preset
    # needs more than 100 steps to pass 0.9 (wombat)
    classviz: ClassVizConfig = ClassVizConfig(steps=200, frame_every=20)
    viz_learning_rates: tuple[float, ...] = option(
        (1.0, 5.0, 25.0), "learning rates of the class-viz sweep", min=0
    )
    hay_index: int = option(0, "the image class visualisation also starts from", min=0)
    seed: int = option(0, "random seed")

    def __post_init__(self):
        check_fields(self)
        for eps in self.attack_eps:
            warn_if_beyond_pixel_range(eps, "attack_eps")
