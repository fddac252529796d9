"""The audit report as one self-contained HTML page: inline CSS and SVG, no scripts, prints well."""

from __future__ import annotations

from collections import defaultdict
from html import escape

from tenantlint.report.model import AuditReport, EntityRow, FindingItem, Ratio, RlsInfo

CSS = """
:root { --fg:#1d2430; --muted:#5b6576; --line:#d9dee7; --bad:#c0392b; --warn:#b9770e;
  --ok:#1e8449; --info:#2e6da4; --bg2:#f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px;
  border-bottom: 2px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 20px 0 6px; }
nav a { margin-right: 14px; color: var(--info); text-decoration: none; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .value { font-size: 24px; font-weight: 600; } .card .label { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: var(--bg2); }
td code { word-break: break-all; }
.tag { display: inline-block; border-radius: 3px; padding: 0 5px; font-size: 12px; font-weight: 600; }
.c-scoped { background:#e3f1e8; color: var(--ok); } .c-root { background:#e4edf7; color: var(--info); }
.c-global { background:#eee; color:#444; } .c-unscoped { background:#fbe5e1; color: var(--bad); }
.c-via-parent { background:#eef3e3; color: var(--ok); }
.yes { color: var(--ok); font-weight: 600; } .no { color: var(--bad); font-weight: 600; }
.na { color: var(--muted); }
.sev-error { color: var(--bad); } .sev-warning { color: var(--warn); } .sev-info { color: var(--info); }
.finding { border: 1px solid var(--line); border-left: 4px solid var(--bad); border-radius: 4px;
  margin: 8px 0; padding: 6px 10px; break-inside: avoid; }
.finding.warning { border-left-color: var(--warn); } .finding.info { border-left-color: var(--info); }
.finding .where { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: var(--bg2); margin: 6px 0 0; padding: 6px; overflow-x: auto; font-size: 12px; }
pre .hl { background: #fde9a9; display: inline-block; width: 100%; }
pre .ln { color: var(--muted); user-select: none; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; }
details > summary { cursor: pointer; color: var(--muted); }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav { display: none; }
  h2 { break-after: avoid; }
  tr, .finding, svg { break-inside: avoid; }
  details > *:not(summary) { display: block; }
  a { color: inherit; text-decoration: none; }
}
"""


