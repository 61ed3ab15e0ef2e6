"""``jaxdl reproduce`` (and ``jaxdl demo`` = ``reproduce --quick``): every chapter, one report.

Chapters run in order with their default configs (``--quick``: their fast settings);
finished chapters (a ``DONE`` marker in their folder) are re-used and a training chapter
stopped part-way resumes from its checkpoints, so an interrupted run continues where it
stopped. A chapter whose real data is missing runs on embedded data
and the report says so.
"""

import dataclasses
import importlib
import json
import os
import platform
import time
from pathlib import Path

from experiments.common import (
    Kernels,
    add_kernels_arg,
    pick_kernels,
    print_result,
    provenance,
    run_info,
)
from experiments.report import write_report
from experiments.runner import (
    CHAPTERS,
    has_checkpoints,
    is_done,
    missing_data,
    published_folder,
    resolve_data,
    run_experiment,
    summary_line,
)
from jaxdl.errors import InputError
from jaxdl.paths import home

VGG16_PATTERNS = ("vgg16*.npz", "vgg16*.pth", "vgg16*.safetensors")


def find_vgg16(weights_dir: Path | None) -> Path | None:
    """VGG16 weights in ``weights_dir``, else the converted published ones in the cache
    (``jaxdl.models.pretrained("vgg16")`` puts them there); None when neither has them."""
    found = []
    if weights_dir is not None and weights_dir.is_dir():
        found = sorted(p for pattern in VGG16_PATTERNS for p in weights_dir.glob(pattern))
    cached = home() / "converted" / "vgg16-torchvision.npz"
    return found[0] if found else (cached if cached.is_file() else None)


