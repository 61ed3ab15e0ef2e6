"""The study's report: ``report.md`` and a self-contained ``report.html`` (figures embedded)
built from each chapter's ``results.json`` sections."""

import base64
import csv
import dataclasses
import html
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Section:
    """One section of a chapter in the report: a heading, what the numbers say, figure files
    (relative to the chapter's folder) each with its caption, and a table file."""

    title: str
    text: str
    figures: tuple[str, ...] = ()
    table: str | None = None
    captions: tuple[str, ...] = ()  # one per figure; a figure without one is named by its file

    @classmethod
    def of(cls, value) -> "Section":
        """A section as a chapter returned it, or as ``results.json`` stored it."""
        if isinstance(value, Section):
            return value
        return cls(
            **{
                **value,
                "figures": tuple(value.get("figures", ())),
                "captions": tuple(value.get("captions", ())),
            }
        )

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def figure_captions(self) -> list[tuple[str, str]]:
        """(file, caption) of every figure."""
        return [
            (f, c) for f, c in zip(self.figures, self.captions + self.figures[len(self.captions) :])
        ]


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


def html_table(rows, kind: str = "table") -> str:
    """An HTML table in a ``div`` of class ``kind`` ("table" scrolls when wide, "summary" fits
    the page and wraps its cells)."""
    if not rows:
        return ""
    head, *body = rows
    cells = lambda row, tag: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)  # noqa: E731
    return (  # wide tables scroll inside the page instead of squeezing their columns
        f'<div class="{kind}"><table><thead><tr>'
        + cells(head, "th")
        + "</tr></thead><tbody>"
        + "".join("<tr>" + cells(r, "td") + "</tr>" for r in body)
        + "</tbody></table></div>"
    )


# run folder -> (practical chapter, part heading, the heading when it ran on embedded data); the
# report is ordered and grouped by these
PARTS = {
    "basics": (
        "Chapter 1: Transfer learning",
        "1.1 Architectures, predictions, activation maps",
        "1.1 Predictions and activation maps of a digits CNN",
    ),
    "transfer": (
        "Chapter 1: Transfer learning",
        "1.2 15-Scene with SqueezeNet 1.1 features",
        "1.2 Transferred CNN features: digits 0-4 -> digits 5-9",
    ),
    "transfer_vgg16": (
        "Chapter 1: Transfer learning",
        "1.2 15-Scene with VGG16 features",
        "1.2 VGG16 features on digits",
    ),
    "visualize": (
        "Chapter 2: Visualising networks",
        "Saliency, adversarial examples, class visualisation",
        "Saliency, adversarial examples, class visualisation of a digits CNN",
    ),
    "dann": (
        "Chapter 3: Domain adaptation",
        "DANN, MNIST -> MNIST-M",
        "DANN, digits -> photo-blended digits",
    ),
    "gan": ("Chapter 4: GANs", "DCGAN on MNIST", "DCGAN on scikit-learn digits"),
    "gan_conditional": (
        "Chapter 4: GANs",
        "Conditional DCGAN on MNIST",
        "Conditional DCGAN on scikit-learn digits",
    ),
    "gan_clusters": (
        "Chapter 4: GANs",
        "Beyond the practical: a DCGAN self-conditioned on clusters",
        "A DCGAN self-conditioned on clusters of digits",
    ),
    "gan_conditional_clusters": (
        "Chapter 4: GANs",
        "Beyond the practical: a cDCGAN on clusters within each digit",
        "A cDCGAN on clusters within each digit",
    ),
    "gan_saturating": (
        "Chapter 4: GANs",
        "Question 3: the saturating G loss (eq. 4.1)",
        "Question 3: the saturating G loss (eq. 4.1), on digits",
    ),
    "gan_cdx": (
        "Chapter 4: GANs",
        "Question 7: a conditional G with a label-blind cD(x)",
        "Question 7: a conditional G with a label-blind cD(x), on digits",
    ),
}
SMOKE = "smoke test on embedded data"


def part_title(name: str, results: dict) -> tuple[str, str]:
    """(chapter, part heading) of a run folder; on embedded data the heading names the data it
    used and says it is a smoke test."""
    chapter, part, embedded_part = PARTS.get(name, (name, name, name))
    if results.get("embedded"):
        return chapter, f"{embedded_part} ({SMOKE})"
    return chapter, part


def provenance(results: dict) -> str:
    """One line saying which data, weights and seeds a chapter's numbers come from, and its
    time."""
    config = results.get("config", {})
    if results.get("embedded"):
        parts = ["data: embedded (scikit-learn), the real data not found"]
    else:
        parts = [f"data: {results.get('data')}"]
        if config.get("weights") or config.get("model"):
            weights = results.get("weights")
            where = weights["path"] if isinstance(weights, dict) else config.get("weights")
            parts.append(f"model: {config.get('model', '-')}, weights: {where or 'default'}")
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


