"""Shared evidence logic of the code rules (TL301-TL305): does a key path pin the tenant, is a
lookup a capability token, what does a raw SQL site touch. Language-neutral: reads facts and the map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tenantlint.facts import Predicate, RawSqlSite, SqlStatement, TableUse
from tenantlint.tenancy import EntityInfo, TenancyMap

_SEGMENTS = re.compile(r"\.|__")
_TOKEN_NAME = re.compile(r"(?i)(?:token|hash|secret|nonce)(?!.*(?:At|Type|Count|Id)$)|^share")


def _is_tenant_name(tmap: TenancyMap, info: EntityInfo | None, name: str) -> bool:
    if tmap.is_tenant_field(name):
        return True
    t = info.tenant_field if info is not None else None
    return t is not None and name in (t.name, t.column)


def _related(tmap: TenancyMap, info: EntityInfo, name: str) -> EntityInfo | None:
    f = info.field(name)
    if f is None:
        return None
    target = f.relation.target if f.relation is not None else f.type.rstrip("[]?")
    return tmap.entity(target) if target else None


def key_pins_tenant(tmap: TenancyMap, info: EntityInfo, key: str) -> bool:
    """A key path that constrains the tenant: the tenant field itself, a compound unique that
    contains it (`tenantId_slug`), a Django lookup through it, a filter on the tenant-root
    relation (`tenant: {…}`, `team: buildTeamWhere()`), or a related model's tenant field."""
    segments = _SEGMENTS.split(key)
    last = segments[-1]
    owner: EntityInfo | None = info
    for seg in segments[:-1]:
        nxt = _related(tmap, owner, seg) if owner is not None else None
        if nxt is not None and nxt.classification == "root":
            return True
        owner = nxt
    if _is_tenant_name(tmap, owner, last) or any(
        _is_tenant_name(tmap, owner, p) for p in last.split("_") if p
    ):
        return True
    rel = _related(tmap, owner, last) if owner is not None else None
    return rel is not None and rel.classification == "root"


def pins_tenant(tmap: TenancyMap, info: EntityInfo, pred: Predicate | None) -> bool:
    return pred is not None and (
        bool(pred.helpers) or any(key_pins_tenant(tmap, info, k) for k in pred.keys)
    )


_USER_KEY = re.compile(r"(?i)^(?:user_?id|owner_?id|user)$")
_MEMBER_SEGMENT = re.compile(r"(?i)member")


def user_scoped(pred: Predicate | None) -> bool:
    """A filter on the caller's user or membership (`members: { some: { userId } }`): scoped by
    who asks rather than by tenant; whether that is enough needs a person (unverified)."""
    return pred is not None and any(
        _USER_KEY.match(k.rsplit(".", 1)[-1]) or _MEMBER_SEGMENT.search(k) for k in pred.keys
    )


def capability_lookup(tmap: TenancyMap, info: EntityInfo, pred: Predicate | None) -> bool:
    """A lookup by an unguessable token (invitation token, key hash, share slug with a generated
    default), on the model or through a relation (`recipients: { some: { token } }`): global by
    design (PRECISION #3)."""
    if pred is None:
        return False
    for key in pred.keys:
        *path, last = _SEGMENTS.split(key)
        owner: EntityInfo | None = info
        for seg in path:
            owner = _related(tmap, owner, seg) if owner is not None else None
        f = owner.field(last) if owner is not None else None
        if f is None or f.is_id:
            continue
        if _TOKEN_NAME.search(f.name) or (f.unique and f.generated_unique_default):
            return True
    return False


def sql_statements(tmap: TenancyMap, site: RawSqlSite) -> tuple[bool, tuple[SqlStatement, ...]]:
    """The site's statements, re-analysed in the project's dialect when its Prisma datasource
    is not PostgreSQL (front ends see one file and analyse as PostgreSQL)."""
    dialect = tmap.sql_dialect
    if site.sql is None or dialect in (None, "postgresql", "postgres") or site.parsed:
        return site.parsed, site.statements
    from tenantlint.sqlanalysis import analyse_sql

    return analyse_sql(site.sql, dialect)


def scoped_tables(
    tmap: TenancyMap, statements: Iterable[SqlStatement]
) -> Iterable[tuple[TableUse, EntityInfo]]:
    for stmt in statements:
        if stmt.kind == "ddl":
            continue  # DDL reads and writes no rows (PRECISION 15)
        for use in stmt.tables:
            info = tmap.entity(use.table)
            if info is not None and info.classification == "scoped":
                yield use, info


_DDL = re.compile(r"^\s*(create|alter|drop|comment|grant|revoke)\b", re.I)


def is_ddl(site: RawSqlSite) -> bool:
    """Whether every statement of a raw-SQL site is DDL (`ALTER TABLE {t} …`), by the analyser
    or, where a placeholder stands for an identifier and it cannot parse, by its first word."""
    if site.statements and all(st.kind == "ddl" for st in site.statements):
        return True
    chunks = [c for c in re.sub(r"--[^\n]*", "", site.sql or "").split(";") if c.strip()]
    return bool(chunks) and all(_DDL.match(c) for c in chunks)