def same_config(workdir: Path, config) -> bool:
    """Whether the run in ``workdir`` used ``config`` (its ``resume`` switch aside), so its
    results can be re-used or its checkpoints continued."""

    def settings(values: dict) -> dict:
        return {k: v for k, v in values.items() if k != "resume"}

    try:
        saved = json.loads((workdir / "config.json").read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return settings(saved) == settings(json.loads(json.dumps(dataclasses.asdict(config))))


def resumable(workdir: Path, config) -> bool:
    """Whether ``workdir`` holds an unfinished run of ``config`` with checkpoints to resume."""
    return (
        hasattr(config, "resume")
        and not is_done(workdir)
        and (workdir / "config.json").is_file()
        and same_config(workdir, config)
        and has_checkpoints(workdir / "checkpoints")
    )


def plan(
    data: Path | None, weights_dir: Path | None, quick: bool, explicit_data: bool = False, only=None
):
    """[(folder name, chapter, config, data folder)] and the notes saying what runs on what; an
    explicit ``--data`` lacking a chapter's data is an error; without one, a chapter whose data
    the default folder lacks runs on the published files (``published_folder``) where they can
    be had, else on embedded data."""
    notes, runs = [], []
    for chapter, module_name in CHAPTERS.items():
        module = importlib.import_module(module_name)
        config = module.quick(module.Config()) if quick else module.Config()
        folder = data
        missing = missing_data(chapter, data)
        if missing and explicit_data and (not only or chapter in only):
            raise InputError(
                f"--data {data} lacks {', '.join(missing)}, which the {chapter} chapter "
                "needs (README, 'Data layout'); leave out --data to run on embedded data"
            )
        wanted = missing and (not only or chapter in only)
        if wanted and (fetched := published_folder(chapter)) is not None:
            folder, missing = fetched, []
            notes.append(f"{chapter}: the published data, cached in {fetched}")
        if missing:
            notes.append(
                f"{chapter}: {', '.join(missing)} not found in {data or 'any data folder'}: "
                "ran on embedded data; pass --data DIR holding them to use the real data"
            )
        runs.append((chapter, chapter, config, folder))
        # a chapter's further runs answering the practical's questions (the GAN's, say; the
        # quick study has fewer)
        variants = getattr(module, "quick_variants" if quick else "study_variants", lambda _: {})(
            config
        )
        runs += [(name, chapter, variant, folder) for name, variant in variants.items()]
    vgg16 = find_vgg16(weights_dir)
    if "transfer" in CHAPTERS and vgg16 is not None:
        module = importlib.import_module(CHAPTERS["transfer"])
        config = module.quick(module.Config()) if quick else module.Config()
        runs.append(
            (
                "transfer_vgg16",
                "transfer",
                dataclasses.replace(config, model="vgg16", weights=str(vgg16)),
                next((r[3] for r in runs if r[1] == "transfer"), data),
            )
        )
    else:
        notes.append(
            "VGG16 chapters skipped: no VGG16 weights in the cache or in --weights DIR "
            "(`jaxdl predict IMAGE --model vgg16 --weights imagenet` downloads torchvision's "
            "once, 528 MB)"
        )
    return runs, notes


def reproduce(
    data: Path | None,
    weights_dir: Path | None,
    out: Path,
    quick: bool,
    force: bool = False,
    only=None,
    progress=print,
    kernels: Kernels = Kernels(),
    explicit_data: bool = False,
) -> dict:
    """Run (or re-use) every chapter, then write the report; returns the summary. What runs on
    which data is said (``progress``) before anything runs."""
    runs, notes = plan(data, weights_dir, quick, explicit_data, only)
    notes.insert(
        0,
        f"jaxdl reproduce{' --quick' if quick else ''}: data folder "
        f"{data or 'none (embedded data)'}",
    )
    for note in notes:
        progress(note)
    out.mkdir(parents=True, exist_ok=True)
    chapters, summary = [], {}
    for folder, chapter, config, chapter_data in runs:
        if only and chapter not in only:
            continue
        workdir = out / folder
        if is_done(workdir) and not force and same_config(workdir, config):
            results = json.loads((workdir / "results.json").read_text())
            progress(f"{folder}: finished earlier, re-using {workdir / 'results.json'}")
        else:
            resume = resumable(workdir, config)
            mode = "resuming" if resume else "running"
            progress(f"{folder}: {mode} ({'quick' if quick else 'full'} config)")
            module = importlib.import_module(CHAPTERS[chapter])
            # any other folder than a run of this config is replaced, never trained into
            if resume:
                config = dataclasses.replace(config, resume=True)
            results = run_experiment(
                chapter, module.run, config, workdir, chapter_data, kernels, force=not resume
            )
            progress(summary_line(folder, workdir, results))
        results["config"] = json.loads((workdir / "config.json").read_text())["config"]
        chapters.append((folder, results))
        summary[folder] = {
            "wall_seconds": results.get("wall_seconds"),
            "figures": len(results.get("figures", [])),
        }
    facts = provenance(data)
    header = {
        "date": facts["date"],
        "commit": facts["commit"] or "unknown (not a git checkout)",
        "host": f"{platform.node()} ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores)",
        "command": " ".join(facts["command"]),
        **{"backend": run_info(kernels)["backend"], "kernels": kernels.name},
    }
    md, html = write_report(out, chapters, notes, header)
    return {"report_md": str(md), "report_html": str(html), "chapters": summary, "notes": notes}


def _command(args):
    start = time.perf_counter()
    data, explicit = resolve_data(args.data)
    weights_dir = Path(args.weights) if args.weights else (data / "weights" if data else None)
    summary = reproduce(
        data,
        weights_dir,
        Path(args.out),
        args.quick or args.command == "demo",
        force=args.force,
        only=args.only,
        kernels=pick_kernels(args.kernels),
        explicit_data=explicit,
    )
    print(f"report: {summary['report_md']} and {summary['report_html']}")
    print_result(
        {"command": args.command, "seconds": round(time.perf_counter() - start, 1), **summary}
    )


DESCRIPTIONS = {
    "reproduce": "Run every chapter with its default config (--quick: its fast setting) into "
    "--out and write report.md and a self-contained report.html. Finished chapters (a DONE "
    "marker and the same config) are re-used, so an interrupted run continues where it stopped; "
    "a chapter whose real data is missing runs on embedded data, and the report says so.",
    "demo": "jaxdl reproduce --quick: every chapter's fast setting on the data at hand (embedded "
    "data offline), into --out, with report.md and report.html.",
}


def register(subparsers):
    for name, default_out, help_text in (
        ("reproduce", "runs/reproduce", "run every chapter and write report.md / report.html"),
        ("demo", "runs/demo", "reproduce --quick on the data at hand (embedded data offline)"),
    ):
        p = subparsers.add_parser(name, help=help_text, description=DESCRIPTIONS[name])
        p.add_argument(
            "--data",
            help="data folder (default: $JAXDL_DATA or ../shared/data; embedded data where absent)",
        )
        p.add_argument(
            "--weights",
            help="folder of weights, e.g. a converted vgg16.npz (default: DATA/weights)",
        )
        p.add_argument("--out", default=default_out, help="output folder (default: %(default)s)")
        if name == "reproduce":
            p.add_argument(
                "--quick", action="store_true", help="each chapter's fast setting (default: off)"
            )
        p.add_argument(
            "--force",
            action="store_true",
            help="re-run chapters that finished earlier (default: off)",
        )
        p.add_argument(
            "--only",
            nargs="+",
            choices=sorted(CHAPTERS),
            help="run only these chapters (default: all)",
        )
        add_kernels_arg(p)
        p.set_defaults(func=_command, quick=name == "demo")
