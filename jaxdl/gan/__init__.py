"""Chapter 4's method in one place: the DCGAN / conditional DCGAN networks (``networks``), the
losses and the D-then-G training step (``train``), the classifier-based quality scores
(``quality``: Inception Score, Frechet distance, label accuracy), and k-means clusters that
condition a GAN without labels (``clusters``)."""

from jaxdl.gan.networks import Discriminator, Generator
from jaxdl.gan.train import (
    BETA1,
    GAN,
    LEARNING_RATE,
    adam,
    discriminator_loss,
    from_uint8,
    generator_loss,
    make_sampler,
    to_unit,
)

__all__ = [
    "Generator",
    "Discriminator",
    "GAN",
    "LEARNING_RATE",
    "BETA1",
    "adam",
    "make_sampler",
    "discriminator_loss",
    "generator_loss",
    "to_unit",
    "from_uint8",
]
