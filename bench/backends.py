"""What every backend-comparing benchmark does around its own measurements: run on a fresh
SQLite file and, when a PostgreSQL URL is given, on a database of its own that is dropped
afterwards; print each backend's figures as they come, and keep them in bench/results/."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.noshow_report import postgres_database

RESULTS = Path(__file__).resolve().parent / "results"


def on_each_backend(
    run: Callable[[str, str], dict], *, postgres: str | None, sqlite: bool = True
) -> list[dict]:
    """`run(database_url, backend_name)` on each backend; their figures, in order."""
    results = []
    if sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{tmp}/bench.db", "sqlite"))
            print(json.dumps(results[-1], indent=2), flush=True)
    if postgres:
        url, drop = postgres_database(postgres)
        try:
            results.append(run(url, "postgresql"))
            print(json.dumps(results[-1], indent=2), flush=True)
        finally:
            drop()
    return results


def save_results(name: str, results: list[dict]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2))
    return path


def main(run: Callable[[str, str], dict], name: str, description: str) -> None:
    """The command line: --postgres URL (default TEST_DATABASE_URL), --no-sqlite."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    save_results(name, on_each_backend(run, postgres=args.postgres, sqlite=not args.no_sqlite))


class Clock:
    """Wall and CPU time of one phase (with Clock() as phase: ...), and the rates they give."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rates(self, count: int) -> dict:
        return {"per_second": round(count / self.wall), "per_cpu_second": round(count / self.cpu)}
