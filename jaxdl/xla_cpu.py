"""XLA:CPU settings jaxdl applies on import (before jax starts its CPU backend).

From jaxlib 0.10, XLA:CPU hands convolutions, dots and elementwise/reduce fusions to YNNPACK.
For the networks of this project its own emitters are faster: SqueezeNet forward 1.3-1.6x,
VGG16 forward 1.7x, the DANN network's weight gradient 2.9x (``benchmarks/README.md``). The numbers are
the same within float32 rounding (the parity tests run with these settings).

Second, glibc's malloc (``tune_malloc``): XLA:CPU allocates each call's temporary buffer (144 MB
for a SqueezeNet input gradient at batch 8) from its worker threads, whose malloc arenas cannot
hold it, so every call mmaps fresh pages and page-faults them in (35,000 faults per call) and
unmaps them at the end. One arena, no mmap and no trimming keep that memory mapped from one
call to the next: 3,300 faults, the call 20-25% faster. The cost: freed memory stays with
the process (its peak resident size) until it exits.

Opt out of both with ``JAXDL_XLA_DEFAULTS=0``, of the malloc settings alone with
``JAXDL_TUNE_MALLOC=0``; an ``XLA_FLAGS`` that already sets the option wins. Importing jaxdl after jax has run a computation leaves the running backend's flags as
they are.
"""
import ctypes
import ctypes.util
import importlib.metadata
import os
import sys

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
    return f"{CPU_FLAGS} {flags}".strip()  # first: XLA ignores what follows a malformed flag


# mallopt(3) parameters
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8


def tune_malloc() -> bool:
    """One malloc arena, no mmap'd chunks, no trimming (glibc on Linux only); True if applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return all(mallopt(option, value) == 1 for option, value in
               ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1)))


def apply(environ=os.environ) -> None:
    """Set ``XLA_FLAGS`` to ``default_xla_flags()`` and tune malloc, unless opted out."""
    flags = default_xla_flags(environ)
    if flags:
        environ["XLA_FLAGS"] = flags
    if environ.get("JAXDL_XLA_DEFAULTS", "1") != "0" and environ.get("JAXDL_TUNE_MALLOC", "1") != "0":
        tune_malloc()
