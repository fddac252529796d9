"""A run on one file (as pre-commit makes it) reports exactly what a full run reports for that
file — from a warm cache, where the other files' facts are loaded as context only."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantlint.cli import main
from tenantlint.discovery import discover

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = sorted(p for p in FIXTURES.iterdir() if (p / "tenantlint.toml").is_file())


def findings(*args: str) -> list[tuple[str, int, int, str, str]]:
    result = CliRunner().invoke(main, ["check", "--format", "json", "--jobs", "1", *args])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    return [
        (f["path"], f["line"], f["column"], f["rule"], f["fingerprint"]) for f in data["findings"]
    ]


@pytest.mark.parametrize("fixture", PROJECTS, ids=[p.name for p in PROJECTS])
def test_each_file_alone_matches_the_full_run(fixture: Path, tmp_path: Path) -> None:
    root = tmp_path / fixture.name
    shutil.copytree(fixture, root, ignore=shutil.ignore_patterns(".tenantlint_cache"))
    full: dict[str, list[tuple[str, int, int, str, str]]] = defaultdict(list)
    for f in findings(str(root)):  # cold: fills the cache
        full[f[0]].append(f)
    files = discover(root)
    assert files
    for rel in files:
        assert findings(str(root / rel)) == full.get(rel, []), rel
