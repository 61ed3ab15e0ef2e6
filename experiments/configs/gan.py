"""Config of chapter 4: DCGAN / conditional DCGAN on MNIST."""

import dataclasses
from typing import ClassVar

from jaxdl import gan
from jaxdl.errors import InputError
from jaxdl.options import check_fields, option
from jaxdl.train import seeds as seeds_axis


@dataclasses.dataclass(frozen=True)
class GANConfig:
    # what a resumed run may change (the rest would mix two settings in one run)
    RESUMABLE: ClassVar[tuple[str, ...]] = ("resume", "steps", "time_budget_s", "checkpoint_every")
    conditional: bool = option(False, "train cG(z, y) and cD(x, y)")
    d_sees_labels: bool = option(True, "conditional only; off: cD(x), question 7")
    clusters: int = option(
        0,
        "no labels: condition G and D on this many k-means clusters of the training images, "
        "drawn at their training shares when sampling; with --conditional: this many clusters "
        "within each class, a class's samples drawing them at their shares in it (0: off)",
        min=0,
    )
    image_size: int = option(
        28, "28 (MNIST as is) or 32 (padded, the practical's 4-layer nets)", choices=(28, 32)
    )
    z_dim: int = option(100, "noise dimension", min=1)
    g_width: int = option(
        32, "generator channels at the highest resolution (doubling below)", min=1
    )
    d_width: int = option(32, "discriminator channels at the highest resolution", min=1)
    lr_g: float = option(gan.LEARNING_RATE, "generator Adam learning rate", min=0)
    lr_d: float = option(gan.LEARNING_RATE, "discriminator Adam learning rate", min=0)
    beta1: float = option(gan.BETA1, "Adam beta1 of both", min=0, max=1)
    saturating: bool = option(
        False, "the minimax G loss (eq. 4.1) instead of the non-saturating eq. 4.2"
    )
    d_steps: int = option(1, "discriminator updates per generator update", min=1)
    pack: int = option(
        1, "PacGAN: D judges this many images at once, stacked as channels (1: off)", min=1
    )
    label_smoothing: float = option(
        0.0, "one-sided: D's target for real images is 1 - this", min=0, max=0.5
    )
    ema: float = option(
        0.0,
        "decay of a moving average of G's weights that the samples come from (0: off)",
        min=0,
        max=0.99999,
    )
    batch_size: int = option(64, "images per step", min=1)
    steps: int = option(10000, "generator updates (the time budget may stop it first)", min=1)
    time_budget_s: float = option(
        900.0, "also stop after this much training time per seed (0: no limit)", min=0
    )
    sample_every: int = option(
        250, "a sample grid of the fixed noise batch every N steps (GIF frames)", min=1
    )
    checkpoint_every: int = option(500, "steps between checkpoints", min=1)
    resume: bool = option(False, "continue from the newest checkpoint in the run folder")
    eval_samples: int = option(10000, "generated images scored by the MNIST classifier", min=1)
    classifier_epochs: int = option(
        4, "epochs of the scoring classifier on MNIST (digits fallback: 20)", min=1
    )
    seeds: tuple[int, ...] = seeds_axis.seeds_option("the GAN is trained and scored")
    seed_mode: str = seeds_axis.seed_mode_option()

    def __post_init__(self):
        check_fields(self)
        seeds_axis.check(self.seeds)
        if self.clusters == 1:
            raise InputError("clusters: expected 0 (off) or at least 2, got 1")
        if self.batch_size % self.pack:
            raise InputError(f"batch_size {self.batch_size} is not a multiple of pack {self.pack}")
