"""``option(default, help)``: a config field with its default and one-line description together,
so a command line generated from the config shows both (one source of truth per setting)."""

import dataclasses


def option(default, help: str):  # noqa: A002 - the word the CLI uses
    """A dataclass field defaulting to ``default`` (immutable: a number, string, tuple, None or a
    frozen dataclass), described by ``help``."""
    return dataclasses.field(default=default, metadata={"help": help})


def help_of(field: dataclasses.Field) -> str:
    """The description of a field made by ``option`` ('' for a plain field)."""
    return field.metadata.get("help", "")