def render(report: AuditReport) -> str:
    """The whole page."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>tenantlint audit: {escape(report.project)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Tenancy audit: {escape(report.project)}</h1>",
        f'<p class="muted">tenantlint {escape(report.tool.version)}'
        f" · config: {escape(report.config or 'defaults')}"
        f" · {report.summary.files_scanned} files scanned</p>",
        '<nav><a href="#coverage">Coverage</a><a href="#models-section">Tenancy map</a>'
        '<a href="#findings">Findings</a><a href="#by-file">By file</a>'
        '<a href="#unverified">Unverified</a><a href="#suppressed">Suppressed</a></nav>',
        _summary(report),
        _coverage(report),
        _models(report.entities),
        _findings(report),
        _by_file(report),
        _unverified(report),
        _suppressed(report),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _card(value: object, label: str, ident: str) -> str:
    return f'<div class="card" id="{ident}"><div class="value">{escape(str(value))}</div><div class="label">{label}</div></div>'


def _summary(report: AuditReport) -> str:
    s = report.summary
    return (
        '<section id="summary"><div class="cards">'
        + "".join(
            [
                _card(s.findings, "findings", "summary-findings"),
                _card(s.unverified, "unverified sites", "summary-unverified"),
                _card(s.suppressed, "suppressed", "summary-suppressed"),
                _card(s.baselined, "baselined", "summary-baselined"),
                _card(len(report.entities), "tables / models", "summary-entities"),
            ]
        )
        + "</div></section>"
    )


# --- coverage and charts ---------------------------------------------------------------------


def _pct(r: Ratio) -> str:
    return f"{100 * r.count / r.total:.0f}%" if r.total else "n/a"


def _coverage(report: AuditReport) -> str:
    c = report.coverage
    q = c.queries
    rows = [
        ("rls", c.rls_forced_with_policy),
        ("raw-sql", c.raw_sql_in_wrapper),
        ("handlers", c.handlers_with_tenant_context),
    ]
    table = "".join(
        f'<tr id="coverage-{key}"><td>{escape(r.label)}</td><td class="count">{r.count} / {r.total}</td>'
        f"<td>{_pct(r)}</td></tr>"
        for key, r in rows
    )
    table += (
        f'<tr id="coverage-queries"><td>ORM queries of tenant-scoped models: scoped / unscoped / unverified'
        f'</td><td class="count">{q.scoped} / {q.unscoped} / {q.unverified}</td>'
        f"<td>{_pct(Ratio(count=q.scoped, total=q.scoped + q.unscoped + q.unverified, label=''))}</td></tr>"
    )
    charts = (
        '<div class="charts">'
        + _bar_chart("Findings per rule", report.summary.by_rule, "chart-rules")
        + _coverage_chart(report)
        + "</div>"
    )
    return (
        f'<section id="coverage"><h2>Coverage</h2><p>{c.tenant_tables} tenant-scoped tables.</p>'
        f"<table><tr><th>figure</th><th>count</th><th>share</th></tr>{table}</table>{charts}</section>"
    )


def _bar_chart(title: str, values: dict[str, int], ident: str) -> str:
    """Horizontal bars, one per key."""
    if not values:
        return f'<figure id="{ident}"><figcaption>{escape(title)}: none</figcaption></figure>'
    width, bar_h, label_w = 420, 18, 70
    top = max(values.values())
    height = len(values) * (bar_h + 6) + 6
    bars = []
    for i, (key, value) in enumerate(values.items()):
        y = 6 + i * (bar_h + 6)
        w = max(2, (width - label_w - 40) * value / top)
        bars.append(
            f'<text x="0" y="{y + 13}" font-size="12">{escape(key)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#c0392b"><title>{escape(key)}: {value}</title></rect>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="12">{value}</text>'
        )
    return (
        f'<figure id="{ident}"><figcaption>{escape(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}">{"".join(bars)}</svg></figure>'
    )


def _coverage_chart(report: AuditReport) -> str:
    """One 100 % bar per coverage figure: green covered, red not, grey unverified."""
    c = report.coverage
    q = c.queries
    rows: list[tuple[str, list[tuple[int, str]]]] = [
        ("RLS forced + policy", _split(c.rls_forced_with_policy)),
        (
            "queries scoped",
            [(q.scoped, "#1e8449"), (q.unscoped, "#c0392b"), (q.unverified, "#aab2bd")],
        ),
        ("raw SQL in wrapper", _split(c.raw_sql_in_wrapper)),
        ("handlers with context", _split(c.handlers_with_tenant_context)),
    ]
    width, bar_h, label_w, bar_w = 420, 18, 150, 250
    out = []
    for i, (label, segments) in enumerate(rows):
        y = 6 + i * (bar_h + 8)
        total = sum(n for n, _ in segments)
        out.append(f'<text x="0" y="{y + 13}" font-size="12">{escape(label)}</text>')
        if not total:
            out.append(
                f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h}" fill="#eef0f3"/>'
            )
            out.append(
                f'<text x="{label_w + 6}" y="{y + 13}" font-size="11" fill="#5b6576">none</text>'
            )
            continue
        x = float(label_w)
        for n, colour in segments:
            w = bar_w * n / total
            if w:
                out.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"><title>{n}</title></rect>'
                )
            x += w
    height = 6 + len(rows) * (bar_h + 8)
    return (
        '<figure id="chart-coverage"><figcaption>Coverage</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Coverage">{"".join(out)}</svg></figure>'
    )


def _split(r: Ratio) -> list[tuple[int, str]]:
    return [(r.count, "#1e8449"), (r.total - r.count, "#c0392b")]


# --- the tenancy map -------------------------------------------------------------------------


def _yn(value: bool | None) -> str:
    if value is None:
        return '<span class="na">—</span>'
    return '<span class="yes">yes</span>' if value else '<span class="no">no</span>'


def _models(entities: list[EntityRow]) -> str:
    head = (
        "<tr><th>model / table</th><th>source</th><th>classification</th><th>tenant column</th>"
        "<th>uniques</th><th>tenant index</th><th>RLS enabled</th><th>RLS forced</th>"
        "<th>policies by command</th></tr>"
    )
    rows = [
        f'<tr data-entity="{escape(e.name)}" data-classification="{e.classification}">'
        f"<td><b>{escape(e.name)}</b>"
        + (f' <span class="muted">({escape(e.table)})</span>' if e.table != e.name else "")
        + f'<br><code class="muted">{escape(e.path)}:{e.line}</code></td>'
        f"<td>{escape(', '.join(e.sources))}</td>"
        f'<td><span class="tag c-{e.classification}">{e.classification}</span>'
        f"{escape(f' through {e.parent}') if e.parent else ''}</td>"
        f"<td>{_tenant_cell(e)}</td><td>{_uniques_cell(e)}</td>"
        f"<td>{_yn(e.tenant_indexed) if e.tenant_column else _yn(None)}</td>"
        f"<td>{_yn(e.rls.enabled if e.rls else None)}</td><td>{_yn(e.rls.forced if e.rls else None)}</td>"
        f"<td>{_policies_cell(e.rls)}</td></tr>"
        for e in entities
    ]
    return (
        '<section id="models-section"><h2>Tenancy map</h2>'
        '<p class="muted">Uniques in red leave out the tenant column (TL102 decides which are '
        "exempt: generated ids, capability tokens). RLS columns come from the replayed "
        "migrations; “no SQL seen” means no migration creates the table.</p>"
        f'<table id="models">{head}{"".join(rows)}</table></section>'
    )


def _tenant_cell(e: EntityRow) -> str:
    if e.tenant_column is None:
        return '<span class="na">—</span>'
    nullable = ' <span class="no">nullable</span>' if e.tenant_nullable else ""
    return f"<code>{escape(e.tenant_column)}</code>{nullable}"


def _uniques_cell(e: EntityRow) -> str:
    items = []
    for u in e.uniques:
        if u.primary:
            continue
        mark = "yes" if u.includes_tenant or e.classification != "scoped" else "no"
        items.append(f'<code class="{mark}">({escape(", ".join(u.fields))})</code>')
    return " ".join(items) or '<span class="na">—</span>'


def _policies_cell(rls: RlsInfo | None) -> str:
    if rls is None:
        return '<span class="na">no SQL seen</span>'
    if not rls.policies:
        return '<span class="na">none</span>'
    cells = []
    tied = {p.name for p in rls.policies if p.ties_tenant}
    for cmd, names in rls.commands.items():
        if not names:
            cells.append(f'<span class="no">{cmd}: none</span>')
        else:
            shown = ", ".join(
                escape(n) + ("" if n in tied else " (not tenant-tied)") for n in names
            )
            cells.append(f"{cmd}: {shown}")
    return "<br>".join(cells)


# --- findings -------------------------------------------------------------------------------


def _excerpt(item: FindingItem) -> str:
    if not item.excerpt:
        return ""
    width = len(str(item.excerpt[-1].line))
    lines = [
        ('<span class="hl">' if x.flagged else "<span>")
        + f'<span class="ln">{x.line:>{width}} </span>{escape(x.text)}</span>'
        for x in item.excerpt
    ]
    return "<pre>" + "\n".join(lines) + "</pre>"


def _finding(item: FindingItem) -> str:
    f = item.finding
    return (
        f'<article class="finding {f.severity}" data-rule="{f.rule}" data-path="{escape(f.path)}" '
        f'data-line="{f.line}"><div><b class="sev-{f.severity}">{f.severity}</b> '
        f'<span class="where">{escape(f.path)}:{f.line}:{f.column}</span> — {escape(f.message)}</div>'
        f"{_excerpt(item)}</article>"
    )


def _findings(report: AuditReport) -> str:
    docs = {r.code: r for r in report.rules}
    by_rule: dict[str, list[FindingItem]] = defaultdict(list)
    for item in report.findings:
        by_rule[item.finding.rule].append(item)
    out = ['<section id="findings"><h2>Findings by rule</h2>']
    if not by_rule:
        out.append("<p>No findings.</p>")
    for code in sorted(by_rule):
        items = by_rule[code]
        doc = docs.get(code)
        title = f"{code} {escape(doc.name) if doc else ''}"
        out.append(f'<section class="rule" id="rule-{code}"><h3>{title} ({len(items)})</h3>')
        if doc:
            out.append(
                f"<p>{escape(doc.summary)}</p><details><summary>Why it matters</summary>"
                f"<p>{escape(doc.rationale)}</p></details>"
            )
        out += [_finding(i) for i in items]
        out.append("</section>")
    out.append("</section>")
    return "".join(out)


def _by_file(report: AuditReport) -> str:
    by_file: dict[str, list[str]] = defaultdict(list)
    for item in report.findings:
        by_file[item.finding.path].append(item.finding.rule)
    rows = "".join(
        f"<tr><td><code>{escape(path)}</code></td><td>{len(codes)}</td>"
        f"<td>{escape(', '.join(sorted(set(codes))))}</td></tr>"
        for path, codes in sorted(by_file.items())
    )
    return (
        '<section id="by-file"><h2>Findings by file</h2>'
        + (
            f"<table><tr><th>file</th><th>findings</th><th>rules</th></tr>{rows}</table>"
            if rows
            else "<p>None.</p>"
        )
        + "</section>"
    )


def _unverified(report: AuditReport) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(u.path)}:{u.line}</code></td><td>{escape(u.kind)}</td><td>{escape(u.reason)}</td></tr>"
        for u in report.unverified
    )
    return (
        '<section id="unverified"><h2>Unverified sites</h2>'
        '<p class="muted">Where the evidence runs out: not findings, but worth a reviewer\'s look.</p>'
        + (
            f"<table><tr><th>where</th><th>rule</th><th>why</th></tr>{rows}</table>"
            if rows
            else "<p>None.</p>"
        )
        + "</section>"
    )


NO_REASON = '<span class="no">no reason given</span>'


def _suppressed(report: AuditReport) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(s.finding.path)}:{s.finding.line}</code></td><td>{s.finding.rule}</td>"
        f"<td>{escape(s.finding.message)}</td><td>{escape(s.reason) or NO_REASON}</td></tr>"
        for s in report.suppressed
    )
    return (
        '<section id="suppressed"><h2>Suppressions</h2>'
        + (
            f"<table><tr><th>where</th><th>rule</th><th>finding</th><th>reason</th></tr>{rows}</table>"
            if rows
            else "<p>None.</p>"
        )
        + "</section>"
    )
