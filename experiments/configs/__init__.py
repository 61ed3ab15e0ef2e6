"""Experiment configs are frozen dataclasses, possibly nesting the library's method configs
(``VisualizeConfig.pgd`` is a ``PGDConfig``); this module maps ``key=value`` overrides (dotted
for nested fields: ``pgd.steps=10``) and saved ``config.json`` files onto them."""

import dataclasses
import json
import types
import typing
from pathlib import Path

from jaxdl.errors import InputError


def leaf_fields(cls, prefix: str = ""):
    """``(dotted name, field, type)`` of every non-dataclass field of ``cls``, nested ones
    included (``pgd.steps``), in declaration order."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if dataclasses.is_dataclass(kind):
            yield from leaf_fields(kind, f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", field, kind


def parse(value: str, kind):
    """A command-line string as a value of type ``kind`` (tuples comma-separated)."""
    origin = typing.get_origin(kind)
    if origin in (tuple, list):
        inner = typing.get_args(kind)[0] if typing.get_args(kind) else str
        return tuple(parse(v, inner) for v in value.split(",") if v != "")
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return None if value.lower() == "none" else parse(value, args[0])
    if kind is bool:
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise InputError(f"expected a boolean (true/false), got {value!r}")
        return value.lower() in ("true", "1", "yes")
    return kind(value)


def replace_fields(config, values: dict):
    """``config`` with the (dotted, possibly nested) fields of ``values`` set, each dataclass
    replaced once, so fields validated together (steps, frame_every) change together."""
    direct, nested = {}, {}
    for name, value in values.items():
        head, _, rest = name.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    for head, inner in nested.items():
        direct[head] = replace_fields(getattr(config, head), inner)
    return dataclasses.replace(config, **direct) if direct else config


def override(config, assignments):
    """``config`` with ``["key=value", ...]`` applied (``pgd.steps=10`` for a nested field);
    unknown keys or bad values are clear errors."""
    kinds = {name: kind for name, _, kind in leaf_fields(type(config))}
    values = {}
    for assignment in assignments or ():
        key, sep, value = assignment.partition("=")
        if not sep:
            raise InputError(f"override {assignment!r}: expected key=value")
        if key not in kinds:
            raise InputError(
                f"unknown config key {key!r} for {type(config).__name__}; valid: {', '.join(kinds)}"
            )
        try:
            values[key] = parse(value, kinds[key])
        except (TypeError, ValueError) as e:
            raise InputError(f"override {key}={value!r}: {e}") from None
    return replace_fields(config, values)


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def from_dict(cls, data: dict, source: str = "config"):
    """A ``cls`` from the nested dict of ``to_dict`` (lists back to tuples); unknown keys are
    an error naming ``source``."""
    hints = typing.get_type_hints(cls)
    unknown = set(data) - set(hints)
    if unknown:
        raise InputError(f"{source}: unknown keys for {cls.__name__}: {', '.join(sorted(unknown))}")
    values = {}
    for key, value in data.items():
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise InputError(
                    f"{source}: {key}: expected an object of {kind.__name__} fields, got {value!r}"
                )
            value = from_dict(kind, value, source)
        else:
            if isinstance(value, list) and typing.get_origin(kind) is tuple:
                value = tuple(value)
            if not matches(value, kind):
                raise InputError(f"{source}: {key}: expected {_type_name(kind)}, got {value!r}")
        values[key] = value
    return cls(**values)


def matches(value, kind) -> bool:
    """Whether a JSON-loaded ``value`` fits the annotation ``kind`` (an int fits a float)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, k) for k in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if origin is tuple:
        inner = typing.get_args(kind)[0] if typing.get_args(kind) else object
        return isinstance(value, tuple) and all(matches(v, inner) for v in value)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return kind is object or isinstance(value, kind)


def _type_name(kind) -> str:
    return getattr(kind, "__name__", None) or str(kind).replace("typing.", "")


def load(cls, path):
    """A config of class ``cls`` from a ``config.json`` written by a previous run; one-line
    errors naming the file when it is not such a file."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise InputError(f"--config {path}: cannot be read ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"--config {path}: not a JSON file ({e})") from None
    data = data.get("config", data) if isinstance(data, dict) else data
    if not isinstance(data, dict):
        raise InputError(
            f"--config {path}: expected a JSON object of {cls.__name__} fields, "
            f"got a {type(data).__name__}"
        )
    return from_dict(cls, data, str(path))
