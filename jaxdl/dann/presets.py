"""The study's DANN settings as named presets, so a library user gets the chapter's numbers.

A ``Setting`` is what one training run of a method needs besides the method: its length,
optimiser, input normalisation, augmentation and network widths. ``Hyper`` holds the methods'
own knobs (the reversal ramp, the pseudo-label threshold, self-training's teacher). ``PAPER``
is the headline (Ganin et al.'s SGD, inputs scaled to [-1, 1], no augmentation, mu0 0.02);
``STRONG`` standardises each image and inverts source channels, which removes most of the shift
before any adaptation. The chapter's config uses these objects, so one value lives here.

>>> from jaxdl import dann
>>> dann.PAPER.steps, dann.PAPER.optimizer, dann.PAPER.learning_rate, dann.BATCH_SIZE
(6000, 'sgd', 0.02, 64)
>>> parts = dann.build(dann.PAPER, "dann")  # model, optimizer and the un-jitted step
>>> state = dann.init_state(parts.model, parts.optimizer, seed=0, method="dann")
>>> int(state.step)
0
"""

import dataclasses

from jaxdl.dann.network import INPUT_NORMS
from jaxdl.errors import InputError
from jaxdl.options import check_fields, option

# every method has its own loss in ``jaxdl.dann.train.LOSSES``
METHODS = ("source_only", "dann", "no_reversal", "pseudo", "self_train", "target_only")
BATCH_SIZE = 64  # images per domain per step in both settings


@dataclasses.dataclass(frozen=True, kw_only=True)
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Hyper:
    """The methods' own settings (each used by the methods the help names)."""

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

    def __post_init__(self):
        check_fields(self)


# the headline: the paper's optimiser, inputs scaled to [-1, 1], no augmentation; mu0 twice the
# paper's 0.01 (docs/dann.md says why)
PAPER = Setting(methods=("source_only", "dann", "no_reversal", "pseudo"), learning_rate=0.02)
# per-image standardised inputs and channel-inverted sources remove most of the domain shift
# before any adaptation; the self-training method is trained here
STRONG = Setting(
    methods=("source_only", "dann", "self_train", "target_only"),
    steps=3000,
    optimizer="adam",
    learning_rate=1e-3,
    input_norm="standardize",
    augment="invert",
)
PRESETS = {"paper": PAPER, "strong": STRONG}
