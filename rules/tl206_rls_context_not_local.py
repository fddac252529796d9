"""TL206 rls-context-not-local: the RLS wrapper sets the tenant with session scope, or outside a
transaction."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._rls import SECURED, TABLES, WRAPPER, project, setting_writes

_SESSION_WRAPPER = """\
CREATE FUNCTION set_tenant(t uuid) RETURNS void  -- expect: TL206
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('app.tenant_id', t::text, false);
END
$$;
"""


class RlsContextNotLocal(Rule):
    code = "TL206"
    name = "rls-context-not-local"
    severity = "error"
    security_severity = 8.1
    cwe = (488, 639)
    precision = "high"
    config_keys = ("rls-wrappers",)
    fix = "set the tenant transaction-locally (`SET LOCAL`, `set_config(…, true)`) inside the request's transaction"
    summary = (
        "The RLS wrapper sets the tenant with session scope (`SET app.x`, `set_config(…, false)`) "
        "or outside a transaction, so a pooled connection can carry one tenant's context into "
        "another's request."
    )
    rationale = (
        "A session-level setting outlives the request that made it. With a connection pool the "
        "next request — another tenant's — gets the same connection with the previous tenant "
        "still set, and every policy lets it read that tenant's rows whenever its own wrapper "
        "call is skipped or fails. `SET LOCAL` / `set_config(…, true)` inside the request's "
        "transaction ends with the transaction; outside a transaction it has no effect at all."
    )
    bad = project(TABLES, SECURED, _SESSION_WRAPPER)
    good = project(TABLES, SECURED, WRAPPER)

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for write in setting_writes(tmap):
            if not write.in_wrapper:
                continue
            where = f" in {write.function}" if write.function else ""
            if write.local is False:
                yield self.finding(
                    write.loc,
                    f"'{write.setting}' is set with session scope{where}: it outlives the request "
                    "on a pooled connection, and the next request on it sees this tenant",
                    f"set it transaction-locally, inside the request's transaction: `SET LOCAL "
                    f"{write.setting} = …` or `set_config('{write.setting}', …, true)`",
                )
            elif write.in_transaction is False:
                yield self.finding(
                    write.loc,
                    f"'{write.setting}' is set{where} outside a transaction: a transaction-local "
                    "setting there ends at once, and the queries after it run without a tenant",
                    "set it and run the request's queries in one transaction",
                )
