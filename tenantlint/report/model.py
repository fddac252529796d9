"""The audit report's content, as pydantic models: the JSON format and its published schema.

Built once from a `RunResult`; the HTML and Markdown renderers read the same object, so the
three formats always carry the same content.
"""

from __future__ import annotations

from collections import Counter
from itertools import islice
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantlint import __version__
from tenantlint.discovery import os_path
from tenantlint.engine import RunResult
from tenantlint.facts import QuerySite
from tenantlint.registry import load_registry
from tenantlint.rule import Finding
from tenantlint.tenancy import EntityInfo, TenancyMap

SCHEMA_ID = "https://tenantlint.dev/schema/audit-report-1.json"
EXCERPT_CONTEXT = 2  # lines shown before and after a finding
EXCERPT_MAX = 12


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tool(_Model):
    name: Literal["tenantlint"] = "tenantlint"
    version: str = __version__


class Ratio(_Model):
    """`count` of `total` (a coverage figure)."""

    count: int
    total: int
    label: str


class QueryCoverage(_Model):
    """ORM queries of tenant-scoped models, by the tenant evidence found at the call."""

    scoped: int  # a tenant predicate, scope helper, RLS-scoped client or proven check
    unscoped: int
    unverified: int  # pass-through criteria or a filter that cannot be resolved statically


class Coverage(_Model):
    tenant_tables: int
    rls_forced_with_policy: Ratio  # tenant tables with RLS enabled, forced and a tenant policy
    queries: QueryCoverage
    raw_sql_in_wrapper: Ratio
    handlers_with_tenant_context: Ratio


class UniqueInfo(_Model):
    fields: list[str]
    primary: bool
    includes_tenant: bool


class PolicyInfo(_Model):
    name: str
    command: str
    permissive: bool
    roles: list[str]
    using: str | None
    with_check: str | None
    ties_tenant: bool  # USING or WITH CHECK ties the tenant column to a session setting
    path: str
    line: int


class RlsInfo(_Model):
    """What the replayed migrations (or the live catalog) say; absent when nothing does."""

    enabled: bool
    forced: bool
    policies: list[PolicyInfo]
    commands: dict[str, list[str]]  # SELECT/INSERT/UPDATE/DELETE → names of policies covering it


class EntityRow(_Model):
    name: str
    table: str
    sources: list[str]  # prisma, sqlalchemy, django, sql, db …
    classification: Literal["root", "scoped", "via-parent", "global", "unscoped"]
    parent: str | None = None  # via-parent: the relation that leads to the tenant-scoped parent
    tenant_column: str | None
    tenant_nullable: bool
    uniques: list[UniqueInfo]
    tenant_indexed: bool  # an index, unique or primary key leads with the tenant column
    rls: RlsInfo | None
    path: str
    line: int


class ExcerptLine(_Model):
    line: int
    text: str
    flagged: bool


class FindingItem(_Model):
    finding: Finding
    excerpt: list[ExcerptLine]


class SuppressedItem(_Model):
    finding: Finding
    reason: str  # empty when the suppression gives none


class UnverifiedItem(_Model):
    path: str
    line: int
    kind: str  # the rule that could not decide, or `skipped`: a file that was not analysed
    reason: str


class RuleDoc(_Model):
    code: str
    name: str
    severity: str
    summary: str
    rationale: str


class Summary(_Model):
    files_scanned: int
    findings: int
    suppressed: int
    baselined: int
    unverified: int
    by_rule: dict[str, int]
    by_severity: dict[str, int]


class AuditReport(_Model):
    """`tenantlint report --format json`; its schema: `tenantlint report --json-schema`."""

    schema_: str = Field(default=SCHEMA_ID, alias="$schema")
    tool: Tool = Tool()
    project: str  # the root folder's name
    config: str | None  # the config file, relative to the root
    summary: Summary
    coverage: Coverage
    entities: list[EntityRow]
    findings: list[FindingItem]
    suppressed: list[SuppressedItem]
    unverified: list[UnverifiedItem]
    rules: list[RuleDoc]  # every rule that ran


