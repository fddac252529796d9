"""Markdown: a summary and a findings table, for a PR comment or a CI job summary."""

from __future__ import annotations

from tenantlint.report_model import Report
from tenantlint.reporters.escape import md_code, md_text
from tenantlint.reporters.paths import PathStyle
from tenantlint.reporters.text import summary_line


class MarkdownReporter:
    def render(
        self, report: Report, *, statistics: bool = False, quiet: bool = False, color: bool = False
    ) -> str:
        out = ["## tenantlint", "", summary_line(report), ""]
        if report.findings:
            paths = PathStyle.of(report.root)
            out += ["| Severity | Rule | Location | Message |", "| --- | --- | --- | --- |"]
            out += [
                f"| {f.severity} | `{f.rule}` {f.name} | {md_code(f'{paths.shown(f.path)}:{f.line}')} | {md_text(f.message)} |"
                for f in report.findings
            ]
        return "\n".join(out) + "\n"
