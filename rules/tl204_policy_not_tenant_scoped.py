"""TL204 policy-not-tenant-scoped: a permissive policy on a tenant table that does not tie the
row to the session's tenant."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.facts import PolicyFact
from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._fixes import policy_using
from ._rls import TABLES, project, tenant_tables

_ALLOW_ALL = """\
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_tenant ON notes FOR SELECT
  USING (tenant_id = current_setting('app.tenant_id')::uuid);
CREATE POLICY notes_read_all ON notes FOR SELECT USING (true);  -- expect: TL204
CREATE POLICY notes_write ON notes FOR INSERT  -- expect: TL204
  WITH CHECK (current_setting('app.tenant_id') IS NOT NULL);
"""

_SCOPED = """\
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_tenant ON notes
  USING (tenant_id = current_setting('app.tenant_id')::uuid)
  WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
CREATE POLICY notes_members ON notes FOR SELECT
  USING (tenant_id IN (SELECT m.tenant_id FROM members m WHERE m.user_id = current_user));
CREATE POLICY notes_archived ON notes AS RESTRICTIVE FOR DELETE USING (body IS NULL);
CREATE POLICY notes_service ON notes TO service_role USING (true) WITH CHECK (true);
CREATE POLICY notes_backend ON notes USING (current_setting('role') = 'service_role');
"""


# Roles that bypass row-level security by construction: the superuser of a stock PostgreSQL and
# of Supabase, and Supabase's `service_role` (created with BYPASSRLS).
BYPASS_ROLES = frozenset({"postgres", "supabase_admin", "service_role"})


class PolicyNotTenantScoped(Rule):
    code = "TL204"
    name = "policy-not-tenant-scoped"
    severity = "error"
    security_severity = 8.1
    cwe = (639, 284)
    precision = "high"
    config_keys = ("tenant-fields", "tenant-models", "global-models", "migrations")
    fix = "tie the policy's USING and WITH CHECK to the session's tenant, or make it AS RESTRICTIVE"
    summary = (
        "A permissive policy on a tenant-scoped table whose USING / WITH CHECK does not tie the "
        "row to the session's tenant (`USING (true)`, a role check), or a write path with no check."
    )
    rationale = (
        "Permissive policies are OR-ed: one `USING (true)` next to a careful tenant policy opens "
        "the table to every tenant. Each permissive policy must compare a column of the row with "
        "the session — `current_setting('app.tenant_id')`, `auth.uid()`, `current_user`, a "
        "membership subquery, or a function given the row's tenant column "
        "(`has_role_on_account(account_id)`) — in USING, and in WITH CHECK where rows are "
        "written, or new rows can be written into another tenant. A check of the session alone "
        "(`auth.role() = 'authenticated'`) lets every signed-in user of every tenant through. "
        "Restrictive policies are AND-ed and can only narrow access; a restrictive policy that "
        "is tied to the tenant makes the permissive ones it covers safe. A policy granted only "
        "`TO` roles that bypass RLS anyway (`postgres`, `supabase_admin`, `service_role`), or "
        "whose USING admits only them (`auth.role() = 'service_role'`), grants nothing and is "
        "not reported."
    )
    bad = project(TABLES, _ALLOW_ALL)
    good = project(TABLES, _SCOPED)

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info, state in tenant_tables(tmap):
            if state is None:
                continue
            policies = list(state.policies.values())
            guarded = {p.command for p in policies if not p.permissive and _tied(p)}
            for policy in policies:
                if not policy.permissive or "ALL" in guarded or policy.command in guarded:
                    continue
                if _only_bypass_roles(policy):
                    continue  # admits only roles that bypass RLS anyway: grants nothing
                problem = _problem(policy)
                if problem:
                    yield self.finding(
                        policy.loc,
                        f"policy '{policy.name}' on tenant-scoped '{info.table}' {problem}: "
                        "permissive policies are OR-ed, so it opens the table across tenants",
                        f"tie it to the session's tenant, `{policy_using(tmap, info)}` (and the same "
                        "WITH CHECK), or make it AS RESTRICTIVE",
                    )


def _only_bypass_roles(policy: PolicyFact) -> bool:
    """Granted `TO`, or requiring the session to be, only roles that bypass RLS."""
    return any(
        roles and set(roles) <= BYPASS_ROLES for roles in (policy.roles, policy.session_roles)
    )


def _tied(policy: PolicyFact) -> bool:
    return bool(policy.using_ties or policy.check_ties)


def _problem(policy: PolicyFact) -> str | None:
    """Which clause fails to tie the row to the session (an absent clause grants nothing)."""
    if policy.using is not None and not policy.using_ties:
        return f"has USING ({policy.using}), which does not tie a column of the row to the session"
    if policy.with_check is not None and not policy.check_ties:
        return f"has WITH CHECK ({policy.with_check}), which lets rows be written for any tenant"
    return None
