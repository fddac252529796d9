"""TL303 raw-sql-bypasses-rls: raw SQL on tenant-scoped tables run outside the RLS wrapper."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.facts import Unverified
from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._code_evidence import is_ddl, scoped_tables, sql_statements
from ._examples import with_files
from ._fixes import wrapper

_REPORT = (
    'import { prisma } from "@/lib/prisma";\n'
    'import { withTenantRLS } from "@/lib/rls";\n\n'
    "export async function projectCount(tenantId: string) {\n"
    "{BODY}"
    "}\n"
)


class RawSqlBypassesRls(Rule):
    code = "TL303"
    name = "raw-sql-bypasses-rls"
    severity = "error"
    security_severity = 7.5
    cwe = (284, 639)
    precision = "medium"
    config_keys = (
        "rls",
        "rls-wrappers",
        "tenant-fields",
        "tenant-models",
        "global-models",
        "non-product-code",
    )
    fix = "run the SQL inside the RLS wrapper, where the policies hold"
    summary = "Raw SQL touching tenant-scoped tables (or tables that cannot be known) run outside the RLS wrapper."
    rationale = (
        "Row-level security only protects a query that runs with the tenant set: inside the RLS "
        "wrapper's transaction, where `set_config('app.current_tenant_id', …, true)` holds. Raw SQL "
        "run on the bare client sees no tenant setting, so the policies either hide every row or, "
        "for a role that bypasses RLS, show all of them. Run raw SQL on tenant tables through the "
        "wrapper's transaction client."
    )
    bad = with_files(
        {
            "lib/reports.ts": _REPORT.replace(
                "{BODY}",
                '  return prisma.$queryRaw`SELECT count(*) FROM "Project" WHERE "tenantId" = ${tenantId}`; // expect: TL303\n',
            )
        },
        rls=True,
    )
    good = with_files(
        {
            "lib/reports.ts": _REPORT.replace(
                "{BODY}",
                "  return withTenantRLS(tenantId, (tx) =>\n"
                '    tx.$queryRaw`SELECT count(*) FROM "Project" WHERE "tenantId" = ${tenantId}`,\n'
                "  );\n",
            )
        },
        rls=True,
    )

    def check(self, tmap: TenancyMap) -> Iterator[Finding | Unverified]:
        if not tmap.rls_in_use:
            return
        for facts in tmap.iter_files():
            for site in facts.raw_sql:
                if site.rls_scoped or site.fragment or is_ddl(site):
                    continue
                if site.sql is None:
                    yield self.finding(
                        site.loc,
                        f"{site.api} outside the RLS wrapper runs SQL whose tables cannot be known",
                        f"run it inside {wrapper(tmap)}(…), where the policies hold",
                    )
                    continue
                parsed, statements = sql_statements(tmap, site)
                tables = sorted({info.table for _, info in scoped_tables(tmap, statements)})
                if tables:
                    yield self.finding(
                        site.loc,
                        f"{site.api} on tenant-scoped {', '.join(tables)} outside the RLS wrapper: "
                        "no policy scopes it",
                        f"run it inside {wrapper(tmap)}(…), where the policies hold",
                    )
                elif not parsed:
                    yield self.unverified(
                        site.loc, "the SQL could not be parsed: its tables are unknown"
                    )
