"""jaxdl: JAX/Flax models and methods for four classic deep-learning practicals.

Importing jaxdl (or any submodule) changes nothing in the process: the XLA:CPU settings and
kernels are an explicit choice (``jaxdl.cpu``).
"""

__version__ = "0.1.0"
