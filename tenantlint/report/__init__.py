"""`tenantlint report`: the audit report a person reads (HTML, Markdown or JSON).

`model` holds the content as pydantic models (the JSON format, whose schema is published by
`tenantlint report --json-schema`); `html` and `markdown` render the same object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenantlint.engine import RunResult
    from tenantlint.report.model import AuditReport

FORMATS = ("html", "markdown", "json")


def _json(report: AuditReport) -> str:
    return report.model_dump_json(by_alias=True, indent=2) + "\n"


def _renderer(fmt: str) -> Callable[[AuditReport], str]:
    if fmt == "html":
        from tenantlint.report.html import render

        return render
    if fmt == "markdown":
        from tenantlint.report.markdown import render as render_md

        return render_md
    return _json


def render(result: RunResult, fmt: str = "html") -> str:
    """The report of a run, in one of FORMATS."""
    from tenantlint.report.model import build

    return _renderer(fmt)(build(result))


def schema_text() -> str:
    """The JSON schema of `--format json`, generated from the pydantic models."""
    from tenantlint.report.model import json_schema

    return json.dumps(json_schema(), indent=2) + "\n"
