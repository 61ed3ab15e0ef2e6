"""The ``jaxdl`` command: thin argument parsing onto the experiment modules.

It applies ``jaxdl.cpu.configure()`` (XLA:CPU flags and malloc settings) before anything else:
the library itself never does.
"""

import argparse
import importlib
import logging
import shlex
import signal
import sys
import threading
import traceback
import warnings

from jaxdl import __version__, cpu
from jaxdl.errors import InputError
from jaxdl.train import preemption
from jaxdl.train.checkpoint import CheckpointError

# Each module exposes register(subparsers) adding its commands (func=handler(args)).
COMMAND_MODULES = (
    "experiments.predict",
    "experiments.runner",
    "experiments.reproduce",
    "experiments.interpret_cli",
    "experiments.compare",
)


class Parser(argparse.ArgumentParser):
    """No abbreviated options (``--seed`` must not silently mean ``--seeds`` or fail as
    ambiguous); every sub-command's parser is of this class too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})


def build_parser():
    parser = Parser(
        prog="jaxdl",
        description="JAX/Flax experiments for four deep-learning practicals: transfer learning, "
        "visualising networks, domain adaptation, GANs. Every command ends by printing one JSON "
        "line.",
    )
    parser.add_argument("--version", action="version", version=f"jaxdl {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of every error, a bad input's too, and the libraries' own log "
        "messages (default: off: a bad input is one line, and only a bug shows a traceback)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


# what a bad input, a missing, unwritable or damaged file or a diverged run raises: one line,
# exit 2; any other exception is a bug and shows its traceback
USER_ERRORS = (InputError, OSError, CheckpointError, FloatingPointError)


def one_line(error: Exception) -> str:
    """The message of ``error`` on one line (without JAX's appended traceback note)."""
    text = str(error).split("\n--------------------")[0]
    return " ".join(text.split()) or type(error).__name__


def _announce(signum: int, second: bool) -> None:
    name = signal.Signals(signum).name
    if second:
        print(f"jaxdl: {name} again: exiting now, without a checkpoint", file=sys.stderr)
    else:
        print(
            f"jaxdl: {name}: stopping at the next step boundary with a checkpoint (send it "
            "again to exit at once)",
            file=sys.stderr,
        )


def stopped_line(stop: preemption.Preempted, argv, args) -> str:
    """What a command stopped by a signal says: where it stopped and, for a run that can
    continue, the command that continues it."""
    command = " ".join(shlex.quote(a) for a in ["jaxdl", *argv])
    where = f" at step {stop.step} (checkpoint in {stop.where})" if stop.where else ""
    if "cfg.resume" in vars(args):  # a training chapter: its checkpoints resume it
        resume = command if "--resume" in argv else f"{command} --resume"
        return f"jaxdl: stopped by {stop.name}{where}; continue with: {resume}"
    if args.command in ("reproduce", "demo"):  # finished chapters are re-used
        return f"jaxdl: stopped by {stop.name}; run the same command to continue: {command}"
    return f"jaxdl: stopped by {stop.name}"


def _quiet(*_) -> None:
    """Drops an exception a background thread could not raise (the error that caused it reaches
    the main thread; --debug shows them)."""


def _warning_line(message, category, filename, lineno, file=None, line=None):
    print(f"jaxdl: warning: {one_line(Exception(str(message)))}", file=sys.stderr)


def main(argv=None):
    cpu.configure()  # before JAX starts its backends (a no-op with a warning after)
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line (before a bare --)
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]
    args = build_parser().parse_args([a for a in argv[:end] if a != "--debug"] + argv[end:])
    args.debug = args.debug or debug
    if not args.debug:  # orbax's tracebacks after a failed save, from its logs and threads
        for name in ("absl", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        sys.unraisablehook = threading.excepthook = _quiet
    preemption.install(_announce, distributed=bool(vars(args).get("cfg.distributed")))
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _warning_line
            args.func(args)
    except preemption.Preempted as stop:
        print(stopped_line(stop, argv, args), file=sys.stderr)
        return stop.exit_code
    except USER_ERRORS as e:
        if args.debug:
            traceback.print_exc()
        print(f"jaxdl: error: {one_line(e)}", file=sys.stderr)
        return 2
    finally:
        preemption.uninstall()
    return 0


if __name__ == "__main__":
    sys.exit(main())
