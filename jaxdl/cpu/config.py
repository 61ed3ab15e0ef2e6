"""``configure()``: the XLA:CPU process settings the jaxdl CLI, benchmarks and tests start with.

An explicit call, never made on import: it changes the whole process (and its children).

- XLA flags: from jaxlib 0.10, XLA:CPU hands convolutions, dots and elementwise/reduce fusions to
  YNNPACK; for this project's networks XLA's own emitters are faster (``benchmarks/README.md``),
  with the same numbers to float32 rounding. ``configure`` puts ``CPU_FLAGS`` first in
  ``XLA_FLAGS``; an ``XLA_FLAGS`` that already sets the option wins.
- malloc (glibc only): XLA:CPU allocates each call's large temporary buffer from its worker
  threads, whose arenas cannot hold it, so every call maps fresh pages and faults them in. One
  arena, no mmap and no trimming keep that memory mapped from one call to the next; the cost is
  that freed memory stays with the process until it exits. This cannot be undone.

Both take effect only before JAX starts its backends (the first computation or device query);
called later, ``configure`` changes nothing and warns. ``JAXDL_XLA_DEFAULTS=0`` opts out of
both, ``JAXDL_TUNE_MALLOC=0`` of the malloc settings.
"""

import ctypes
import ctypes.util
import importlib.metadata
import os
import sys
import warnings

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
    return all(
        mallopt(option, value) == 1
        for option, value in ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1))
    )


def backends_started() -> bool:
    """Whether JAX has started its backends (after which XLA flags are fixed)."""
    from jax._src import xla_bridge

    return xla_bridge.backends_are_initialized()


def configure(environ=os.environ) -> dict:
    """Apply the XLA:CPU flags and malloc settings (see the module docstring) unless opted out;
    returns ``{"xla_flags": bool, "malloc": bool}``, what was applied."""
    if backends_started():
        if CPU_FLAGS in environ.get("XLA_FLAGS", ""):  # configured before the backends started
            return {"xla_flags": False, "malloc": False}
        warnings.warn(
            "jaxdl.cpu.configure() called after JAX started its backends: XLA flags and "
            "malloc settings left as they are (call it before the first computation)",
            RuntimeWarning,
            stacklevel=2,
        )
        return {"xla_flags": False, "malloc": False}
    enabled = environ.get("JAXDL_XLA_DEFAULTS", "1") != "0"
    flags = default_xla_flags(environ)
    applied_flags = enabled and flags != environ.get("XLA_FLAGS", "")
    if applied_flags:
        environ["XLA_FLAGS"] = flags
    malloc = enabled and environ.get("JAXDL_TUNE_MALLOC", "1") != "0" and tune_malloc()
    return {"xla_flags": applied_flags, "malloc": malloc}
