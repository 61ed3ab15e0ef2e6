"""jaxdl: JAX/Flax models and methods for four classic deep-learning practicals."""

__version__ = "0.1.0"
