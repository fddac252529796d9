"""Throughput of the SQL front end and of the embedded-SQL analyser on real SQL files.

    python bench/bench_sql.py PROJECT_ROOT [PROJECT_ROOT ...]

Every `*.sql` under each root is read by the SQL front end (as the project's migrations or
not, by path); then every statement is given to the analyser, with a cold cache. Imports are
warmed first; each figure is the best of three runs. Prints files/s and statements/s, one line
per root, and the parse errors (TL001) found.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import sqlglot

from tenantlint.config import Config
from tenantlint.frontends.sql import SqlFrontEnd
from tenantlint.frontends.sql.scan import scan
from tenantlint.sqlanalysis import _analyse, analyse_sql


def bench(root: Path) -> None:
    paths = sorted(p for p in root.rglob("*.sql") if "node_modules" not in p.parts)
    texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in paths}
    frontend, config = SqlFrontEnd(), Config()
    statements = sum(len(scan(t)[0]) for t in texts.values())
    frontend.parse(
        "warm/up.sql", "CREATE TABLE w (a int); ALTER TABLE w ENABLE ROW LEVEL SECURITY;", config
    )
    front = float("inf")
    for _ in range(3):  # best of three: the machine is shared
        start = time.perf_counter()
        facts = [frontend.parse(rel, text, config) for rel, text in texts.items()]
        front = min(front, time.perf_counter() - start)
    migrations = [f for f in facts if f.migration]
    migration_statements = sum(len(scan(texts[f.path])[0]) for f in migrations)
    chunks = [c.text for t in texts.values() for c in scan(t)[0]]
    analyser = float("inf")
    for _ in range(3):
        _analyse.cache_clear()
        start = time.perf_counter()
        parsed = sum(analyse_sql(c)[0] for c in chunks)
        analyser = min(analyser, time.perf_counter() - start)
    baseline = float("inf")
    for _ in range(3):  # the same statements through sqlglot alone, as a yardstick
        start = time.perf_counter()
        for c in chunks:
            with contextlib.suppress(sqlglot.errors.SqlglotError):
                sqlglot.parse_one(c, read="postgres")
        baseline = min(baseline, time.perf_counter() - start)
    print(
        f"{root.name}: {len(texts)} files ({len(migrations)} migrations), {statements} statements "
        f"({migration_statements} in migrations); front end {front:.2f}s = "
        f"{len(texts) / front:.0f} files/s, {statements / front:.0f} statements/s; "
        f"analyser {len(chunks) / analyser:.0f} statements/s ({parsed}/{len(chunks)} understood); "
        f"sqlglot.parse_one alone {len(chunks) / baseline:.0f} statements/s"
    )
    for f in facts:
        for err in f.parse_errors:
            print(f"  TL001 {f.path}:{err.loc.line}: {err.message}")


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["."]:
        bench(Path(arg))
