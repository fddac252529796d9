"""TL203 rls-without-policy: RLS enabled on a tenant table that has no policy at all."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._fixes import ident, policy_using
from ._rls import SECURED, TABLES, project, tenant_tables


class RlsWithoutPolicy(Rule):
    code = "TL203"
    name = "rls-without-policy"
    severity = "error"
    security_severity = 5.3
    cwe = (284,)
    precision = "high"
    config_keys = ("tenant-fields", "tenant-models", "global-models", "migrations")
    fix = "add a policy that ties the tenant column to the session's tenant"
    summary = "Row-level security enabled on a tenant-scoped table that has no policy."
    rationale = (
        "With RLS enabled and no policy, PostgreSQL denies every row to every role that obeys RLS. "
        "An application that still works against such a table does so because it connects as a "
        "role that bypasses RLS (the owner, a superuser, BYPASSRLS) — so the tenant isolation "
        "the migration seems to promise is not there. Usually a policy was forgotten, or dropped "
        "by a later migration and never recreated. The verdict is on the final migrated state."
    )
    bad = project(
        TABLES,
        SECURED.replace(
            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;",
            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;  -- expect: TL203",
        ),
        "DROP POLICY notes_tenant ON notes;\n",
    )
    good = project(
        TABLES,
        SECURED,
        "DROP POLICY notes_tenant ON notes;\n"
        "CREATE POLICY notes_tenant ON notes\n"
        "  USING (tenant_id = current_setting('app.tenant_id')::uuid);\n",
    )

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info, state in tenant_tables(tmap):
            if state is not None and state.rls_enabled and not state.policies:
                yield self.finding(
                    state.rls_loc or state.entity.loc,
                    f"row level security is enabled on '{info.table}' but no policy exists: only "
                    "roles that bypass RLS can use the table",
                    f"`CREATE POLICY tenant_isolation ON {ident(info.table)} "
                    f"{policy_using(tmap, info)};`",
                )
