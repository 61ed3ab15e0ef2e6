"""Experiment configs are frozen dataclasses; this module maps command-line overrides and
saved ``config.json`` files onto them."""
import dataclasses
import json
import typing
from pathlib import Path


def _parse(value: str, kind):
    origin = typing.get_origin(kind)
    if origin in (tuple, list):
        inner = typing.get_args(kind)[0] if typing.get_args(kind) else str
        return tuple(_parse(v, inner) for v in value.split(",") if v != "")
    if origin is typing.Union or origin is getattr(__import__("types"), "UnionType", None):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return None if value.lower() == "none" else _parse(value, args[0])
    if kind is bool:
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"expected a boolean (true/false), got {value!r}")
        return value.lower() in ("true", "1", "yes")
    return kind(value)


def override(config, assignments):
    """``config`` with ``["key=value", ...]`` applied; unknown keys or bad values are clear errors."""
    hints = typing.get_type_hints(type(config))
    changes = {}
    for assignment in assignments or ():
        key, sep, value = assignment.partition("=")
        if not sep:
            raise ValueError(f"override {assignment!r}: expected key=value")
        if key not in hints:
            valid = ", ".join(f.name for f in dataclasses.fields(config))
            raise ValueError(f"unknown config key {key!r} for {type(config).__name__}; valid: {valid}")
        try:
            changes[key] = _parse(value, hints[key])
        except (TypeError, ValueError) as e:
            raise ValueError(f"override {key}={value!r}: {e}") from None
    return dataclasses.replace(config, **changes)


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def load(cls, path):
    """A config of class ``cls`` from a ``config.json`` written by a previous run."""
    data = json.loads(Path(path).read_text())
    data = data.get("config", data)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{path}: unknown keys for {cls.__name__}: {', '.join(sorted(unknown))}")
    hints = typing.get_type_hints(cls)
    return cls(**{k: tuple(v) if isinstance(v, list) and typing.get_origin(hints[k]) is tuple else v
                  for k, v in data.items()})
