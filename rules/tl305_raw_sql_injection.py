"""TL305 raw-sql-injection: SQL built by interpolation or concatenation into an API that does not bind."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._code_evidence import is_ddl
from ._examples import with_files
from ._py_examples import DEPS, django, endpoint, sqlalchemy, view

_SEARCH = (
    'import { prisma } from "@/lib/prisma";\n\n'
    "export async function searchProjects(tenantId: string, term: string) {\n"
    "{BODY}"
    "}\n"
)


_SA_ROUTE = (
    '@router.get("/projects/by-slug")\n'
    "def project_by_slug(\n"
    f"    slug: str, {DEPS}\n"
    "):\n"
    "    return db.execute({mark}\n"
    "        {sql},\n"
    "    ).all()\n"
)
_SA_BAD = 'text(f"SELECT id FROM projects WHERE tenant_id = :t AND slug = \'{slug}\'"),\n        {"t": tenant.id}'
_SA_GOOD = 'text("SELECT id FROM projects WHERE tenant_id = :t AND slug = :slug"),\n        {"t": tenant.id, "slug": slug}'
_DJ_VIEW = (
    "def project_by_slug(request, slug):\n"
    "    tenant = get_current_tenant(request)\n"
    "    with connection.cursor() as cursor:\n"
    "        cursor.execute({mark}\n"
    "            {sql},\n"
    "        )\n"
    '        return JsonResponse({{"ids": [r[0] for r in cursor.fetchall()]}})\n'
)
_DJ_BAD = "f\"SELECT id FROM projects_project WHERE tenant_id = %s AND slug = '{slug}'\",\n            [tenant.id]"
_DJ_GOOD = '"SELECT id FROM projects_project WHERE tenant_id = %s AND slug = %s",\n            [tenant.id, slug]'


class RawSqlInjection(Rule):
    code = "TL305"
    name = "raw-sql-injection"
    severity = "error"
    security_severity = 8.8
    cwe = (89,)
    precision = "high"
    config_keys = ("non-product-code",)
    fix = "bind the values as parameters instead of building the SQL text from them"
    summary = (
        "Raw SQL built by interpolation or concatenation into an API that does not bind values."
    )
    rationale = (
        "`$queryRawUnsafe`, `Prisma.raw`, `pool.query` and `knex.raw` send their string as it is: a "
        "value spliced in with `${…}` or `+` becomes SQL, and one crafted value reads or rewrites "
        "every tenant's data, RLS settings included. Use the tagged template (`$queryRaw`…``) or "
        "the API's parameter list so values are bound, never interpolated. DDL (`ALTER TABLE "
        "${table} …`, which reads no rows) and constants (`TABLE`, `Tables.AUDIT`, "
        "`Kind.AUDIT.value`: UPPER_CASE names, fixed in the code) are not reported."
    )
    bad = with_files(
        {
            "lib/search.ts": _SEARCH.replace(
                "{BODY}",
                "  return prisma.$queryRawUnsafe( // expect: TL305\n"
                "    `SELECT * FROM \"Project\" WHERE \"tenantId\" = '${tenantId}' AND name LIKE '%${term}%'`,\n"
                "  );\n",
            )
        }
    )
    good = with_files(
        {
            "lib/search.ts": _SEARCH.replace(
                "{BODY}",
                '  return prisma.$queryRaw`SELECT * FROM "Project" WHERE "tenantId" = ${tenantId} AND name LIKE ${`%${term}%`}`;\n',
            )
        }
    )

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {"app/api.py": endpoint(_SA_ROUTE.format(sql=_SA_BAD, mark="  # expect: TL305"))}
            ),
            sqlalchemy({"app/api.py": endpoint(_SA_ROUTE.format(sql=_SA_GOOD, mark=""))}),
        ),
        "django": (
            django(
                {"projects/views.py": view(_DJ_VIEW.format(sql=_DJ_BAD, mark="  # expect: TL305"))}
            ),
            django({"projects/views.py": view(_DJ_VIEW.format(sql=_DJ_GOOD, mark=""))}),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for facts in tmap.iter_files():
            for site in facts.raw_sql:
                if site.injection and not is_ddl(site):
                    yield self.finding(
                        site.loc,
                        f"{site.api} receives SQL built from interpolated values: bind them instead",
                        _bind(site.api, site.loc.path),
                    )


def _bind(api: str, path: str) -> str:
    """How the API at hand binds values."""
    if "Unsafe" in api:
        return f"use {api.replace('Unsafe', '')} with a tagged template (`${{value}}` is bound)"
    if api.endswith("raw"):
        return "build the fragment with Prisma.sql`…${value}…`, which binds values"
    if path.endswith(".py"):
        return 'pass the values as parameters: `text("… WHERE id = :id")` with `{"id": id}`, or `execute(sql, params)`'
    return "pass the values as parameters (`$1`, `?`) beside the SQL text"
