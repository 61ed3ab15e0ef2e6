"""Config of chapter 3: DANN domain adaptation MNIST -> MNIST-M, in two settings (the paper's
and a strong baseline, the library's presets), every method over the same seeds."""

import dataclasses
from typing import ClassVar

from jaxdl import dann
from jaxdl.dann import Hyper, Setting
from jaxdl.options import check_fields, option, same_option
from jaxdl.train import seeds as seeds_axis


@dataclasses.dataclass(frozen=True)
class DannConfig:
    # what a resumed run may change (the rest would mix two settings in one run)
    RESUMABLE: ClassVar[tuple[str, ...]] = ("resume", "checkpoint_every", "distributed")
    paper: Setting = dann.PAPER  # the headline
    strong: Setting = dann.STRONG  # the strong baseline and self-training
    seeds: tuple[int, ...] = seeds_axis.seeds_option("every run is made")
    seed_mode: str = seeds_axis.seed_mode_option()
    batch_size: int = option(dann.BATCH_SIZE, "images per domain per step", min=1)
    gamma: float = same_option(Hyper, "gamma")
    reversal_scale: float = same_option(Hyper, "reversal_scale")
    threshold: float = same_option(Hyper, "threshold")
    ema: float = same_option(Hyper, "ema")
    shift: int = same_option(Hyper, "shift")
    entropy: float = same_option(Hyper, "entropy")
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

    def hyper(self, reversal_scale: float | None = None) -> Hyper:
        """The methods' settings of this config (the reversal scale replaced for a sweep run)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(Hyper)}
        if reversal_scale is not None:
            values["reversal_scale"] = reversal_scale
        return Hyper(**values)
