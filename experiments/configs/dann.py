"""Config of chapter 3: DANN domain adaptation MNIST -> MNIST-M, in two settings (the paper's
and a strong baseline), every method over the same seeds."""

import dataclasses
from typing import ClassVar

from jaxdl.dann import INPUT_NORMS, METHODS
from jaxdl.errors import InputError
from jaxdl.options import check_fields, option
from jaxdl.train import seeds as seeds_axis


@dataclasses.dataclass(frozen=True)
class Setting:
    """One training setting: the methods trained in it, their length, optimiser and inputs."""

    methods: tuple[str, ...] = option(
        ("source_only", "dann"), f"methods trained ({', '.join(METHODS)})", choices=METHODS
    )
    steps: int = option(
        6000, "training steps per method and seed (batch-size + batch-size images)", min=1
    )
    optimizer: str = option(
        "sgd", "sgd (momentum 0.9, the paper's) or adam", choices=("sgd", "adam")
    )
    learning_rate: float = option(0.01, "mu0 of the annealing mu0 / (1 + 10 p)^0.75", min=0)
    input_norm: str = option(
        "scale",
        "mean ((x - training pixel mean) / 255), scale (to [-1, 1]) or standardize (per image "
        "and channel)",
        choices=INPUT_NORMS,
    )
    augment: str = option(
        "none",
        "invert (each source channel with probability 0.5) or none",
        choices=("invert", "none"),
    )
    widths: tuple[int, ...] = option(
        (32, 48), "channels of the two 5x5 convolutions (the paper's: 32,48)", min=1
    )

    def __post_init__(self):
        check_fields(self)
        if len(self.widths) != 2:
            raise InputError(f"widths: expected two channel counts, got {self.widths}")


@dataclasses.dataclass(frozen=True)
class DannConfig:
    # what a resumed run may change (the rest would mix two settings in one run)
    RESUMABLE: ClassVar[tuple[str, ...]] = ("resume", "checkpoint_every", "distributed")
    # the headline: the paper's optimiser, inputs scaled to [-1, 1], no augmentation; mu0 twice
    # the paper's 0.01 (the README's chapter-3 rows say why)
    paper: Setting = Setting(
        methods=("source_only", "dann", "no_reversal", "pseudo"), learning_rate=0.02
    )
    # per-image standardised inputs and channel-inverted sources remove most of the domain shift
    # before any adaptation; the self-training method is trained here
    strong: Setting = Setting(
        methods=("source_only", "dann", "self_train", "target_only"),
        steps=3000,
        optimizer="adam",
        learning_rate=1e-3,
        input_norm="standardize",
        augment="invert",
    )
    seeds: tuple[int, ...] = seeds_axis.seeds_option("every run is made")
    seed_mode: str = seeds_axis.seed_mode_option()
    batch_size: int = option(64, "images per domain per step", min=1)
    gamma: float = option(
        10.0, "reversal-factor ramp lam_p = scale * (2 / (1 + exp(-gamma p)) - 1)", min=0
    )
    reversal_scale: float = option(1.0, "the ramp's final reversal factor")
    threshold: float = option(
        0.9,
        "pseudo-labelling, self-training: confidence needed to use a target label",
        min=0,
        max=1,
    )
    ema: float = option(0.99, "self-training: the teacher's weight-averaging decay", min=0, max=1)
    shift: int = option(
        2, "self-training: random shift (pixels) of the student's target images", min=0
    )
    entropy: float = option(
        1.0, "self-training: weight of the student's target prediction entropy", min=0
    )
    # with scale 1 (the main DANN runs) three points; a fourth would take the default run past
    # 90 minutes on a 2-core CPU
    sweep: tuple[float, ...] = option(
        (0.3, 3.0),
        "extra reversal scales trained for DANN in the paper setting, full length (question 3)",
    )
    eval_every: int = option(500, "steps between evaluations for the curves", min=1)
    eval_size: int = option(
        2000, "test images per domain for the curves (final numbers use test-size)", min=1
    )
    test_size: int = option(0, "test images per domain for the final numbers (0: all)", min=0)
    embed_size: int = option(500, "test images per domain in the 2-D embedding", min=2)
    embedding: str = option("pca", "pca or tsne", choices=("pca", "tsne"))
    checkpoint_every: int = option(500, "steps between checkpoints", min=1)
    resume: bool = option(
        False, "continue each method from its latest checkpoint in the run folder"
    )
    distributed: bool = option(
        False, "call jax.distributed.initialize() first (multi-host, env-configured)"
    )
    build_target: bool = option(
        False, "build MNIST-M from MNIST + bsds500 photos instead of loading it"
    )

    def __post_init__(self):
        check_fields(self)
        seeds_axis.check(self.seeds)
