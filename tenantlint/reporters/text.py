"""ruff-like text: `path:line:col: CODE message`, a code excerpt, the fix (`help:`) and where the
rule is explained (`docs:`), and a summary line; in colour when asked to."""

from __future__ import annotations

from collections import Counter

import click

from tenantlint.report_model import Report
from tenantlint.reporters.escape import printable
from tenantlint.reporters.paths import PathStyle
from tenantlint.rule import Finding

_SEVERITY_COLOUR = {"error": "red", "warning": "yellow", "info": "cyan"}


class TextReporter:
    def render(
        self, report: Report, *, statistics: bool = False, quiet: bool = False, color: bool = False
    ) -> str:
        def paint(text: str, fg: str | None = None, bold: bool = False) -> str:
            return click.style(text, fg=fg, bold=bold or None) if color else text

        out: list[str] = []
        paths = PathStyle.of(report.root)
        for f in report.findings:
            tone = _SEVERITY_COLOUR[f.severity]
            out.append(
                f"{paint(printable(paths.shown(f.path)), bold=True)}:{f.line}:{f.column}: "
                f"{paint(f'{f.rule} [{f.severity}]', fg=tone, bold=True)} {printable(f.message)}"
            )
            if quiet:
                continue
            source = report.source_line(f.path, f.line)
            if source is not None and source.strip():
                out.append(f"  {f.line:>4} | {source}")
                out.append(
                    f"       | {' ' * (f.column - 1)}{paint('^' * _width(f, source), fg=tone)}"
                )
            if f.help:
                out.append(f"       = {paint('help', fg='cyan', bold=True)}: {printable(f.help)}")
            out.append(f"       = {paint('docs', bold=True)}: tenantlint explain {f.rule}")
        if statistics:
            out += ["", *_statistics(report)]
        if not quiet or report.findings:
            out.append(paint(summary_line(report), bold=True))
        return "\n".join(out) + "\n"


def _width(f: Finding, source: str) -> int:
    """How many carets: the flagged range on its first line."""
    return max(1, (f.end_column - f.column) if f.end_line == f.line else len(source) - f.column + 1)


def _statistics(report: Report) -> list[str]:
    names = {r.code: r.name for r in report.rules}
    counts = Counter(f.rule for f in report.findings)
    return [f"{n:>5}  {code}  {names.get(code, '')}" for code, n in sorted(counts.items())]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def summary_line(report: Report) -> str:
    """`Found 37 findings (30 errors, 7 warnings) in 15 files (26 scanned); 1 suppressed.`"""
    s = report.summary
    if not s.files_scanned:
        head = "No files checked"
    elif not s.findings:
        head = f"No findings in {_plural(s.files_scanned, 'file')}"
    else:
        sev = Counter(f.severity for f in report.findings)
        parts = ", ".join(_plural(sev[k], k) for k in ("error", "warning", "info") if sev[k])
        files = _plural(len({f.path for f in report.findings}), "file")
        head = f"Found {_plural(s.findings, 'finding')} ({parts}) in {files} ({s.files_scanned} scanned)"
    extra = [f"{n} {k}" for k, n in (("suppressed", s.suppressed), ("baselined", s.baselined)) if n]
    return head + (f"; {', '.join(extra)}" if extra else "") + "."
