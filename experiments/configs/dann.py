"""Config of chapter 3: DANN domain adaptation MNIST -> MNIST-M."""

import dataclasses

from jaxdl.options import check_fields, option


@dataclasses.dataclass(frozen=True)
class DannConfig:
    methods: tuple[str, ...] = option(
        ("source_only", "dann", "pseudo", "no_reversal"),
        "methods trained (source_only, dann, pseudo, no_reversal)",
        choices=("source_only", "dann", "pseudo", "no_reversal"),
    )
    steps: int = option(
        10000, "training steps per method (batch-size source + batch-size target images)", min=1
    )
    batch_size: int = option(64, "images per domain per step", min=1)
    optimizer: str = option(
        "adam",
        "adam, or sgd (the paper's SGD momentum 0.9; use learning rate 0.01)",
        choices=("adam", "sgd"),
    )
    learning_rate: float = option(1e-3, "mu0 of the annealing mu0 / (1 + 10 p)^0.75", min=0)
    input_norm: str = option(
        "standardize",
        "standardize (per image and channel) or scale (to [-1, 1])",
        choices=("standardize", "scale"),
    )
    augment: str = option(
        "invert",
        "invert (each source channel with probability 0.5) or none",
        choices=("invert", "none"),
    )
    gamma: float = option(
        10.0, "reversal-factor ramp lam_p = scale * (2 / (1 + exp(-gamma p)) - 1)", min=0
    )
    reversal_scale: float = option(1.0, "the ramp's final reversal factor")
    threshold: float = option(
        0.9, "pseudo-labelling: confidence needed to use a target prediction", min=0, max=1
    )
    sweep: tuple[float, ...] = option(
        (0.1, 0.3, 3.0), "extra reversal scales trained for DANN (question 4)"
    )
    sweep_steps: int = option(1000, "training steps of each sweep run", min=1)
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
    seed: int = option(0, "random seed")

    def __post_init__(self):
        check_fields(self)
