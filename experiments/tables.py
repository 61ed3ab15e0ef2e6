"""The one table writer of the experiments: rows of dicts -> ``name.csv`` and ``name.md``."""

import csv
from pathlib import Path

from jaxdl.errors import InputError


def _cell(value) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_table(rows: list[dict], workdir, name: str) -> str:
    """Write ``rows`` (the first row's keys are the columns) as ``workdir/name.csv`` (full
    precision) and ``workdir/name.md`` (4 significant digits); returns the CSV's file name."""
    if not rows:
        raise InputError(f"table {name}: no rows to write")
    workdir = Path(workdir)
    columns = list(rows[0])
    with open(workdir / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    (workdir / f"{name}.md").write_text("\n".join(lines) + "\n")
    return f"{name}.csv"
