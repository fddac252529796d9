"""The audit report as Markdown: fits a PR comment or a CI job summary (GitHub-flavoured tables).

Everything taken from the project (names, paths, messages, reasons) goes through `md_text` or
`md_code`: shown as written, never as HTML or Markdown.
"""

from __future__ import annotations

from tenantlint.report.model import AuditReport, EntityRow, Ratio
from tenantlint.reporters.escape import md_code, md_text

MAX_ROWS = 200  # keeps a PR comment under GitHub's size limit on big projects


def _yn(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "**no**")


def _ratio(r: Ratio) -> str:
    share = f" ({100 * r.count / r.total:.0f}%)" if r.total else ""
    return f"{r.count} / {r.total}{share}"


def _capped(rows: list[str], total: int) -> list[str]:
    if total > MAX_ROWS:
        return [
            *rows[:MAX_ROWS],
            "",
            f"*… and {total - MAX_ROWS} more (see the HTML or JSON report).*",
        ]
    return rows


def render(report: AuditReport) -> str:
    s, c = report.summary, report.coverage
    out = [
        f"# Tenancy audit: {md_text(report.project)}",
        "",
        f"tenantlint {report.tool.version} · {s.files_scanned} files · **{s.findings} findings** · "
        f"{s.unverified} unverified · {s.suppressed} suppressed · {s.baselined} baselined",
        "",
        "## Coverage",
        "",
        "| figure | count |",
        "| --- | --- |",
        f"| tenant-scoped tables | {c.tenant_tables} |",
        f"| {c.rls_forced_with_policy.label} | {_ratio(c.rls_forced_with_policy)} |",
        f"| ORM queries of tenant-scoped models: scoped / unscoped / unverified | "
        f"{c.queries.scoped} / {c.queries.unscoped} / {c.queries.unverified} |",
        f"| {c.raw_sql_in_wrapper.label} | {_ratio(c.raw_sql_in_wrapper)} |",
        f"| {c.handlers_with_tenant_context.label} | {_ratio(c.handlers_with_tenant_context)} |",
        "",
    ]
    if s.by_rule:
        out += ["| rule | findings |", "| --- | --- |"]
        out += [f"| `{code}` | {n} |" for code, n in s.by_rule.items()]
        out.append("")
    out += [
        "## Tenancy map",
        "",
        _models_header(),
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    out += _capped([_model_row(e) for e in report.entities], len(report.entities))
    out += ["", "## Findings", ""]
    if report.findings:
        out += ["| severity | rule | location | message |", "| --- | --- | --- | --- |"]
        rows = [
            f"| {f.severity} | `{f.rule}` {f.name} | {md_code(f'{f.path}:{f.line}')} | {md_text(f.message)} |"
            for f in (i.finding for i in report.findings)
        ]
        out += _capped(rows, len(rows))
    else:
        out.append("No findings.")
    out += ["", "## Unverified sites", ""]
    if report.unverified:
        out += ["| location | rule | why |", "| --- | --- | --- |"]
        rows = [
            f"| {md_code(f'{u.path}:{u.line}')} | {md_code(u.kind)} | {md_text(u.reason)} |"
            for u in report.unverified
        ]
        out += _capped(rows, len(rows))
    else:
        out.append("None.")
    out += ["", "## Suppressions", ""]
    if report.suppressed:
        out += ["| location | rule | reason |", "| --- | --- | --- |"]
        rows = [
            f"| {md_code(f'{x.finding.path}:{x.finding.line}')} | `{x.finding.rule}` | {md_text(x.reason) or '**no reason given**'} |"
            for x in report.suppressed
        ]
        out += _capped(rows, len(rows))
    else:
        out.append("None.")
    return "\n".join(out) + "\n"


def _models_header() -> str:
    return "| model / table | classification | tenant column | uniques without tenant | tenant index | RLS enabled | RLS forced | policies |"


def _model_row(e: EntityRow) -> str:
    name = md_text(e.name) + ("" if e.table == e.name else f" ({md_code(e.table)})")
    tenant = (
        "—"
        if e.tenant_column is None
        else md_code(e.tenant_column) + (" **nullable**" if e.tenant_nullable else "")
    )
    bad_uniques = [
        "(" + ", ".join(u.fields) + ")"
        for u in e.uniques
        if not u.primary and not u.includes_tenant and e.classification == "scoped"
    ]
    policies = "—"
    if e.rls is not None:
        policies = (
            ", ".join(f"{md_text(p.name)} ({md_text(p.command)})" for p in e.rls.policies)
            or "**none**"
        )
    return (
        f"| {name} | {e.classification} | {tenant} | {md_text(' '.join(bad_uniques)) or '—'} | "
        f"{_yn(e.tenant_indexed) if e.tenant_column else '—'} | {_yn(e.rls.enabled if e.rls else None)} | "
        f"{_yn(e.rls.forced if e.rls else None)} | {policies} |"
    )
