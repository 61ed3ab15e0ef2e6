"""Running one chapter experiment into a folder: its config beside its results, resumable.

Every chapter module exposes ``Config``, ``quick(config) -> config`` and
``run(config, workdir, data, kernels) -> dict`` (``data`` is the data folder or None,
``kernels`` the ``common.Kernels`` to build models with) and writes figures/CSV into
``workdir``; this wrapper adds ``config.json``, ``results.json`` (with version, wall time and
seed) and the ``DONE`` marker that lets ``jaxdl reproduce`` skip finished chapters.
"""

import argparse
import datetime
import importlib
import json
import shutil
import sys
import time
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
from experiments.flags import add_config_args, config_from_args, flag
from experiments.lock import is_lock_file, run_lock
from jaxdl import hub
from jaxdl.data import published
from jaxdl.errors import InputError
from jaxdl.paths import data_root

DONE = "DONE"


def is_done(workdir) -> bool:
    return (Path(workdir) / DONE).is_file()


def prepare_workdir(workdir: Path, resume: bool = False, force: bool = False) -> None:
    """Decide, before any work, what a run does with ``workdir``: an empty or new folder is
    used; a folder holding a run is continued with ``resume``, deleted and started again with
    ``force``, and otherwise refused (never trained into, then failing on old checkpoints);
    anything else (a file, a folder of other files) is refused."""
    if workdir.exists() and not workdir.is_dir():
        raise InputError(f"--out {workdir}: is a file; expected a folder for the run")
    contents = [p for p in workdir.iterdir() if not is_lock_file(p)] if workdir.is_dir() else []
    if not contents:
        if resume:
            raise InputError(f"--resume: {workdir} holds no run to resume")
        return
    if not (workdir / "config.json").is_file():
        raise InputError(
            f"--out {workdir}: the folder holds files but no jaxdl run "
            "(no config.json); choose an empty or new folder"
        )
    if resume:
        return
    if not force:
        kind = "a finished run" if is_done(workdir) else "an unfinished run"
        raise InputError(
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
        raise InputError(f"--out {workdir}: is a file; expected a folder for the run")
    workdir.mkdir(parents=True, exist_ok=True)
    with run_lock(workdir):
        resume = getattr(config, "resume", False)
        prepare_workdir(workdir, resume, force)
        if resume:
            check_resumable(workdir / "checkpoints")
        resumes = resume_record(name, config, workdir) if resume else []
        return _run_locked(name, run_fn, config, workdir, data, kernels, resumes)


def _leaves(tree: dict, prefix: str = "") -> dict:
    """``{dotted name: value}`` of a nested config dict."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def has_checkpoints(checkpoints: Path) -> bool:
    """Whether any seed group under ``checkpoints`` saved a step (an orbax ``<step>/`` folder)."""
    return checkpoints.is_dir() and any(
        p.is_dir() and p.name.isdigit() for p in checkpoints.glob("**/*")
    )


def check_resumable(checkpoints: Path) -> None:
    """``--resume`` needs a checkpoint of at least one seed group under ``checkpoints`` (each
    group then resumes from its own latest one, or starts when it has none)."""
    if not has_checkpoints(checkpoints):
        raise InputError(f"--resume: no checkpoint in {checkpoints} to resume from")


def resume_record(name: str, config, workdir: Path) -> list[dict]:
    """The run's resumes so far plus this one (date, fields changed, checkpointed steps), after
    checking that ``config`` may continue the run saved in ``workdir``: the same experiment and
    the same config except the fields of ``config.RESUMABLE`` (e.g. more steps). Refused with
    the differing flags before anything in the folder is touched."""
    try:
        saved = json.loads((workdir / "config.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"--resume: {workdir}/config.json cannot be read ({e})") from None
    if not isinstance(saved, dict) or saved.get("experiment") != name:
        raise InputError(
            f"--resume: {workdir} holds no {name} run to continue; choose another --out"
        )
    before = _leaves(saved.get("config", {}))
    now = _leaves(json.loads(json.dumps(configs.to_dict(config))))
    changed = {k: [before.get(k), now.get(k)] for k in before.keys() | now.keys()}
    changed = {k: v for k, v in sorted(changed.items()) if v[0] != v[1]}
    allowed = getattr(type(config), "RESUMABLE", ())
    refused = [k for k in changed if k not in allowed]
    if refused:
        diffs = ", ".join(f"{flag(k)} {changed[k][0]} -> {changed[k][1]}" for k in refused)
        may = ", ".join(flag(k) for k in allowed if k != "resume") or "nothing"
        raise InputError(
            f"--resume: {workdir} was trained with another config ({diffs}); a resumed run may "
            f"change only {may}: pass the run's own settings (--config {workdir}/config.json), "
            "or --force to start again, or another --out"
        )
    steps = {
        str(p.parent.relative_to(workdir / "checkpoints")): int(p.name)
        for p in sorted((workdir / "checkpoints").glob("**/[0-9]*"))
        if p.is_dir() and p.name.isdigit()
    }
    record = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "changed": {k: v for k, v in changed.items() if k != "resume"},
        "checkpoint_steps": steps,
    }
    return [*saved.get("resumes", []), record]


def _run_locked(name, run_fn, config, workdir: Path, data, kernels: Kernels, resumes: list) -> dict:
    (workdir / DONE).unlink(missing_ok=True)
    write_json(
        workdir / "config.json",
        {
            "experiment": name,
            "config": configs.to_dict(config),
            **provenance(data),
            **run_info(kernels),
            **({"resumes": resumes} if resumes else {}),
        },
    )
    start = time.perf_counter()
    results = run_fn(config, workdir, data, kernels)
    results = {
        "experiment": name,
        **results,
        **({"resumes": resumes} if resumes else {}),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "data": str(data) if data else None,
        "embedded": bool(missing_data(name, data)),
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
# (a path that lists alternatives, "a|b", is there when any of them is)
REQUIRES = {
    "basics": ("weights/squeezenet1_1_onnx_zoo", "imagenet/imagenet_val_25.npz"),
    "transfer": ("weights/squeezenet1_1_onnx_zoo", "scene15"),
    "visualize": ("weights/squeezenet1_1_onnx_zoo", "imagenet/imagenet_val_25.npz"),
    "dann": ("mnist/mnist.npz", "mnist_m/mnist_m.npz|bsds500"),  # MNIST-M, or its photos
    "gan": ("mnist/mnist.npz",),
}


def missing_data(chapter: str, data: Path | None) -> list[str]:
    """The paths of ``REQUIRES[chapter]`` that ``data`` lacks (" or " between alternatives)."""
    return [
        rel.replace("|", " or ")
        for rel in REQUIRES.get(chapter, ())
        if data is None or not any((data / alt).exists() for alt in rel.split("|"))
    ]


def resolve_data(explicit) -> tuple[Path | None, bool]:
    """``(data folder or None, whether it was given explicitly)``: ``--data`` must exist; without
    it ``$JAXDL_DATA`` or ``../shared/data`` when present (``jaxdl.paths.data_root``)."""
    if explicit:
        if not Path(explicit).is_dir():
            raise InputError(f"--data {explicit}: no such folder")
        return Path(explicit), True
    return data_root(), False


def published_folder(chapter: str) -> Path | None:
    """``$JAXDL_HOME/data`` when it holds every file ``chapter`` reads, downloading the pinned
    files it lacks (``jaxdl.data.published``; never with ``JAXDL_OFFLINE=1``); None when a file
    is not published (MNIST-M itself: the photos it is built from are) or cannot be had, saying
    why on stderr."""
    home = published.data_home()
    needed = []  # of each required path, the alternative there, else the first published one
    for rel in REQUIRES.get(chapter, ()):
        alternatives = rel.split("|")
        there = [alt for alt in alternatives if (home / alt).exists()]
        needed += there[:1] or [alt for alt in alternatives if alt in published.BY_PATH][:1]
    if not needed or len(needed) < len(REQUIRES.get(chapter, ())):
        return None
    absent = [
        p
        for p in needed
        if p in published.BY_PATH and not hub.is_cached(published.DATA[published.BY_PATH[p]])
    ]
    if absent and hub.offline():
        return None
    if absent:
        print(
            f"jaxdl: {chapter}: downloading {', '.join(absent)} (at most "
            f"{published.megabytes(absent):.0f} MB) into {home}",
            file=sys.stderr,
        )
    try:  # checks what the cache holds against the pins, and fetches the rest
        return published.fetch_data(needed, progress=sys.stderr.isatty())
    except InputError as e:
        print(f"jaxdl: {chapter}: {e}", file=sys.stderr)
        return None


def chapter_data(chapter: str, explicit) -> Path | None:
    """The data folder a chapter runs on: an explicit ``--data`` must hold the chapter's data (an
    error naming what is missing); otherwise the default folder, else the published files
    (``published_folder``), else the chapter runs on embedded data, which this says on stderr
    before it starts."""
    data, given = resolve_data(explicit)
    missing = missing_data(chapter, data)
    if missing and given:
        raise InputError(
            f"--data {data} lacks {', '.join(missing)}, which the {chapter} chapter "
            "needs (README, 'Data layout'); leave out --data to run on embedded data"
        )
    if missing and (fetched := published_folder(chapter)) is not None:
        data, missing = fetched, []
    if missing:
        where = data or "no data folder ($JAXDL_DATA or ../shared/data)"
        print(
            f"jaxdl: {chapter}: {', '.join(missing)} not in {where}: running on embedded data",
            file=sys.stderr,
        )
    else:
        print(f"jaxdl: {chapter}: data from {data}", file=sys.stderr)
    return data


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