def json_schema() -> dict[str, object]:
    schema = AuditReport.model_json_schema(by_alias=True)
    schema["$id"] = SCHEMA_ID
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def build(result: RunResult) -> AuditReport:
    """The audit report of one run."""
    registry = load_registry()
    findings = result.findings
    return AuditReport(
        project=result.project.root.name,
        config=result.project.config_path,
        summary=Summary(
            files_scanned=result.files_scanned,
            findings=len(findings),
            suppressed=len(result.suppressed),
            baselined=len(result.baselined),
            unverified=len(result.unverified),
            by_rule=dict(sorted(Counter(f.rule for f in findings).items())),
            by_severity=dict(sorted(Counter(f.severity for f in findings).items())),
        ),
        coverage=coverage(result.tmap),
        entities=[
            _entity_row(info, result.tmap)
            for info in sorted(result.tmap.entities, key=_entity_order)
        ],
        findings=[FindingItem(finding=f, excerpt=_excerpt(result, f)) for f in findings],
        suppressed=[SuppressedItem(finding=s.finding, reason=s.reason) for s in result.suppressed],
        unverified=sorted(
            (
                UnverifiedItem(path=u.loc.path, line=u.loc.line, kind=u.kind, reason=u.reason)
                for u in result.unverified
            ),
            key=lambda u: (u.path, u.line, u.kind),
        ),
        rules=[
            RuleDoc(
                code=r.code,
                name=r.name,
                severity=r.severity,
                summary=r.summary,
                rationale=r.rationale,
            )
            for r in (registry.rules[c] for c in result.enabled)
        ],
    )


# --- the tenancy map, table by table ---------------------------------------------------------


def _entity_order(info: EntityInfo) -> tuple[int, str]:
    rank = {"unscoped": 0, "scoped": 1, "via-parent": 2, "root": 3, "global": 4}
    return rank[info.classification], info.name.lower()


def _entity_row(info: EntityInfo, tmap: TenancyMap) -> EntityRow:
    tenant = info.tenant_field
    tenant_col = tenant.column if tenant else None
    keys = [(list(i.fields), i.primary) for i in info.indexes if i.unique or i.primary]
    keys += [([f.name], f.is_id) for f in info.fields if f.unique or f.is_id]
    uniques: dict[frozenset[str], UniqueInfo] = {}
    for fields, primary in keys:
        columns = frozenset(info.column_of(n) for n in fields)
        uniques.setdefault(
            columns,
            UniqueInfo(fields=fields, primary=primary, includes_tenant=tenant_col in columns),
        )
    indexed = tenant_col is not None and (
        any(i.fields and info.column_of(i.fields[0]) == tenant_col for i in info.indexes)
        or bool(tenant and (tenant.indexed or tenant.unique or tenant.is_id))
    )
    return EntityRow(
        name=info.name,
        table=info.table,
        sources=sorted({e.source for e in info.sources} | ({"sql"} if info.sql else set())),
        classification=info.classification,
        parent=info.parent,
        tenant_column=tenant_col,
        tenant_nullable=bool(tenant and tenant.optional),
        uniques=list(uniques.values()),
        tenant_indexed=indexed,
        rls=_rls(info, tenant_col),
        path=info.decl.loc.path,
        line=info.decl.loc.line,
    )


