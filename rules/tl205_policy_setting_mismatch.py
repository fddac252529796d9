"""TL205 policy-setting-mismatch: policies read a session setting the RLS wrapper never sets,
or the wrapper sets one no policy reads."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._rls import SECURED, TABLES, WRAPPER, all_policies, project, setting_writes

_MISSPELT = SECURED.replace(
    "CREATE POLICY notes_tenant ON notes\n",
    "CREATE POLICY notes_tenant ON notes  -- expect: TL205\n",
).replace("app.tenant_id", "app.current_tenant")


class PolicySettingMismatch(Rule):
    code = "TL205"
    name = "policy-setting-mismatch"
    severity = "error"
    security_severity = 6.5
    cwe = (284,)
    precision = "high"
    config_keys = ("rls-wrappers", "migrations")
    fix = "read and set one setting name, in the policies and the RLS wrapper alike"
    summary = (
        "A policy reads a session setting (`current_setting('app.x')`) that no RLS wrapper sets, "
        "or the wrapper sets one that no policy reads."
    )
    rationale = (
        "Policies and the RLS wrapper meet at one name: the wrapper writes the tenant into "
        "`app.tenant_id`, the policies read it back. When the names drift apart (a rename on one "
        "side, a typo) the policies read an unset value: queries fail or, with "
        "`current_setting(…, true)` and a lenient comparison, match nothing or everything. The "
        "wrapper side is taken from the settings written by the configured `rls-wrappers` in "
        "TypeScript, Python and SQL functions. When the project has no such wrapper, there is no "
        "evidence of the writing side and the rule stays silent."
    )
    bad = project(
        TABLES, _MISSPELT, WRAPPER.replace("RETURNS void\n", "RETURNS void  -- expect: TL205\n")
    )
    good = project(TABLES, SECURED, WRAPPER)

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        writes = list(setting_writes(tmap))
        wrapper_writes = [w for w in writes if w.in_wrapper]
        if not wrapper_writes:
            return
        written = {w.setting.lower() for w in writes}
        policies = list(all_policies(tmap))
        read = {s.lower() for p in policies for s in p.settings_read}
        wrapper_names = ", ".join(sorted({w.setting for w in wrapper_writes}))
        for policy in policies:
            for setting in policy.settings_read:
                if setting.lower() not in written:
                    yield self.finding(
                        policy.loc,
                        f"policy '{policy.name}' on '{policy.table}' reads current_setting('{setting}'), "
                        f"which the RLS wrapper never sets (it sets {wrapper_names})",
                        f"read the setting the wrapper sets: `current_setting('{wrapper_writes[0].setting}')`",
                    )
        if not read:
            return  # no policy reads any setting: nothing to compare the wrapper's names with
        for write in wrapper_writes:
            if write.setting.lower() not in read:
                yield self.finding(
                    write.loc,
                    f"the RLS wrapper sets '{write.setting}', which no policy reads "
                    f"(policies read {', '.join(sorted(read))})",
                    f"set the setting the policies read ('{sorted(read)[0]}'), or rename it there",
                )
