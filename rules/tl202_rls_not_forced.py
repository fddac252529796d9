"""TL202 rls-not-forced: RLS enabled on a tenant table but not FORCEd, so its owner bypasses it."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._fixes import ident
from ._rls import SECURED, TABLES, project, tenant_tables


class RlsNotForced(Rule):
    code = "TL202"
    name = "rls-not-forced"
    severity = "warning"
    security_severity = 6.5
    cwe = (284,)
    precision = "high"
    config_keys = ("tenant-fields", "tenant-models", "global-models", "migrations")
    fix = "force it: `ALTER TABLE … FORCE ROW LEVEL SECURITY;`"
    summary = "Row-level security enabled on a tenant-scoped table but not FORCEd: the table owner bypasses every policy."
    rationale = (
        "PostgreSQL does not apply a table's policies to the table's owner unless RLS is FORCEd. "
        "Applications very often connect as the role that ran the migrations — the owner — and "
        "then every policy is silently skipped: the tests pass, the isolation does not exist. "
        "`ALTER TABLE … FORCE ROW LEVEL SECURITY` makes the owner obey the policies too (roles "
        "with BYPASSRLS, and superusers, still bypass them: `tenantlint db-audit` reports those). "
        "Reported at the statement that enabled RLS."
    )
    bad = project(
        TABLES,
        SECURED.replace(
            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;",
            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;  -- expect: TL202",
        ).replace("ALTER TABLE notes FORCE ROW LEVEL SECURITY;\n", ""),
    )
    good = project(TABLES, SECURED)

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info, state in tenant_tables(tmap):
            if state is not None and state.rls_enabled and not state.rls_forced:
                yield self.finding(
                    state.rls_loc or state.entity.loc,
                    f"row level security on '{info.table}' is enabled but not forced: the table "
                    "owner bypasses every policy",
                    f"`ALTER TABLE {ident(info.table)} FORCE ROW LEVEL SECURITY;`",
                )
