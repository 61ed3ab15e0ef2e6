"""``jaxdl reproduce``: the report has every chapter's sections, every referenced file exists,
and an interrupted run re-uses the chapters that finished."""
import json
import re

from experiments import reproduce as reproduce_module
from experiments.reproduce import reproduce


def referenced_files(report_md: str):
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report_md) + re.findall(r"\(table: `([^`]+)`\)", report_md)


def test_quick_report_has_every_section_and_file(tmp_path):
    out = tmp_path / "out"
    messages = []
    summary = reproduce(None, None, out, quick=True, only=["basics"], progress=messages.append)
    report = (out / "report.md").read_text()
    results = json.loads((out / "basics" / "results.json").read_text())
    for section in results["sections"]:
        assert f"### {section['title']}" in report
    files = referenced_files(report)
    assert files and all((out / f).is_file() for f in files)
    assert "ran on embedded data" in report and "VGG16 chapters skipped" in report
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len([f for f in files if f.endswith(".png")])
    assert summary["chapters"]["basics"]["figures"] == len(results["figures"])


def test_interrupted_run_reuses_finished_chapters(tmp_path, monkeypatch):
    out = tmp_path / "out"
    reproduce(None, None, out, quick=True, only=["basics"], progress=lambda m: None)
    calls = []
    monkeypatch.setattr(reproduce_module, "run_experiment", lambda *a, **k: calls.append(a))
    messages = []
    reproduce(None, None, out, quick=True, only=["basics"], progress=messages.append)
    assert not calls and any("re-using" in m for m in messages)
