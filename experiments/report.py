"""The study's report: ``report.md`` and a self-contained ``report.html`` (figures embedded)
built from each chapter's ``results.json`` sections."""

import base64
import csv
import html
from pathlib import Path


def read_table(path: Path) -> list[list[str]]:
    """Rows of a CSV table (a Markdown table file is read as its rows too)."""
    if path.suffix == ".md":
        rows = [
            line.strip().strip("|").split("|")
            for line in path.read_text().splitlines()
            if line.strip().startswith("|") and not set(line.strip()) <= set("|-: ")
        ]
        return [[cell.strip() for cell in row] for row in rows]
    with open(path, newline="") as f:
        return [row for row in csv.reader(f)]


def markdown_table(rows) -> str:
    if not rows:
        return ""
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def html_table(rows) -> str:
    if not rows:
        return ""
    head, *body = rows
    cells = lambda row, tag: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)  # noqa: E731
    return (
        "<table><thead><tr>"
        + cells(head, "th")
        + "</tr></thead><tbody>"
        + "".join("<tr>" + cells(r, "td") + "</tr>" for r in body)
        + "</tbody></table>"
    )


def provenance(results: dict) -> str:
    """One line saying which data, weights and seed a chapter's numbers come from, and its time."""
    config = results.get("config", {})
    parts = [f"data: {results.get('data') or 'embedded (scikit-learn)'}"]
    if config.get("weights") or config.get("model"):
        parts.append(
            f"model: {config.get('model', '-')}, weights: "
            f"{config.get('weights') or 'default from the data folder'}"
        )
    if "seed" in config:
        parts.append(f"seed: {config['seed']}")
    parts.append(f"wall time: {results.get('wall_seconds', '?')} s")
    return " · ".join(parts)


def write_report(
    out: Path, chapters: list[tuple[str, dict]], notes: list[str]
) -> tuple[Path, Path]:
    """``chapters``: (name, results) in order; each results has ``sections`` (title, text,
    figures relative to ``out/name``, table). Writes report.md and report.html into ``out``."""
    md = ["# jaxdl report", ""] + [f"- {note}" for note in notes] + [""]
    body = [
        "<h1>jaxdl report</h1>",
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>",
    ]
    for name, results in chapters:
        md += [f"## {name}", "", f"*{provenance(results)}*", ""]
        body += [
            f"<h2>{html.escape(name)}</h2>",
            f"<p><em>{html.escape(provenance(results))}</em></p>",
        ]
        for section in results.get("sections", []):
            md += [f"### {section['title']}", "", section.get("text", ""), ""]
            body += [
                f"<h3>{html.escape(section['title'])}</h3>",
                f"<p>{html.escape(section.get('text', ''))}</p>",
            ]
            if section.get("table"):
                rows = read_table(out / name / section["table"])
                md += [markdown_table(rows), "", f"(table: `{name}/{section['table']}`)", ""]
                body.append(html_table(rows))
            for figure in section.get("figures", []):
                path = out / name / figure
                md += [f"![{figure}]({name}/{figure})", ""]
                mime = "image/gif" if path.suffix == ".gif" else "image/png"
                data = base64.b64encode(path.read_bytes()).decode()
                body.append(
                    f'<figure><img src="data:{mime};base64,{data}" alt="{html.escape(figure)}">'
                    f"<figcaption>{html.escape(figure)}</figcaption></figure>"
                )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}img{max-width:100%}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
    )
    md_path, html_path = out / "report.md", out / "report.html"
    md_path.write_text("\n".join(md) + "\n")
    html_path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>jaxdl report</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )
    return md_path, html_path
