"""ruff-like text: `path:line:col: CODE message`, a code excerpt, and a summary line."""

from __future__ import annotations

from collections import Counter

from tenantlint.report_model import Report
from tenantlint.reporters.escape import printable
from tenantlint.reporters.paths import PathStyle


class TextReporter:
    def render(self, report: Report, *, statistics: bool = False, quiet: bool = False) -> str:
        out: list[str] = []
        paths = PathStyle.of(report.root)
        for f in report.findings:
            out.append(
                f"{printable(paths.shown(f.path))}:{f.line}:{f.column}: {f.rule} [{f.severity}] {printable(f.message)}"
            )
            source = None if quiet else report.source_line(f.path, f.line)
            if source is not None and source.strip():
                width = max(
                    1,
                    (f.end_column - f.column)
                    if f.end_line == f.line
                    else len(source) - f.column + 1,
                )
                out.append(f"  {f.line:>4} | {source}")
                out.append(f"       | {' ' * (f.column - 1)}{'^' * width}")
        if statistics:
            out += ["", *_statistics(report)]
        if not quiet or report.findings:
            out.append(summary_line(report))
        return "\n".join(out) + "\n"


def _statistics(report: Report) -> list[str]:
    names = {r.code: r.name for r in report.rules}
    counts = Counter(f.rule for f in report.findings)
    return [f"{n:>5}  {code}  {names.get(code, '')}" for code, n in sorted(counts.items())]


def summary_line(report: Report) -> str:
    s = report.summary
    sev = Counter(f.severity for f in report.findings)
    if not s.findings:
        head = f"No findings in {s.files_scanned} file{'s' * (s.files_scanned != 1)}"
    else:
        parts = ", ".join(
            f"{n} {k}{'s' * (n != 1)}" for k in ("error", "warning", "info") if (n := sev[k])
        )
        files = f"{s.files_scanned} file{'s' * (s.files_scanned != 1)}"
        head = f"Found {s.findings} finding{'s' * (s.findings != 1)} ({parts}) in {files}"
    extra = [f"{n} {k}" for k, n in (("suppressed", s.suppressed), ("baselined", s.baselined)) if n]
    return head + (f"; {', '.join(extra)}" if extra else "") + "."
