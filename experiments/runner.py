"""Running one chapter experiment into a folder: its config beside its results, resumable.

Every chapter module exposes ``Config``, ``quick(config) -> config`` and
``run(config, workdir, data, kernels) -> dict`` (``data`` is the data folder or None,
``kernels`` the ``common.Kernels`` to build models with) and writes figures/CSV into
``workdir``; this wrapper adds ``config.json``, ``results.json`` (with version, wall time and
seed) and the ``DONE`` marker that lets ``jaxdl reproduce`` skip finished chapters.
"""

import argparse
import importlib
import time
import typing
from pathlib import Path

from experiments import configs
from experiments.common import (
    Kernels,
    add_kernels_arg,
    pick_kernels,
    print_result,
    run_info,
    write_json,
)
from jaxdl.options import help_of
from jaxdl.paths import data_root

DONE = "DONE"


def is_done(workdir) -> bool:
    return (Path(workdir) / DONE).is_file()


def run_experiment(
    name: str, run_fn, config, workdir, data=None, kernels: Kernels = Kernels()
) -> dict:
    """Run ``run_fn(config, workdir, data, kernels)``, recording config, timing and results."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / DONE).unlink(missing_ok=True)
    write_json(
        workdir / "config.json",
        {"experiment": name, "config": configs.to_dict(config), **run_info(kernels)},
    )
    start = time.perf_counter()
    results = run_fn(config, workdir, data, kernels)
    results = {
        "experiment": name,
        **results,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "data": str(data) if data else None,
        **run_info(kernels),
    }
    write_json(workdir / "results.json", results)
    (workdir / DONE).write_text("ok\n")
    return results


# name -> module, in the practical's order
CHAPTERS = {
    "basics": "experiments.basics",
    "transfer": "experiments.transfer",
    "visualize": "experiments.visualize",
    "dann": "experiments.dann",
    "gan": "experiments.gan",
}


def _show(value) -> str:
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
        flag = "--" + name.replace(".", "-").replace("_", "-")
        help_text = f"{help_of(field)} (default: {_show(default)})".lstrip()
        if kind is bool:
            group.add_argument(
                flag,
                dest=f"cfg.{name}",
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
            continue
        metavar = "A,B,..." if typing.get_origin(kind) is tuple else _metavar(kind)
        group.add_argument(
            flag,
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
    """Config from (in order) ``--config FILE``, ``--quick``, the per-field flags, ``--set``."""
    config = configs.load(cls, args.config) if getattr(args, "config", None) else cls()
    if getattr(args, "quick", False) and quick is not None:
        config = quick(config)
    config = configs.replace_fields(config, given_fields(args))
    return configs.override(config, list(getattr(args, "set", None) or ()))


def _run_command(args):
    module = importlib.import_module(CHAPTERS[args.chapter])
    config = config_from_args(module.Config, args, module.quick)
    workdir = Path(args.out or f"runs/{args.chapter}")
    kernels = pick_kernels(args.kernels)
    results = run_experiment(
        args.chapter, module.run, config, workdir, data_root(args.data), kernels
    )
    print_result(results)


def register(subparsers):
    p = subparsers.add_parser(
        "run",
        help="run one chapter's experiment into a folder",
        description="Run a chapter's experiment with its default config (which "
        "reproduces the practical), overridden by flags; writes config.json, "
        "results.json, figures and tables into --out.",
    )
    chapters = p.add_subparsers(dest="chapter", required=True, metavar="CHAPTER")
    for name, module_name in CHAPTERS.items():
        module = importlib.import_module(module_name)
        sub = chapters.add_parser(
            name,
            help=(module.__doc__ or "").strip().splitlines()[0],
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("--out", help=f"output folder (default: runs/{name})")
        sub.add_argument("--data", help="data folder (default: $JAXDL_DATA or ../shared/data)")
        sub.add_argument(
            "--config", help="a config.json from an earlier run to start from (default: none)"
        )
        sub.add_argument(
            "--quick", action="store_true", help="the quick setting used by the demo (default: off)"
        )
        sub.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override any config field, nested ones dotted: --set pgd.steps=20",
        )
        add_kernels_arg(sub)
        add_config_args(sub, module.Config)
    p.set_defaults(func=_run_command)
