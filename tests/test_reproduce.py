"""``jaxdl reproduce``: the report has every chapter's sections, every referenced file exists,
and an interrupted run re-uses the chapters that finished."""

import importlib
import json
import re

import pytest
from PIL import Image

from experiments import configs
from experiments import reproduce as reproduce_module
from experiments.report import SMOKE, part_title
from experiments.reproduce import reproduce
from experiments.runner import CHAPTERS

# On top of each chapter's quick(): the smallest settings that still run every step.
TINY = {
    "basics": {},
    "transfer": {"head_steps": 10},
    "visualize": {
        "image_indices": (0, 1),
        "smoothgrad.samples": 2,
        "fool.steps": 3,
        "pgd.steps": 2,
        "onepixel.population": 4,
        "onepixel.generations": 1,
        "classviz.steps": 3,
        "classviz.frame_every": 3,
    },
    "dann": {
        "paper.steps": 6,
        "strong.steps": 6,
        "seeds": (0,),
        "sweep": (),
        "eval_every": 3,
        "eval_size": 64,
        "test_size": 64,
        "embed_size": 40,
        "checkpoint_every": 3,
    },
    "gan": {"steps": 4, "sample_every": 2, "checkpoint_every": 2, "eval_samples": 64},
}


def shrunk(config, fields: dict):
    """``config`` with the (dotted) ``fields`` replaced."""
    return configs.replace_fields(config, fields)


def referenced_files(report_md: str):
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report_md) + re.findall(
        r"\(table: `([^`]+)`\)", report_md
    )


@pytest.fixture
def tiny_chapters(monkeypatch):
    """Every chapter's quick() shrunk further, so the whole study runs in about a minute."""
    for name, module_name in CHAPTERS.items():
        module = importlib.import_module(module_name)
        original = module.quick
        monkeypatch.setattr(module, "quick", lambda c, o=original, t=TINY[name]: shrunk(o(c), t))


@pytest.mark.slow  # every chapter on the real data (minutes)
def test_quick_report_has_every_chapter_section_and_file(tmp_path, tiny_chapters):
    out = tmp_path / "out"
    summary = reproduce(None, None, out, quick=True, progress=lambda m: None)
    report = (out / "report.md").read_text()
    assert set(summary["chapters"]) == set(CHAPTERS) | {"gan_conditional"}  # the quick study
    assert "## Contents" in report and all(
        f"- {key}: " in report for key in ("date", "commit", "host", "command")
    )
    for folder in summary["chapters"]:
        results = json.loads((out / folder / "results.json").read_text())
        chapter, part = part_title(folder, results)
        assert f"## {chapter}" in report and f"### {part}" in report and results["sections"]
        assert results["embedded"] and part.endswith(f"({SMOKE})")
        for section in results["sections"]:
            assert f"#### {section['title']} ({SMOKE})" in report
    files = referenced_files(report)
    assert files and all((out / f).is_file() for f in files), [
        f for f in files if not (out / f).is_file()
    ]
    assert "ran on embedded data" in report and "VGG16 chapters skipped" in report
    assert report.startswith(f"# jaxdl report: {SMOKE}\n\n## Summary\n")
    for name in ("MNIST", "15-Scene", "ImageNet"):  # nothing named after data it did not use
        headings = [line for line in report.splitlines() if line.startswith("#")]
        assert not any(name in line for line in headings), (name, headings)
    html = (out / "report.html").read_text()
    pngs, gifs = (len([f for f in files if f.endswith(ext)]) for ext in (".png", ".gif"))
    assert html.count("base64,") == pngs + 2 * gifs  # a GIF shows its last frame, then plays


def test_interrupted_run_reuses_finished_chapters(tmp_path, monkeypatch):
    out = tmp_path / "out"
    reproduce(None, None, out, quick=True, only=["basics"], progress=lambda m: None)
    calls = []
    monkeypatch.setattr(reproduce_module, "run_experiment", lambda *a, **k: calls.append(a))
    messages = []
    reproduce(None, None, out, quick=True, only=["basics"], progress=messages.append)
    assert not calls and any("re-using" in m for m in messages)


def test_the_report_opens_with_a_summary_and_names_embedded_runs_a_smoke_test(tmp_path):
    """A chapter that ran on embedded data is titled by the data it used and called a smoke
    test in every heading; the summary table opens the report with each run's headline."""
    from experiments.report import Section, write_report

    (tmp_path / "dann").mkdir()
    (tmp_path / "gan").mkdir()
    Image.new("RGB", (40, 30)).save(tmp_path / "gan" / "samples.png")
    dann = {
        "embedded": True,
        "headline": [{"result": "DANN target accuracy", "measured": "0.5 +- 0.1"}],
        "sections": [Section("Q3. Effect of the reversal factor", "text").to_json()],
    }
    gan = {
        "embedded": False,
        "data": "/data",
        "headline": [{"result": "DCGAN Frechet", "measured": "63.1", "reference": "1.81"}],
        "sections": [Section("DCGAN: samples", "t", ("samples.png",), captions=("digits",))],
    }
    md, html = write_report(tmp_path, [("gan", gan), ("dann", dann)], ["a note"])
    text = md.read_text()
    assert text.startswith(f"# jaxdl report (1 of 2 runs a {SMOKE})\n\n## Summary\n")
    summary = text.split("## Summary")[1].split("## Contents")[0]
    assert "| DANN target accuracy | 0.5 +- 0.1 | - | embedded (smoke test) |" in summary
    assert "| DCGAN Frechet | 63.1 | 1.81 | /data |" in summary
    assert f"### DANN, digits -> photo-blended digits ({SMOKE})" in text
    assert f"#### Q3. Effect of the reversal factor ({SMOKE})" in text
    assert "### DCGAN on MNIST\n" in text and "#### DCGAN: samples\n" in text
    assert "![digits](gan/samples.png)" in text and "<figcaption>digits</figcaption>" in (
        html.read_text()
    )
