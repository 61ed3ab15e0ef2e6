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


def rounded(cell: str) -> str:
    """A table cell as shown: numbers to 4 significant digits (the CSV keeps full precision)."""
    try:
        value = float(cell)
    except ValueError:
        return cell
    if value.is_integer() and "." not in cell and "e" not in cell.lower():
        return cell
    return f"{value:.4g}"


def shown(rows) -> list[list[str]]:
    return [rows[0]] + [[rounded(c) for c in row] for row in rows[1:]] if rows else rows


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
    return (  # wide tables scroll inside the page instead of squeezing their columns
        '<div class="table"><table><thead><tr>'
        + cells(head, "th")
        + "</tr></thead><tbody>"
        + "".join("<tr>" + cells(r, "td") + "</tr>" for r in body)
        + "</tbody></table></div>"
    )


# run folder -> (practical chapter, part heading); the report is ordered and grouped by these
PARTS = {
    "basics": ("Chapter 1: Transfer learning", "1.1 Architectures, predictions, activation maps"),
    "transfer": ("Chapter 1: Transfer learning", "1.2 15-Scene with SqueezeNet 1.1 features"),
    "transfer_vgg16": ("Chapter 1: Transfer learning", "1.2 15-Scene with VGG16 features"),
    "visualize": (
        "Chapter 2: Visualising networks",
        "Saliency, adversarial examples, class visualisation",
    ),
    "dann": ("Chapter 3: Domain adaptation", "DANN, MNIST -> MNIST-M"),
    "gan": ("Chapter 4: GANs", "DCGAN"),
    "gan_conditional": ("Chapter 4: GANs", "Conditional DCGAN"),
    "gan_clusters": (
        "Chapter 4: GANs",
        "Beyond the practical: a DCGAN self-conditioned on clusters",
    ),
    "gan_conditional_clusters": (
        "Chapter 4: GANs",
        "Beyond the practical: a cDCGAN on clusters within each digit",
    ),
    "gan_saturating": ("Chapter 4: GANs", "Question 3: the saturating G loss (eq. 4.1)"),
    "gan_cdx": ("Chapter 4: GANs", "Question 7: a conditional G with a label-blind cD(x)"),
}


def provenance(results: dict) -> str:
    """One line saying which data, weights and seeds a chapter's numbers come from, and its
    time."""
    config = results.get("config", {})
    parts = [f"data: {results.get('data') or 'embedded (scikit-learn)'}"]
    if config.get("weights") or config.get("model"):
        weights = results.get("weights")
        where = weights["path"] if isinstance(weights, dict) else config.get("weights")
        parts.append(
            f"model: {config.get('model', '-')}, weights: {where or 'embedded digits CNN'}"
        )
    if "seeds" in config:
        parts.append(f"seeds: {', '.join(map(str, config['seeds']))}")
    elif "seed" in config:
        parts.append(f"seed: {config['seed']}")
    parts.append(f"wall time: {results.get('wall_seconds', '?')} s")
    return " · ".join(parts)


def anchor(text: str) -> str:
    """A heading's link target as GitHub makes it: lower case, punctuation dropped, spaces to
    hyphens (the HTML report uses the same ids)."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def gif_last_frame_png(path: Path) -> bytes:
    """The last frame of a GIF as PNG bytes (what the report shows; the animation is a click
    away)."""
    import io

    from PIL import Image

    with Image.open(path) as gif:
        gif.seek(gif.n_frames - 1)
        buffer = io.BytesIO()
        gif.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def figure_html(path: Path, name: str) -> str:
    def data_url(mime, payload: bytes) -> str:
        return f"data:{mime};base64,{base64.b64encode(payload).decode()}"

    caption = html.escape(name)
    if path.suffix != ".gif":
        return (
            f'<figure><img src="{data_url("image/png", path.read_bytes())}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return (
        f'<figure><img src="{data_url("image/png", gif_last_frame_png(path))}" '
        f'alt="{caption}, last frame"><figcaption>{caption}: last frame</figcaption>'
        f"<details><summary>play the animation</summary>"
        f'<img src="{data_url("image/gif", path.read_bytes())}" alt="{caption}"></details></figure>'
    )


def write_report(
    out: Path, chapters: list[tuple[str, dict]], notes: list[str], header: dict | None = None
) -> tuple[Path, Path]:
    """``chapters``: (folder name, results); each results has ``sections`` (title, text,
    figures relative to ``out/name``, table). Writes report.md and report.html into ``out``,
    grouped by the practical's chapters (``PARTS``) with a table of contents; ``header`` (date,
    commit, host, command) opens it."""
    order = {name: i for i, name in enumerate(PARTS)}
    chapters = sorted(chapters, key=lambda item: order.get(item[0], len(order)))
    header_lines = [f"{key}: {value}" for key, value in (header or {}).items()]
    md = ["# jaxdl report", ""] + [f"- {line}" for line in header_lines + notes] + [""]
    body = [
        "<h1>jaxdl report</h1>",
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in header_lines + notes) + "</ul>",
    ]
    toc_md, toc_html, content_md, content_html, current = (
        ["## Contents", ""],
        ["<h2>Contents</h2><ul>"],
        [],
        [],
        None,
    )
    for name, results in chapters:
        chapter, part = PARTS.get(name, (name, name))
        if chapter != current:
            current = chapter
            toc_md.append(f"- [{chapter}](#{anchor(chapter)})")
            toc_html.append(f'<li><a href="#{anchor(chapter)}">{html.escape(chapter)}</a></li>')
            content_md += [f"## {chapter}", ""]
            content_html.append(f'<h2 id="{anchor(chapter)}">{html.escape(chapter)}</h2>')
        part_id = anchor(part)
        toc_md.append(f"  - [{part}](#{part_id})")
        toc_html.append(
            f'<li style="margin-left:1.5em"><a href="#{part_id}">{html.escape(part)}</a></li>'
        )
        content_md += [f"### {part}", "", f"*{provenance(results)}*", ""]
        content_html += [
            f'<h3 id="{part_id}">{html.escape(part)}</h3>',
            f"<p><em>{html.escape(provenance(results))}</em></p>",
        ]
        for section in results.get("sections", []):
            content_md += [f"#### {section['title']}", "", section.get("text", ""), ""]
            content_html += [
                f"<h4>{html.escape(section['title'])}</h4>",
                f"<p>{html.escape(section.get('text', ''))}</p>",
            ]
            if section.get("table"):
                rows = shown(read_table(out / name / section["table"]))
                content_md += [
                    markdown_table(rows),
                    "",
                    f"(table: `{name}/{section['table']}`)",
                    "",
                ]
                content_html.append(html_table(rows))
            for figure in section.get("figures", []):
                content_md += [f"![{figure}]({name}/{figure})", ""]
                content_html.append(figure_html(out / name / figure, figure))
    md += toc_md + [""] + content_md
    body += toc_html + ["</ul>"] + content_html
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}img{max-width:100%}"
        "div.table{overflow-x:auto}table{border-collapse:collapse;width:max-content}"
        "td,th{border:1px solid #ccc;padding:2px 6px;max-width:30em;vertical-align:top}"
        "figure{margin:1em 0}summary{cursor:pointer;color:#036}"
    )
    md_path, html_path = out / "report.md", out / "report.html"
    md_path.write_text("\n".join(md) + "\n")
    html_path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>jaxdl report</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )
    return md_path, html_path
