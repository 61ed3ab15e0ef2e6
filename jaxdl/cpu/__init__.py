"""jaxdl's XLA:CPU backend: process settings and kernels, each an explicit choice.

Nothing here runs on import. ``configure()`` applies the XLA:CPU flags and malloc settings
(call it first thing, before JAX computes anything); ``LAYERS`` is the kernel layer set for a
model's ``layers`` field (``get_model(name, layers=jaxdl.cpu.LAYERS)``), with the parameters of
``jaxdl.layers.FLAX`` and the same numbers to float32 rounding, reverse-mode differentiable
only; ``normal`` is ``jax.random.normal`` written out (SmoothGrad's noise); ``class_scores_for``
gives SqueezeNet's single-class scores (``interpret.ModuleLogits(..., class_scores=...)``).
The ``jaxdl`` CLI picks all of these when JAX's default backend is the CPU.
"""

from jaxdl.cpu.class_scores import class_scores_for, squeezenet_class_scores
from jaxdl.cpu.config import configure
from jaxdl.cpu.layers import Conv, ConvTranspose, Dense, max_pool
from jaxdl.cpu.noise import normal
from jaxdl.layers import Layers

LAYERS = Layers(conv=Conv, dense=Dense, conv_transpose=ConvTranspose, max_pool=max_pool)

__all__ = ["LAYERS", "configure", "normal", "class_scores_for", "squeezenet_class_scores"]
