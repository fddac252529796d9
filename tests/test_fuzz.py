"""A short, deterministic run of the fuzz harness (bench/fuzz.py) over every front end.

Mutated fixture files go through the real CLI in fresh processes: no crash, no hang, and no file
that the language's own parser rejects may pass without a TL001 or anything else to show for it.
The long runs (thousands of files per front end) are done by hand: docs/reliability.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _fuzz_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_fuzz", BENCH / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


fuzz = _fuzz_module()


def _allowed_silent(problem: Any) -> bool:
    """psql's syntax, which the oracle (pglast over the whole file) takes for PostgreSQL's: a line
    that starts with `\\` is a psql meta-command, and `:name` a psql variable, not SQL
    (tenantlint/frontends/sql/scan.py, frontend.py)."""
    detail = str(problem.detail)
    return problem.frontend == "sql" and ('at or near "\\"' in detail or 'at or near ":"' in detail)


@pytest.fixture(scope="module")
def campaign() -> Any:
    opts = fuzz.Options(seed=7, files_per_frontend=20, batch_size=20, timeout=30.0, parallel=2)
    return fuzz.fuzz(opts)


def test_every_front_end_was_fuzzed(campaign: Any) -> None:
    tallies = campaign.tallies
    assert set(tallies) == {"prisma", "sql", "typescript", "python"}
    for name, tally in tallies.items():
        assert tally.files == 20, name
        assert tally.rejected > 0, f"{name}: no mutant broke the syntax, the mutations are too mild"


def test_no_crash_and_no_hang(campaign: Any) -> None:
    problems = [p for p in campaign.problems if p.kind != "silent"]
    assert problems == []
    for name, tally in campaign.tallies.items():
        assert (tally.crashes, tally.hangs) == (0, 0), name


def test_no_broken_file_is_passed_over_silently(campaign: Any) -> None:
    silent = [p for p in campaign.problems if p.kind == "silent"]
    assert [p for p in silent if not _allowed_silent(p)] == []
