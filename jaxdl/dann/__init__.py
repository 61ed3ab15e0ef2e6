"""Chapter 3's method, DANN (Ganin et al. 2016), in one place: the gradient reversal layer and
its schedules (``grl``), the MNIST network with its input normalisations and augmentation
(``network``), and the training steps of every method with their evaluation (``train``)."""

from jaxdl.dann.grl import annealed_learning_rate, grad_reverse, reversal_schedule
from jaxdl.dann.network import (
    AUGMENTATIONS,
    DANN,
    DANN_LAYERS,
    INPUT_NORMS,
    input_norm,
    pixel_mean_of,
)
from jaxdl.dann.train import (
    METHODS,
    eval_params,
    evaluate,
    init_state,
    make_apply,
    make_optimizer,
    make_step,
)

__all__ = [
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
    "make_optimizer",
    "make_step",
    "make_apply",
    "init_state",
    "evaluate",
    "eval_params",
]
