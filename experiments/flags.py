"""Command-line options generated from a config dataclass: one flag per (nested) field with
its help, choices and default, and the config built back from the flags given."""

import argparse
import dataclasses
import typing

from experiments import configs
from jaxdl.errors import InputError
from jaxdl.options import help_of


def flag(dotted: str) -> str:
    """The flag of a dotted config field: ``pgd.steps`` -> ``--pgd-steps``."""
    return "--" + dotted.replace(".", "-").replace("_", "-")


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "(empty)"
    return str(value)


def add_config_args(parser, cls, title: str | None = None):
    """One option per (nested) config field: ``--steps``, ``--pgd-steps`` for ``pgd.steps``;
    booleans as ``--x`` / ``--no-x`` switches, lists comma-separated; each with its help and
    default. Values land in ``args.cfg`` as ``{dotted name: value}``."""
    group = parser.add_argument_group(
        title or f"{cls.__name__} fields (defaults reproduce the practical)"
    )
    for name, field, kind in configs.leaf_fields(cls):
        default = _default_of(cls, name)
        flags = [flag(name), *(["--seed"] if name == "seeds" else [])]
        help_text = help_of(field)
        if "(default:" not in help_text:  # said once, by the field's help where it says it
            help_text = f"{help_text} (default: {_show(default)})".lstrip()
        if kind is bool:
            group.add_argument(
                *flags,
                dest=f"cfg.{name}",
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
            continue
        choices = field.metadata.get("choices")
        if typing.get_origin(kind) is tuple:
            metavar = "A,B,..."
            if choices and "one of" not in help_text:
                help_text += f"; each one of {', '.join(map(str, choices))}"
        else:
            metavar = "{" + ",".join(map(str, choices)) + "}" if choices else _metavar(kind)
        group.add_argument(
            *flags,
            dest=f"cfg.{name}",
            metavar=metavar,
            default=None,
            help=help_text,
            type=lambda text, kind=kind, name=name: _parsed(text, kind, name),
        )


def _metavar(kind) -> str:
    args = [a for a in typing.get_args(kind) if a is not type(None)] or [kind]
    return {int: "N", float: "X", str: "TEXT"}.get(args[0], "V")


def _parsed(text, kind, name):
    try:
        return configs.parse(text, kind)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(f"{name}: {e}") from None


def _default_of(cls, dotted: str):
    value = cls()
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def given_fields(args) -> dict:
    """``{dotted name: value}`` of the config options given on the command line."""
    return {
        key[len("cfg.") :]: value
        for key, value in vars(args).items()
        if key.startswith("cfg.") and value is not None
    }


def config_from_args(cls, args, quick=None):
    """Config from (in order) ``--config FILE``, ``--quick``, the per-field flags, ``--set``; a
    value out of its bounds is an error naming its flag."""
    config = configs.load(cls, args.config) if getattr(args, "config", None) else cls()
    if getattr(args, "quick", False) and quick is not None:
        config = quick(config)
    given, assignments = given_fields(args), list(getattr(args, "set", None) or ())
    try:
        config = configs.replace_fields(config, given)
        return configs.override(config, assignments)
    except InputError as e:
        named = [*given, *(a.partition("=")[0] for a in assignments)]
        raise InputError(_named_byflag(str(e), cls, named)) from None


def _named_byflag(message: str, cls, given: dict) -> str:
    """``message`` ("Setting.steps: expected ...", as ``check_fields`` names a field) with the
    field's flag instead ("--paper-steps: expected ..."): the one given on the command line
    where several configs share the class."""
    head, sep, rest = message.partition(": ")
    owner, _, leaf = head.rpartition(".")
    if not sep or not owner:
        return message
    owners = _owned_by(cls)
    names = [n for n, cls_name in owners.items() if cls_name == owner and n.split(".")[-1] == leaf]
    chosen = [n for n in names if n in given] or names
    return f"{flag(chosen[0])}: {rest}" if chosen else message


def _owned_by(cls, prefix: str = "") -> dict:
    """``{dotted field name: the name of the dataclass that declares it}``."""
    owners = {}
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if dataclasses.is_dataclass(kind):
            owners.update(_owned_by(kind, f"{prefix}{field.name}."))
        else:
            owners[f"{prefix}{field.name}"] = cls.__name__
    return owners
