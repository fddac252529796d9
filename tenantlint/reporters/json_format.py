"""JSON, exactly SPEC's shape: tool, findings, summary."""

from __future__ import annotations

import json

from tenantlint.report_model import Report


class JsonReporter:
    def render(self, report: Report, *, statistics: bool = False, quiet: bool = False) -> str:
        data = report.model_dump(
            include={"tool", "findings", "summary"}, exclude={"findings": {"__all__": {"snippet"}}}
        )
        return json.dumps(data, indent=2) + "\n"
