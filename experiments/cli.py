"""The ``jaxdl`` command: thin argument parsing onto the experiment modules.

It applies ``jaxdl.cpu.configure()`` (XLA:CPU flags and malloc settings) before anything else:
the library itself never does.
"""

import argparse
import importlib
import sys

from jaxdl import __version__, cpu
from jaxdl.train.checkpoint import CheckpointError

# Each module exposes register(subparsers) adding its commands (func=handler(args)).
COMMAND_MODULES = (
    "experiments.predict",
    "experiments.runner",
    "experiments.reproduce",
    "experiments.interpret_cli",
    "experiments.compare",
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="jaxdl",
        description="JAX/Flax experiments for four deep-learning practicals: transfer learning, "
        "visualising networks, domain adaptation, GANs. Every command ends by printing one JSON "
        "line.",
    )
    parser.add_argument("--version", action="version", version=f"jaxdl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


# what a bad input, a missing or damaged file or a diverged run raises: one line, exit 2
USER_ERRORS = (ValueError, OSError, CheckpointError, FloatingPointError)


def one_line(error: Exception) -> str:
    """The message of ``error`` on one line (without JAX's appended traceback note)."""
    text = str(error).split("\n--------------------")[0]
    return " ".join(text.split()) or type(error).__name__


def main(argv=None):
    cpu.configure()  # before JAX starts its backends (a no-op with a warning after)
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except USER_ERRORS as e:
        print(f"jaxdl: error: {one_line(e)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
