"""Baselines: record today's findings by fingerprint, report only new ones afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from tenantlint.errors import UserError
from tenantlint.rule import Finding


def load_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(f["fingerprint"]) for f in data["findings"]}
    except OSError as exc:
        raise UserError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path}: not a tenantlint baseline file") from None


def save_baseline(path: Path, findings: list[Finding]) -> None:
    entries = [
        {"rule": f.rule, "path": f.path, "fingerprint": f.fingerprint, "message": f.message}
        for f in findings
    ]
    try:
        path.write_text(
            json.dumps({"version": 1, "findings": entries}, indent=2) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise UserError(f"{path}: cannot write baseline: {exc.strerror}") from None
