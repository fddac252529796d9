"""TL201 rls-not-enabled: a tenant-scoped table without row-level security, when RLS is in use."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._fixes import ident, policy_using
from ._rls import SECURED, TABLES, project, table_loc, tenant_tables


class RlsNotEnabled(Rule):
    code = "TL201"
    name = "rls-not-enabled"
    severity = "error"
    security_severity = 7.5
    cwe = (284, 639)
    precision = "high"
    config_keys = ("rls", "tenant-fields", "tenant-models", "global-models", "migrations")
    fix = "enable and force row level security, with a policy that ties the tenant column to the session's tenant"
    summary = (
        "A tenant-scoped table without ROW LEVEL SECURITY enabled in the final migrated state, "
        "in a project that uses RLS."
    )
    rationale = (
        "Once a project relies on row-level security, every query that is not filtered by hand "
        "trusts the database to hide other tenants' rows. A tenant table that never had "
        "`ENABLE ROW LEVEL SECURITY` (or had it disabled by a later migration) hides nothing: "
        "the first unfiltered query on it returns every tenant's data. The verdict is taken on "
        "the final state of the migrations, so a table secured in a later file is secured. RLS is "
        'in use when `rls = "required"`, or under `auto` when any migration enables it or an '
        "RLS wrapper sets the tenant."
    )
    bad = project(
        TABLES.replace("CREATE TABLE notes (\n", "CREATE TABLE notes (  -- expect: TL201\n")
        + "CREATE TABLE tasks (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);\n"
        + "CREATE INDEX tasks_tenant_idx ON tasks (tenant_id);\n"
        + SECURED.replace("notes", "tasks"),
    )
    good = project(TABLES, SECURED)

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        if not tmap.rls_in_use:
            return
        for info, state in tenant_tables(tmap):
            if state is None or not state.rls_enabled:
                yield self.finding(
                    table_loc(info),
                    f"tenant-scoped table '{info.table}' does not have row level security enabled "
                    "(ALTER TABLE … ENABLE ROW LEVEL SECURITY): no policy protects its rows",
                    f"`ALTER TABLE {ident(info.table)} ENABLE ROW LEVEL SECURITY;` and `FORCE ROW "
                    f"LEVEL SECURITY;`, with a policy `{policy_using(tmap, info)}`",
                )