def _rls(info: EntityInfo, tenant_col: str | None) -> RlsInfo | None:
    state = info.sql
    if state is None:
        return None
    policies = [
        PolicyInfo(
            name=p.name,
            command=p.command,
            permissive=p.permissive,
            roles=list(p.roles),
            using=p.using,
            with_check=p.with_check,
            ties_tenant=tenant_col is not None
            and any(col == tenant_col for col, _ in (*p.using_ties, *p.check_ties)),
            path=p.loc.path,
            line=p.loc.line,
        )
        for p in state.policies.values()
    ]
    commands = {
        cmd: [p.name for p in policies if p.command in (cmd, "ALL")]
        for cmd in ("SELECT", "INSERT", "UPDATE", "DELETE")
    }
    return RlsInfo(
        enabled=state.rls_enabled, forced=state.rls_forced, policies=policies, commands=commands
    )


# --- coverage ------------------------------------------------------------------------------


def coverage(tmap: TenancyMap) -> Coverage:
    scoped = [e for e in tmap.entities if e.classification == "scoped"]
    secured = 0
    for info in scoped:
        rls = _rls(info, info.tenant_field.column if info.tenant_field else None)
        if rls and rls.enabled and rls.forced and any(p.ties_tenant for p in rls.policies):
            secured += 1
    counts: Counter[str] = Counter()
    raw_total = raw_wrapped = handlers = with_context = 0
    for facts in tmap.iter_files():
        for q in facts.queries:
            target = tmap.entity(q.model)
            if target is not None and target.classification == "scoped":
                counts[_query_verdict(q, target, tmap)] += 1
        raw_total += len(facts.raw_sql)
        raw_wrapped += sum(r.rls_scoped for r in facts.raw_sql)
        handlers += len(facts.handlers)
        with_context += sum(h.tenant_context is not None for h in facts.handlers)
    return Coverage(
        tenant_tables=len(scoped),
        rls_forced_with_policy=Ratio(
            count=secured,
            total=len(scoped),
            label="tenant tables with RLS forced and a tenant policy",
        ),
        queries=QueryCoverage(
            scoped=counts["scoped"], unscoped=counts["unscoped"], unverified=counts["unverified"]
        ),
        raw_sql_in_wrapper=Ratio(
            count=raw_wrapped, total=raw_total, label="raw SQL sites inside the RLS wrapper"
        ),
        handlers_with_tenant_context=Ratio(
            count=with_context, total=handlers, label="handlers with tenant context"
        ),
    )


def _query_verdict(q: QuerySite, info: EntityInfo, tmap: TenancyMap) -> str:
    if q.rls_scoped or q.guarded_by:
        return "scoped"
    pred = q.data if q.action == "create" else q.where
    if pred is not None and (pred.helpers or any(_is_tenant_key(k, info, tmap) for k in pred.keys)):
        return "scoped"
    if q.pass_through or (pred is not None and pred.unknown):
        return "unverified"
    return "unscoped"


def _is_tenant_key(key: str, info: EntityInfo, tmap: TenancyMap) -> bool:
    """`tenantId`, `project.tenantId`, `tenant__slug`, `tenantId_slug` (compound unique) …"""
    fields = set(tmap.config.tenant_fields)
    tenant = info.tenant_field
    if tenant is not None:
        fields |= {tenant.name, tenant.column}
        if tenant.column.endswith("_id"):
            fields.add(tenant.column[:-3])  # Django: `tenant=` sets `tenant_id`
    parts = {p for seg in key.replace("__", ".").split(".") for p in (seg, *seg.split("_"))}
    return bool(parts & fields) or key in fields


def _excerpt(result: RunResult, f: Finding) -> list[ExcerptLine]:
    first = max(1, f.line - EXCERPT_CONTEXT)
    last = min(max(f.end_line, f.line) + EXCERPT_CONTEXT, first + EXCERPT_MAX - 1)
    try:
        with (result.project.root / os_path(f.path)).open(encoding="utf-8", errors="replace") as fh:
            lines = list(enumerate(islice(fh, first - 1, last), first))
    except OSError:
        return []
    end = max(f.end_line, f.line)
    return [
        ExcerptLine(line=n, text=t.rstrip("\r\n"), flagged=f.line <= n <= end) for n, t in lines
    ]
