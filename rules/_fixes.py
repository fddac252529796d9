"""Concrete fixes for the `help:` line of a finding, in the syntax of the file it is in (Prisma,
SQL, SQLAlchemy, Django) and with the project's own names (tenant column, wrapper, resolver)."""

from __future__ import annotations

import re
from typing import Literal

from tenantlint.tenancy import EntityInfo, TenancyMap

Syntax = Literal["prisma", "sql", "django", "sqlalchemy"]
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


def syntax_of(info: EntityInfo, path: str) -> Syntax:
    """How the declaration at `path` is written: a migration is SQL even for a Prisma model."""
    if path.endswith(".prisma"):
        return "prisma"
    if path.endswith(".py"):
        return "django" if info.decl.source == "django" else "sqlalchemy"
    return "sql"


def ident(name: str) -> str:
    """A SQL identifier, quoted when PostgreSQL would fold or reject it."""
    return name if _PLAIN.fullmatch(name) else f'"{name}"'


def _names(info: EntityInfo, syntax: Syntax, fields: tuple[str, ...]) -> tuple[str, list[str]]:
    """The tenant column and `fields` as that syntax names them (SQL: columns; ORMs: fields)."""
    t = info.tenant_field
    if syntax in ("sql", "sqlalchemy"):
        return (t.column if t else "tenant_id"), [info.column_of(f) for f in fields]
    return (t.name if t else "tenantId"), list(fields)


def unique_with_tenant(info: EntityInfo, path: str, fields: tuple[str, ...]) -> str:
    syntax = syntax_of(info, path)
    tenant, cols = _names(info, syntax, fields)
    key = [tenant, *cols]
    code = {
        "prisma": f"@@unique([{', '.join(key)}])",
        "sqlalchemy": f"UniqueConstraint({', '.join(map(_quoted, key))})",
        "django": f"models.UniqueConstraint(fields=[{', '.join(map(_quoted, key))}], name=…)",
        "sql": f"UNIQUE ({', '.join(map(ident, key))})",
    }[syntax]
    return f"add {tenant} to the key, first: `{code}`"


def tenant_index(info: EntityInfo, path: str) -> str:
    syntax = syntax_of(info, path)
    tenant, _ = _names(info, syntax, ())
    code = {
        "prisma": f"@@index([{tenant}])",
        "sqlalchemy": "index=True",
        "django": f"models.Index(fields=[{_quoted(tenant)}])",
        "sql": f"CREATE INDEX ON {ident(info.table)} ({ident(tenant)});",
    }[syntax]
    return f"index the tenant column (or lead a compound key with it): `{code}`"


def required_tenant(info: EntityInfo, path: str) -> str:
    syntax = syntax_of(info, path)
    tenant, _ = _names(info, syntax, ())
    code = {
        "prisma": f"drop the `?` of {tenant}",
        "sqlalchemy": "declare it `nullable=False`",
        "django": "remove `null=True`",
        "sql": f"`ALTER TABLE {ident(info.table)} ALTER COLUMN {ident(tenant)} SET NOT NULL;`",
    }[syntax]
    return f"backfill the rows without a tenant, then make it required: {code}"


def tenant_setting(tmap: TenancyMap) -> str:
    """The session setting the RLS wrapper writes (what policies should read)."""
    return tmap.wrapper_setting or "app.current_tenant_id"


def policy_using(tmap: TenancyMap, info: EntityInfo) -> str:
    t = info.tenant_field
    column = ident(t.column) if t is not None else "tenant_id"
    return f"USING ({column} = current_setting('{tenant_setting(tmap)}'))"


def first(names: tuple[str, ...], default: str) -> str:
    return names[0] if names else default


def wrapper(tmap: TenancyMap) -> str:
    return first(tmap.config.rls_wrappers, "withTenantRLS")


def resolver(tmap: TenancyMap) -> str:
    return first(tmap.config.tenant_resolvers, "getResolvedTenantId")


def scope_query(tmap: TenancyMap, info: EntityInfo, orm: str) -> str:
    """How to add the tenant to a query's filter, in its ORM's words."""
    t = info.tenant_field
    name = t.name if t is not None else first(tmap.config.tenant_fields, "tenantId")
    code = {
        "prisma": f"where: {{ …, {name} }}",
        "sqlalchemy": f".where({info.name}.{name} == tenant_id)",
        "django": f".filter({name}=…)",
    }.get(orm, name)
    helpers = tmap.config.scope_helpers
    helper = f", or use {helpers[0]}(…)" if helpers else ""
    return f"filter by the caller's tenant: `{code}`{helper}"


def set_tenant(tmap: TenancyMap, info: EntityInfo, orm: str) -> str:
    """How to set the tenant in a create's data, in its ORM's words."""
    t = info.tenant_field
    name = t.name if t is not None else first(tmap.config.tenant_fields, "tenantId")
    code = {
        "prisma": f"data: {{ …, {name} }}",
        "sqlalchemy": f"{info.name}(…, {name}=tenant_id)",
        "django": f"{info.name}.objects.create(…, {name}=…)",
    }.get(orm, name)
    return f"set the tenant of the new row from the resolved tenant: `{code}`"


def _quoted(name: str) -> str:
    return f'"{name}"'
