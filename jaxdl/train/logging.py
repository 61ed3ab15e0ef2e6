"""Metric records (``{"step": int, name: float, ...}``) written as JSON lines while training
and as one CSV (union of columns) on every flush."""

import csv
import json
from pathlib import Path


class MetricsLogger:
    """Keeps the records in memory and, when ``directory`` is given, in
    ``directory/metrics.jsonl`` (appended) and ``directory/metrics.csv`` (rewritten)."""

    def __init__(self, directory=None, name: str = "metrics"):
        self.records: list[dict] = []
        self.jsonl = self.csv = None
        if directory is not None:
            Path(directory).mkdir(parents=True, exist_ok=True)
            self.jsonl = Path(directory) / f"{name}.jsonl"
            self.csv = Path(directory) / f"{name}.csv"

    def resume(self, step: int):
        """Reload the records of an interrupted run up to ``step`` (later ones are dropped:
        the resumed run logs them again)."""
        if self.jsonl is None or not self.jsonl.exists():
            return
        lines = self.jsonl.read_text().splitlines()
        self.records = [r for r in map(json.loads, filter(None, lines)) if r["step"] <= step]
        self.jsonl.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def log(self, step: int, metrics: dict) -> dict:
        record = {"step": int(step), **{k: float(v) for k, v in metrics.items()}}
        self.records.append(record)
        if self.jsonl is not None:
            with open(self.jsonl, "a") as f:
                f.write(json.dumps(record) + "\n")
        return record

    def flush(self):
        """Rewrite the CSV from all records."""
        if self.csv is None or not self.records:
            return
        columns = list(dict.fromkeys(k for r in self.records for k in r))
        with open(self.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.records)

    def series(self, name: str) -> tuple[list[int], list[float]]:
        """(steps, values) of metric ``name`` over the records that have it."""
        rows = [(r["step"], r[name]) for r in self.records if name in r]
        return [s for s, _ in rows], [v for _, v in rows]
