"""jaxdl: JAX/Flax models and methods for four classic deep-learning practicals."""
from jaxdl import xla_cpu

__version__ = "0.1.0"

xla_cpu.apply()
