"""Running one chapter experiment into a folder: its config beside its results, resumable.

Every chapter module exposes ``Config``, ``quick(config) -> config`` and
``run(config, workdir, data, kernels) -> dict`` (``data`` is the data folder or None,
``kernels`` the ``common.Kernels`` to build models with) and writes figures/CSV into
``workdir``; this wrapper adds ``config.json``, ``results.json`` (with version, wall time and
seed) and the ``DONE`` marker that lets ``jaxdl reproduce`` skip finished chapters.
"""

import argparse
import contextlib
import importlib
import os
import shutil
import sys
import time
import typing
from pathlib import Path

from experiments import configs
from experiments.common import (
    Kernels,
    add_kernels_arg,
    pick_kernels,
    print_result,
    provenance,
    run_info,
    write_json,
)
from jaxdl.options import help_of
from jaxdl.paths import data_root

DONE = "DONE"
LOCK = ".lock"


def is_done(workdir) -> bool:
    return (Path(workdir) / DONE).is_file()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


@contextlib.contextmanager
def run_lock(workdir: Path):
    """Hold ``workdir/.lock`` (this process's pid) while a run writes into ``workdir``: a second
    run into the same folder refuses instead of mixing its files in; a lock left by a process
    that died is taken over."""
    lock = workdir / LOCK
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            text = lock.read_text().strip() if lock.exists() else ""
            pid = int(text) if text.isdigit() else None
            if pid is not None and pid != os.getpid() and _pid_alive(pid):
                raise ValueError(
                    f"{workdir}: another run (pid {pid}) is writing into this folder; "
                    "wait for it to finish or choose another --out"
                ) from None
            lock.unlink(missing_ok=True)  # stale: its process is gone
    else:
        raise ValueError(f"{workdir}: cannot take the run lock {lock}")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        yield
    finally:
        lock.unlink(missing_ok=True)


def prepare_workdir(workdir: Path, resume: bool = False, force: bool = False) -> None:
    """Decide, before any work, what a run does with ``workdir``: an empty or new folder is
    used; a folder holding a run is continued with ``resume``, deleted and started again with
    ``force``, and otherwise refused (never trained into, then failing on old checkpoints);
    anything else (a file, a folder of other files) is refused."""
    if workdir.exists() and not workdir.is_dir():
        raise ValueError(f"--out {workdir}: is a file; expected a folder for the run")
    contents = [p for p in workdir.iterdir() if p.name != LOCK] if workdir.is_dir() else []
    if not contents:
        if resume:
            raise ValueError(f"--resume: {workdir} holds no run to resume")
        return
    if not (workdir / "config.json").is_file():
        raise ValueError(
            f"--out {workdir}: the folder holds files but no jaxdl run "
            "(no config.json); choose an empty or new folder"
        )
    if resume:
        return
    if not force:
        kind = "a finished run" if is_done(workdir) else "an unfinished run"
        raise ValueError(
            f"{workdir} holds {kind}: pass --resume to continue it, --force to delete "
            "it and start again, or choose another --out"
        )
    for path in contents:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def run_experiment(
    name: str, run_fn, config, workdir, data=None, kernels: Kernels = Kernels(), force=False
) -> dict:
    """Run ``run_fn(config, workdir, data, kernels)`` into ``workdir`` (``prepare_workdir``:
    ``config.resume`` continues a run there, ``force`` replaces it), under the run lock,
    recording config, provenance, timing and results."""
    workdir = Path(workdir)
    if workdir.exists() and not workdir.is_dir():
        raise ValueError(f"--out {workdir}: is a file; expected a folder for the run")
    workdir.mkdir(parents=True, exist_ok=True)
    with run_lock(workdir):
        prepare_workdir(workdir, getattr(config, "resume", False), force)
        return _run_locked(name, run_fn, config, workdir, data, kernels)


