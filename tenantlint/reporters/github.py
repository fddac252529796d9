"""GitHub Actions workflow commands: one `::error file=…,line=…::…` annotation per finding."""

from __future__ import annotations

from tenantlint.report_model import Report
from tenantlint.reporters.escape import github_value as _escape
from tenantlint.reporters.paths import PathStyle

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


class GithubReporter:
    def render(
        self, report: Report, *, statistics: bool = False, quiet: bool = False, color: bool = False
    ) -> str:
        paths = PathStyle.of(report.root)  # the runner resolves `file` from the repository
        lines = [
            f"::{_LEVEL[f.severity]} file={_escape(paths.in_repo(f.path), True)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={_escape(f'{f.rule} {f.name}', True)}"
            f"::{_escape(f.message)}"
            for f in report.findings
        ]
        return "".join(line + "\n" for line in lines)
