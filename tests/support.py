"""Shared test helpers: inline `expect:` markers and running the CLI on a project."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tenantlint.cli import main
from tenantlint.registry import load_registry

MARKER = re.compile(r"expect:\s*(TL\d{3}(?:\s*,\s*TL\d{3})*)")
SKIP_DIRS = {"node_modules", ".git", ".tenantlint_cache", "__pycache__"}

Expected = set[tuple[str, int, str]]


def expected_markers(root: Path, codes: set[str] | None = None) -> Expected:
    """Every `expect: TLnnn` marker under root as (path, line, code)."""
    found: Expected = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            path = Path(dirpath, name)
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            rel = path.relative_to(root).as_posix()
            for n, line in enumerate(text.splitlines(), 1):
                for m in MARKER.finditer(line):
                    for code in re.split(r"\s*,\s*", m[1]):
                        if codes is None or code in codes:
                            found.add((rel, n, code))
    return found


def run_check(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """`tenantlint check ROOT --format json ARGS…` in-process; returns exit code and JSON."""
    result = CliRunner().invoke(main, ["check", str(root), "--format", "json", "--no-cache", *args])
    assert result.exit_code in (0, 1), result.output + str(result.exception)
    return result.exit_code, json.loads(result.stdout)


def actual_findings(data: dict[str, Any]) -> Expected:
    return {(f["path"], f["line"], f["rule"]) for f in data["findings"]}


def known_codes() -> set[str]:
    return set(load_registry().rules)


def write_project(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    if not any(rel in ("tenantlint.toml", "pyproject.toml") for rel in files):
        (root / "tenantlint.toml").write_text("", encoding="utf-8")
    return root
