"""JSON, exactly SPEC's shape: tool, findings, summary (schema: `JsonDocument`)."""

from __future__ import annotations

import json

from tenantlint.report_model import JsonDocument, Report


class JsonReporter:
    def render(
        self, report: Report, *, statistics: bool = False, quiet: bool = False, color: bool = False
    ) -> str:
        doc = JsonDocument(tool=report.tool, findings=report.findings, summary=report.summary)
        # SPEC's contract: `help` (text output) and `snippet` (fingerprints) are not in it
        data = doc.model_dump(exclude={"findings": {"__all__": {"help", "snippet"}}})
        return json.dumps(data, indent=2) + "\n"
