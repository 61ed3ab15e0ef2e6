"""``option(default, help, ...)``: a config field with its default, one-line description and
bounds together, so a command line generated from the config shows them and ``check_fields``
enforces them (one source of truth per setting)."""

import dataclasses
import math

from jaxdl.errors import InputError


def option(default, help: str, *, min=None, max=None, choices=None):  # noqa: A002
    """A dataclass field defaulting to ``default`` (immutable: a number, string, tuple, None or a
    frozen dataclass), described by ``help``; ``min``/``max``/``choices`` bound its value (each
    element of a tuple value)."""
    bounds = {"min": min, "max": max, "choices": choices}
    return dataclasses.field(default=default, metadata={"help": help, **bounds})


def same_option(cls, name: str):
    """Field ``name`` of the config class ``cls`` again, with its default, help and bounds: a
    command-line config that exposes a library setting keeps its one value in the library."""
    field = {f.name: f for f in dataclasses.fields(cls)}[name]
    return dataclasses.field(default=field.default, metadata=field.metadata)


def help_of(field: dataclasses.Field) -> str:
    """The description of a field made by ``option`` ('' for a plain field)."""
    return field.metadata.get("help", "")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_fields(config) -> None:
    """ValueError naming the first field of ``config`` outside its option's bounds; every float
    must be finite. Call it from ``__post_init__``."""
    for field in dataclasses.fields(config):
        value, meta = getattr(config, field.name), field.metadata
        name = f"{type(config).__name__}.{field.name}"
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, float) and not math.isfinite(item):
                raise InputError(f"{name}: expected a finite number, got {item}")
            if _number(item) and meta.get("min") is not None and item < meta["min"]:
                raise InputError(f"{name}: expected >= {meta['min']}, got {item}")
            if _number(item) and meta.get("max") is not None and item > meta["max"]:
                raise InputError(f"{name}: expected <= {meta['max']}, got {item}")
            if meta.get("choices") and item not in meta["choices"]:
                expected = ", ".join(map(str, meta["choices"]))
                raise InputError(f"{name}: expected one of {expected}, got {item!r}")
