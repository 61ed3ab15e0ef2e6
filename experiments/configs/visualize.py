"""Config of chapter 2: saliency, adversarial examples and class visualisation."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class VisualizeConfig:
    model: str = "squeezenet1_1"
    weights: str | None = None  # default: the ONNX-zoo SqueezeNet 1.1 in the data folder
    images: tuple[int, ...] = tuple(range(25))  # indices into imagenet_val_25.npz
    examples: int = 3  # saliency figure rows per case (consistent / inconsistent prediction)
    smoothgrad_samples: int = 50
    smoothgrad_noise: float = 0.15
    gradcam_layer: str = "fire9"
    fool_targets: tuple[str, ...] = ("stingray", "goldfinch", "wombat")
    fool_learning_rate: float = 1.0
    fool_max_iters: int = 100
    attack_eps: float = 2.0  # FGSM / PGD L-inf budget in 0..255 pixel units
    pgd_steps: int = 10
    onepixel_population: int = 50
    onepixel_generations: int = 6
    viz_classes: tuple[str, ...] = ("bee eater", "wombat", "snail")
    viz_presets: tuple[str, ...] = ("none", "default", "strong")
    viz_steps: int = 200  # the strong preset needs more than 100 to pass 0.9 (wombat: 0.60 at 100, 0.999 at 200)
    viz_learning_rates: tuple[float, ...] = (1.0, 5.0, 25.0)
    hay_index: int = 0  # the image class visualisation also starts from
    seed: int = 0
