"""TL304 raw-sql-missing-tenant-predicate: static raw SQL on a tenant-scoped table without a tenant predicate."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.facts import Unverified
from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import EntityInfo, TenancyMap

from ._code_evidence import is_ddl, scoped_tables, sql_statements
from ._examples import with_files
from ._fixes import ident
from ._py_examples import DEPS, django, endpoint, sqlalchemy, view

_REPORT = (
    'import { prisma } from "@/lib/prisma";\n\n'
    "export async function renameProject(tenantId: string, id: string, name: string) {\n"
    '  await prisma.$executeRaw`UPDATE "Project" SET name = ${name} WHERE id = ${id}{AND}`;{MARK}\n'
    "}\n"
)


_SA_ROUTE = (
    '@router.get("/projects/by-slug")\n'
    "def project_by_slug(\n"
    f"    slug: str, {DEPS}\n"
    "):\n"
    "    return db.execute({mark}\n"
    '        text("SELECT id FROM projects WHERE slug = :slug{pred}"),\n'
    '        {{"slug": slug{arg}}},\n'
    "    ).all()\n"
)
_DJ_VIEW = (
    "def project_by_slug(request, slug):\n"
    "    tenant = get_current_tenant(request)\n"
    "    with connection.cursor() as cursor:\n"
    "        cursor.execute({mark}\n"
    '            "SELECT id FROM projects_project WHERE slug = %s{pred}",\n'
    "            [slug{arg}],\n"
    "        )\n"
    '        return JsonResponse({{"ids": [r[0] for r in cursor.fetchall()]}})\n'
)


class RawSqlMissingTenantPredicate(Rule):
    code = "TL304"
    name = "raw-sql-missing-tenant-predicate"
    severity = "error"
    security_severity = 8.1
    cwe = (639,)
    precision = "high"
    config_keys = (
        "rls",
        "rls-wrappers",
        "tenant-fields",
        "tenant-models",
        "global-models",
        "non-product-code",
    )
    fix = "add a tenant predicate for each tenant-scoped table, with the tenant id bound as a parameter"
    summary = "Static raw SQL, outside an RLS wrapper, that reads or writes a tenant-scoped table without a tenant predicate."
    rationale = (
        "Raw SQL skips every ORM-level guard. Without RLS, the only thing between one tenant's "
        "request and another tenant's rows is the `WHERE tenant_id = …` the query spells out, for "
        "every tenant-scoped table it reads or writes, joins included. Where RLS is in use, such "
        "SQL is reported as TL303 instead."
    )
    bad = with_files(
        {"lib/projects.ts": _REPORT.replace("{AND}", "").replace("{MARK}", " // expect: TL304")}
    )
    good = with_files(
        {
            "lib/projects.ts": _REPORT.replace("{AND}", ' AND "tenantId" = ${tenantId}').replace(
                "{MARK}", ""
            )
        }
    )

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {
                    "app/api.py": endpoint(
                        _SA_ROUTE.format(pred="", arg="", mark="  # expect: TL304")
                    )
                }
            ),
            sqlalchemy(
                {
                    "app/api.py": endpoint(
                        _SA_ROUTE.format(
                            pred=" AND tenant_id = :tenant_id",
                            arg=', "tenant_id": tenant.id',
                            mark="",
                        )
                    )
                }
            ),
        ),
        "django": (
            django(
                {
                    "projects/views.py": view(
                        _DJ_VIEW.format(pred="", arg="", mark="  # expect: TL304")
                    )
                }
            ),
            django(
                {
                    "projects/views.py": view(
                        _DJ_VIEW.format(pred=" AND tenant_id = %s", arg=", tenant.id", mark="")
                    )
                }
            ),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding | Unverified]:
        if tmap.rls_in_use:
            return  # TL303 reports raw SQL outside the wrapper
        for facts in tmap.iter_files():
            for site in facts.raw_sql:
                if site.rls_scoped or site.fragment or site.sql is None or is_ddl(site):
                    continue
                parsed, statements = sql_statements(tmap, site)
                missing = sorted(
                    {
                        info.table
                        for use, info in scoped_tables(tmap, statements)
                        if not _has_tenant_column(tmap, use.predicate_columns, info)
                    }
                )
                if missing and site.pass_through:
                    yield self.unverified(
                        site.loc, "binds its caller's values: scoped at the call sites"
                    )
                elif missing:
                    yield self.finding(
                        site.loc,
                        f"{site.api} reads or writes tenant-scoped {', '.join(missing)} without "
                        "filtering by the tenant: every tenant's rows are affected",
                        _tenant_predicates(tmap, missing),
                    )
                elif not parsed:
                    yield self.unverified(
                        site.loc, "the SQL could not be parsed in the project's dialect"
                    )


def _tenant_predicates(tmap: TenancyMap, tables: list[str]) -> str:
    """`add `WHERE tasks.tenant_id = <the tenant id>` …` for each table missing one."""
    preds = []
    for table in tables:
        info = tmap.entity(table)
        t = info.tenant_field if info is not None else None
        column = ident(t.column) if t is not None else "tenant_id"
        preds.append(f"`{ident(table)}.{column} = <the resolved tenant id, bound>`")
    return "add the tenant to the WHERE clause: " + ", ".join(preds)


def _has_tenant_column(tmap: TenancyMap, columns: tuple[str, ...], info: EntityInfo) -> bool:
    t = info.tenant_field
    names = {t.name, t.column} if t is not None else set()
    return any(c in names or tmap.is_tenant_field(c) for c in columns)
