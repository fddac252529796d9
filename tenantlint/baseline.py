"""Baselines: record today's findings by fingerprint, report only new ones afterwards.

A fingerprint hashes the rule, the path, the normalised source of the flagged node and its
occurrence index among identical ones (engine._fingerprinted), so it survives lines inserted
above and reformatted neighbours, while a moved or renamed file reports its findings as new.
The file is JSON, sorted, one entry per finding, so it diffs well in review.
"""

from __future__ import annotations

import json
from pathlib import Path

from tenantlint.atomic import write_atomic
from tenantlint.errors import UserError
from tenantlint.rule import Finding

VERSION = 1


def load_baseline(path: Path) -> set[str]:
    """The fingerprints recorded in a baseline file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{path}: not a tenantlint baseline file (invalid JSON)") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise UserError(f"{path}: not a tenantlint baseline file (expected version {VERSION})")
    try:
        return {str(f["fingerprint"]) for f in data["findings"]}
    except (KeyError, TypeError):
        raise UserError(f"{path}: not a tenantlint baseline file (bad 'findings')") from None


def save_baseline(path: Path, findings: list[Finding]) -> None:
    """Write every finding's fingerprint (with rule, path and message for the reader)."""
    entries = sorted(
        (
            {"rule": f.rule, "path": f.path, "fingerprint": f.fingerprint, "message": f.message}
            for f in findings
        ),
        key=lambda e: (e["path"], e["rule"], e["fingerprint"]),
    )
    text = json.dumps({"version": VERSION, "findings": entries}, indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
    except OSError as exc:
        raise UserError(f"{path}: cannot write baseline: {exc.strerror}") from None
