"""Metric records (``{"step": int, name: float, ...}``) written as JSON lines while training
and as one CSV per kind of record (training windows, evaluations) on every flush."""

import csv
import json
from pathlib import Path

import numpy as np


class MetricsLogger:
    """Keeps the records in memory and, when ``directory`` is given, in
    ``directory/<name>.jsonl`` (appended, each line with its ``kind``) and one CSV per kind,
    rewritten on ``flush``: ``<name>.csv`` for training records, ``<name>_<kind>.csv`` for the
    others (``eval``), so no CSV mixes sparse columns or repeats a step."""

    def __init__(self, directory=None, name: str = "metrics"):
        self.records: list[dict] = []
        self.kinds: list[str] = []  # the kind of each record
        self.directory, self.name = (
            (Path(directory), name) if directory is not None else (None, name)
        )
        self.jsonl = None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.jsonl = self.directory / f"{name}.jsonl"

    @property
    def csv(self) -> Path | None:
        """The training records' CSV."""
        return self.csv_of("train")

    def csv_of(self, kind: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / (
            f"{self.name}.csv" if kind == "train" else f"{self.name}_{kind}.csv"
        )

    def resume(self, step: int):
        """Reload the records of an interrupted run up to ``step`` (later ones are dropped:
        the resumed run logs them again)."""
        if self.jsonl is None or not self.jsonl.exists():
            return
        lines = [json.loads(line) for line in self.jsonl.read_text().splitlines() if line]
        kept = [r for r in lines if r["step"] <= step]
        self.kinds = [r.pop("kind", "train") for r in kept]
        self.records = kept
        self.jsonl.write_text(
            "".join(json.dumps({"kind": k, **r}) + "\n" for k, r in zip(self.kinds, kept))
        )

    def log(self, step: int, metrics: dict, kind: str = "train") -> dict:
        record = {"step": int(step), **{k: float(v) for k, v in metrics.items()}}
        self.records.append(record)
        self.kinds.append(kind)
        if self.jsonl is not None:
            with open(self.jsonl, "a") as f:
                f.write(json.dumps({"kind": kind, **record}) + "\n")
        return record

    def flush(self):
        """Rewrite each kind's CSV from its records."""
        if self.directory is None:
            return
        for kind in dict.fromkeys(self.kinds):
            rows = [r for r, k in zip(self.records, self.kinds) if k == kind]
            columns = list(dict.fromkeys(key for r in rows for key in r))
            with open(self.csv_of(kind), "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)

    def series(self, name: str) -> tuple[list[int], list[float]]:
        """(steps, values) of metric ``name`` over the records that have it."""
        rows = [(r["step"], r[name]) for r in self.records if name in r]
        return [s for s, _ in rows], [v for _, v in rows]


class SeedLoggers:
    """The logger of a run over stacked seeds: a ``MetricsLogger`` per seed
    (``<name>_seed<s>`` files) behind the interface ``loop.fit`` uses. ``log`` takes metrics of
    shape (S,) (or scalars, shared by every seed); ``records`` are the seeds' records zipped,
    each metric an (S,) array."""

    def __init__(self, directory, name: str, seeds):
        self.seeds = tuple(seeds)
        self.loggers = [MetricsLogger(directory, name=f"{name}_seed{s}") for s in self.seeds]

    def log(self, step: int, metrics: dict, kind: str = "train") -> dict:
        values = {k: np.broadcast_to(np.asarray(v), (len(self.seeds),)) for k, v in metrics.items()}
        for i, logger in enumerate(self.loggers):
            logger.log(step, {k: v[i] for k, v in values.items()}, kind)
        return {"step": int(step), **values}

    def resume(self, step: int):
        for logger in self.loggers:
            logger.resume(step)

    def flush(self):
        for logger in self.loggers:
            logger.flush()

    @property
    def records(self) -> list[dict]:
        return [
            {k: (r[0][k] if k == "step" else np.array([x[k] for x in r])) for k in r[0]}
            for r in zip(*(logger.records for logger in self.loggers))
        ]

    def series(self, name: str) -> tuple[list[int], np.ndarray]:
        """(steps, values (T, S)) of metric ``name`` over the records that have it."""
        per_seed = [logger.series(name) for logger in self.loggers]
        return per_seed[0][0], np.array([values for _, values in per_seed]).T