def _run_locked(name, run_fn, config, workdir: Path, data, kernels: Kernels) -> dict:
    (workdir / DONE).unlink(missing_ok=True)
    write_json(
        workdir / "config.json",
        {
            "experiment": name,
            "config": configs.to_dict(config),
            **provenance(data),
            **run_info(kernels),
        },
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
# What each chapter reads from the data folder to run on real data.
REQUIRES = {
    "basics": ("weights/squeezenet1_1_onnx_zoo", "imagenet/imagenet_val_25.npz"),
    "transfer": ("weights/squeezenet1_1_onnx_zoo", "scene15"),
    "visualize": ("weights/squeezenet1_1_onnx_zoo", "imagenet/imagenet_val_25.npz"),
    "dann": ("mnist/mnist.npz", "mnist_m/mnist_m.npz"),
    "gan": ("mnist/mnist.npz",),
}


def missing_data(chapter: str, data: Path | None) -> list[str]:
    return [rel for rel in REQUIRES.get(chapter, ()) if data is None or not (data / rel).exists()]


def resolve_data(explicit) -> tuple[Path | None, bool]:
    """``(data folder or None, whether it was given explicitly)``: ``--data`` must exist; without
    it ``$JAXDL_DATA`` or ``../shared/data`` when present (``jaxdl.paths.data_root``)."""
    if explicit:
        if not Path(explicit).is_dir():
            raise ValueError(f"--data {explicit}: no such folder")
        return Path(explicit), True
    return data_root(), False


def chapter_data(chapter: str, explicit) -> Path | None:
    """The data folder a chapter runs on: an explicit ``--data`` must hold the chapter's data (an
    error naming what is missing); otherwise, where the default folder lacks it, the chapter
    runs on embedded data and this says so on stderr before it starts."""
    data, given = resolve_data(explicit)
    missing = missing_data(chapter, data)
    if missing and given:
        raise ValueError(
            f"--data {data} lacks {', '.join(missing)}, which the {chapter} chapter "
            "needs (README, 'Data layout'); leave out --data to run on embedded data"
        )
    if missing:
        where = data or "no data folder ($JAXDL_DATA or ../shared/data)"
        print(
            f"jaxdl: {chapter}: {', '.join(missing)} not in {where}: running on embedded data",
            file=sys.stderr,
        )
    else:
        print(f"jaxdl: {chapter}: data from {data}", file=sys.stderr)
    return data


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


SKIP_IN_SUMMARY = ("wall_seconds", "devices", "seed", "runs")


def summary_line(name: str, workdir: Path, results: dict) -> str:
    """One line saying a chapter finished: its time, its folder and its first headline numbers."""
    numbers = [
        f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
        for key, value in results.items()
        if isinstance(value, (int, float))
        and not isinstance(value, bool)
        and key not in SKIP_IN_SUMMARY
    ][:5]
    return (
        f"jaxdl: {name} finished in {results.get('wall_seconds', 0):.0f} s -> "
        f"{workdir / 'results.json'}" + (f": {', '.join(numbers)}" if numbers else "")
    )


def _run_command(args):
    module = importlib.import_module(CHAPTERS[args.chapter])
    config = config_from_args(module.Config, args, module.quick)
    workdir = Path(args.out or f"runs/{args.chapter}")
    kernels = pick_kernels(args.kernels)
    data = chapter_data(args.chapter, args.data)
    results = run_experiment(args.chapter, module.run, config, workdir, data, kernels, args.force)
    print(summary_line(args.chapter, workdir, results), file=sys.stderr)
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
            description=(module.__doc__ or "").replace("``", ""),
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
            "--force",
            action="store_true",
            help="delete a run already in --out and start again (default: off)",
        )
        sub.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override a config field, nested ones dotted: --set pgd.steps=20 (default: none)",
        )
        add_kernels_arg(sub)
        add_config_args(sub, module.Config)
    p.set_defaults(func=_run_command)