def report_title(chapters: list[tuple[str, dict]]) -> str:
    embedded = sum(bool(results.get("embedded")) for _, results in chapters)
    if chapters and embedded == len(chapters):
        return f"jaxdl report: {SMOKE}"
    if embedded:
        return f"jaxdl report ({embedded} of {len(chapters)} runs a {SMOKE})"
    return "jaxdl report"


def summary_rows(chapters: list[tuple[str, dict]]) -> list[list[str]]:
    """The report's opening table: each run's headline results (``results["headline"]``: rows
    of result, measured, reference), with the data it ran on."""
    rows = [["part", "result", "measured", "published reference", "data"]]
    for name, results in chapters:
        _, part, embedded_part = PARTS.get(name, (name, name, name))
        embedded = bool(results.get("embedded"))
        data = "embedded (smoke test)" if embedded else (results.get("data") or "-")
        for line in results.get("headline", []):
            part_name = embedded_part if embedded else part
            rows.append(
                [part_name, line["result"], line["measured"], line.get("reference", "-"), data]
            )
    return rows


class Document:
    """The report as Markdown and HTML side by side, with its table of contents."""

    def __init__(self, out: Path):
        self.out, self.md, self.html, self.toc_md, self.toc_html = out, [], [], [], []

    def heading(self, level: int, text: str, toc: bool = False) -> None:
        ident = anchor(text)
        self.md += [f"{'#' * level} {text}", ""]
        self.html.append(f'<h{level} id="{ident}">{html.escape(text)}</h{level}>')
        if toc:
            indent = "  " * (level - 2)
            self.toc_md.append(f"{indent}- [{text}](#{ident})")
            style = f' style="margin-left:{1.5 * (level - 2)}em"' if level > 2 else ""
            self.toc_html.append(f'<li{style}><a href="#{ident}">{html.escape(text)}</a></li>')

    def paragraph(self, text: str, emphasis: bool = False) -> None:
        self.md += [f"*{text}*" if emphasis else text, ""]
        escaped = html.escape(text)
        self.html.append(f"<p><em>{escaped}</em></p>" if emphasis else f"<p>{escaped}</p>")

    def table(self, rows, source: str | None = None) -> None:
        self.md += [markdown_table(rows), ""] + ([f"(table: `{source}`)", ""] if source else [])
        self.html.append(html_table(rows))

    def figure(self, folder: str, name: str, caption: str) -> None:
        self.md += [f"![{caption}]({folder}/{name})", ""]
        self.html.append(figure_html(self.out / folder / name, caption))

    def section(self, folder: str, section: Section, smoke: bool) -> None:
        self.heading(4, section.title + (f" ({SMOKE})" if smoke else ""))
        self.paragraph(section.text)
        if section.table:
            self.table(
                shown(read_table(self.out / folder / section.table)), f"{folder}/{section.table}"
            )
        for name, caption in section.figure_captions():
            self.figure(folder, name, caption)


STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}img{max-width:100%}"
    "div.table{overflow-x:auto}table{border-collapse:collapse;width:max-content}"
    "td,th{border:1px solid #ccc;padding:2px 6px;max-width:30em;vertical-align:top}"
    "div.summary table{width:100%}div.summary td{max-width:none}"
    "figure{margin:1em 0}figure img{min-width:min(100%,480px)}summary{cursor:pointer;color:#036}"
)


def write_report(
    out: Path, chapters: list[tuple[str, dict]], notes: list[str], header: dict | None = None
) -> tuple[Path, Path]:
    """``chapters``: (folder name, results); each results has ``sections`` (``Section`` or its
    dict) and a ``headline``. Writes report.md and report.html into ``out``: the title, a
    summary table of the headlines, ``header`` (date, commit, host, command) and ``notes``, a
    table of contents, then the parts grouped by the practical's chapters (``PARTS``)."""
    order = {name: i for i, name in enumerate(PARTS)}
    chapters = sorted(chapters, key=lambda item: order.get(item[0], len(order)))
    doc, current = Document(out), None
    for name, results in chapters:
        chapter, part = part_title(name, results)
        if chapter != current:
            current = chapter
            doc.heading(2, chapter, toc=True)
        doc.heading(3, part, toc=True)
        doc.paragraph(provenance(results), emphasis=True)
        for section in results.get("sections", []):
            doc.section(name, Section.of(section), bool(results.get("embedded")))
    title = report_title(chapters)
    lines = [f"{key}: {value}" for key, value in (header or {}).items()] + notes
    summary = summary_rows(chapters)
    md = [f"# {title}", "", "## Summary", "", markdown_table(summary), ""]
    md += [f"- {line}" for line in lines] + ["", "## Contents", ""] + doc.toc_md + [""] + doc.md
    body = [f"<h1>{html.escape(title)}</h1>", "<h2>Summary</h2>", html_table(summary, "summary")]
    body += ["<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in lines) + "</ul>"]
    body += ["<h2>Contents</h2><ul>"] + doc.toc_html + ["</ul>"] + doc.html
    md_path, html_path = out / "report.md", out / "report.html"
    md_path.write_text("\n".join(md) + "\n")
    html_path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )
    return md_path, html_path
