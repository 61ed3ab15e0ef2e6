"""Chapter 3's method, DANN (Ganin et al. 2016), in one place: the gradient reversal layer and
its schedules (``grl``), the MNIST network with its input normalisations and augmentation
(``network``), the study's settings as presets (``presets``), the training steps of every
method with their evaluation (``train``), the domain data (``domains``) and the probe of how
well features separate the domains (``probe``)."""

from jaxdl.dann.domains import Domain, Domains, load_domains, seed_batches
from jaxdl.dann.grl import annealed_learning_rate, grad_reverse, reversal_schedule
from jaxdl.dann.network import (
    AUGMENTATIONS,
    DANN,
    DANN_LAYERS,
    INPUT_NORMS,
    input_norm,
    pixel_mean_of,
)
from jaxdl.dann.presets import BATCH_SIZE, METHODS, PAPER, PRESETS, STRONG, Hyper, Setting
from jaxdl.dann.train import (
    LOSSES,
    Parts,
    build,
    eval_params,
    evaluate,
    init_state,
    make_apply,
    make_optimizer,
    make_step,
)

__all__ = [
    "Domain",
    "Domains",
    "load_domains",
    "seed_batches",
    "grad_reverse",
    "reversal_schedule",
    "annealed_learning_rate",
    "DANN",
    "DANN_LAYERS",
    "INPUT_NORMS",
    "input_norm",
    "pixel_mean_of",
    "AUGMENTATIONS",
    "METHODS",
    "LOSSES",
    "Setting",
    "Hyper",
    "PAPER",
    "STRONG",
    "PRESETS",
    "BATCH_SIZE",
    "Parts",
    "build",
    "make_optimizer",
    "make_step",
    "make_apply",
    "init_state",
    "evaluate",
    "eval_params",
]
