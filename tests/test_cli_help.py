"""The ``jaxdl`` help texts: one convention for every command -- each option says what it does
and its default (or that it is required), booleans are switches, no reST markup leaks."""

import argparse

import pytest

from experiments.cli import build_parser


def commands(parser, prefix=()):
    """(command path, parser) of every leaf subcommand."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield prefix, parser
        return
    for name, sub in subparsers[0].choices.items():
        yield from commands(sub, (*prefix, name))


ALL = list(commands(build_parser()))


@pytest.mark.parametrize("path, parser", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_option_has_help_with_its_default(path, parser):
    for action in parser._actions:
        if (
            isinstance(action, (argparse._HelpAction, argparse._VersionAction))
            or not action.option_strings
        ):
            continue
        text = (action.help or "") % {"default": action.default}
        assert text, (path, action.option_strings)
        assert "default" in text or action.required, (path, action.option_strings, text)
        if action.nargs == 0:  # a switch: store_true, or --x / --no-x
            assert isinstance(
                action, (argparse._StoreTrueAction, argparse.BooleanOptionalAction)
            ), action


@pytest.mark.parametrize("path, parser", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_descriptions_read_as_text(path, parser):
    text = parser.format_help()
    assert "``" not in text, path


def test_demo_and_reproduce_have_their_own_descriptions():
    helps = dict(ALL)
    assert helps[("demo",)].description != helps[("reproduce",)].description
    assert "--quick" in helps[("demo",)].description


def test_imagenet_commands_offer_only_imagenet_models():
    model = next(a for a in dict(ALL)[("saliency",)]._actions if "--model" in a.option_strings)
    assert "dann_mnist" not in model.choices and "mnist_cnn" not in model.choices
