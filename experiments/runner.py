"""Running one chapter experiment into a folder: its config beside its results, resumable.

Every chapter module exposes ``run(config, workdir, data) -> dict`` (``data`` is the data
folder or None) and writes figures/CSV into ``workdir``; this wrapper adds ``config.json``,
``results.json`` (with version, wall time and seed) and the ``DONE`` marker that lets
``jaxdl reproduce`` skip finished chapters.
"""
import dataclasses
import importlib
import time
from pathlib import Path

from experiments import configs
from experiments.common import run_info, write_json

DONE = "DONE"


def is_done(workdir) -> bool:
    return (Path(workdir) / DONE).is_file()


def run_experiment(name: str, run_fn, config, workdir, data=None) -> dict:
    """Run ``run_fn(config, workdir, data)``, recording config, timing and results."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / DONE).unlink(missing_ok=True)
    write_json(workdir / "config.json", {"experiment": name, "config": configs.to_dict(config), **run_info()})
    start = time.perf_counter()
    results = run_fn(config, workdir, data)
    results = {"experiment": name, **results, "wall_seconds": round(time.perf_counter() - start, 1),
               "data": str(data) if data else None, **run_info()}
    write_json(workdir / "results.json", results)
    (workdir / DONE).write_text("ok\n")
    return results


# name -> module, in the practical's order; each module exposes Config (frozen dataclass),
# quick(config) -> config and run(config, workdir, data) -> dict.
CHAPTERS = {
    "basics": "experiments.basics",
    "transfer": "experiments.transfer",
    "visualize": "experiments.visualize",
    "dann": "experiments.dann",
    "gan": "experiments.gan",
}


def add_config_args(parser, cls):
    """One ``--field-name`` option per config field (strings parsed like ``--set``)."""
    group = parser.add_argument_group(f"{cls.__name__} fields (defaults reproduce the practical)")
    for field in dataclasses.fields(cls):
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=f"cfg_{field.name}", metavar="V",
                           help=f"default: {default}")


def config_from_args(cls, args):
    """Config from (in order) ``--config FILE``, ``--quick``, the per-field flags, ``--set``."""
    config = configs.load(cls, args.config) if args.config else cls()
    module = importlib.import_module(CHAPTERS[args.chapter])
    if args.quick:
        config = module.quick(config)
    fields = [f"{f.name}={getattr(args, 'cfg_' + f.name)}" for f in dataclasses.fields(cls)
              if getattr(args, "cfg_" + f.name, None) is not None]
    return configs.override(config, fields + list(args.set or ()))


def _run_command(args):
    from experiments.common import print_result
    from jaxdl.paths import data_root

    module = importlib.import_module(CHAPTERS[args.chapter])
    config = config_from_args(module.Config, args)
    workdir = Path(args.out or f"runs/{args.chapter}")
    results = run_experiment(args.chapter, module.run, config, workdir, data_root(args.data))
    print_result(results)


def register(subparsers):
    p = subparsers.add_parser("run", help="run one chapter's experiment into a folder",
                              description="Run a chapter's experiment with its default config (which "
                              "reproduces the practical), overridden by flags; writes config.json, "
                              "results.json, figures and tables into --out.")
    chapters = p.add_subparsers(dest="chapter", required=True, metavar="CHAPTER")
    for name, module_name in CHAPTERS.items():
        module = importlib.import_module(module_name)
        sub = chapters.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0],
                                  description=module.__doc__)
        sub.add_argument("--out", help=f"output folder (default: runs/{name})")
        sub.add_argument("--data", help="data folder (default: $JAXDL_DATA or ../shared/data)")
        sub.add_argument("--config", help="a config.json from an earlier run to start from")
        sub.add_argument("--quick", action="store_true", help="the quick setting used by the demo")
        sub.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any config field")
        add_config_args(sub, module.Config)
    p.set_defaults(func=_run_command)
