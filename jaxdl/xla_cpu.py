"""XLA:CPU settings jaxdl applies on import (before jax starts its CPU backend).

From jaxlib 0.10, XLA:CPU hands convolutions, dots and elementwise/reduce fusions to YNNPACK.
For the networks of this project its own emitters are faster: SqueezeNet forward 1.3-1.6x,
VGG16 forward 1.7x, the DANN network's weight gradient 2.9x (``benchmarks/README.md``). The numbers are
the same within float32 rounding (the parity tests run with these settings).

Opt out with ``JAXDL_XLA_DEFAULTS=0``; an ``XLA_FLAGS`` that already sets the option wins.
Importing jaxdl after jax has run a computation leaves the running backend as it is.
"""
import importlib.metadata
import os

YNN_OPTION = "xla_cpu_experimental_ynn_fusion_type"
CPU_FLAGS = f"--{YNN_OPTION}=-individual_convolution,-individual_dot,-eltwise,-reduce,-dot"
MIN_JAXLIB = (0, 10)  # the first version with YNNPACK fusions (and this option)


def _version(text: str) -> tuple:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def default_xla_flags(environ=os.environ) -> str:
    """The XLA_FLAGS jaxdl runs with: the user's, plus ``CPU_FLAGS`` unless opted out, already
    set, or the installed jaxlib predates the option."""
    flags = environ.get("XLA_FLAGS", "")
    if environ.get("JAXDL_XLA_DEFAULTS", "1") == "0" or YNN_OPTION in flags:
        return flags
    try:
        jaxlib_version = _version(importlib.metadata.version("jaxlib"))
    except importlib.metadata.PackageNotFoundError:
        return flags
    if jaxlib_version < MIN_JAXLIB:
        return flags
    return f"{flags} {CPU_FLAGS}".strip()


def apply(environ=os.environ) -> None:
    """Set ``XLA_FLAGS`` to ``default_xla_flags()``."""
    flags = default_xla_flags(environ)
    if flags:
        environ["XLA_FLAGS"] = flags
