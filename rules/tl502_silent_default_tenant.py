"""TL502 silent-default-tenant: tenant resolution that falls back to a default tenant instead of failing."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._examples import SCHEMA
from ._py_examples import DJANGO_TENANCY, SQLALCHEMY_DEPS, django, sqlalchemy

_TENANT = (
    'import { headers } from "next/headers";\n\n'
    "export async function getResolvedTenantId(): Promise<string> {\n"
    '  const tenantId = (await headers()).get("x-tenant-id");\n'
    "{RETURN}"
    "}\n"
)


class SilentDefaultTenant(Rule):
    code = "TL502"
    name = "silent-default-tenant"
    severity = "error"
    security_severity = 7.5
    cwe = (636, 1188)
    precision = "high"
    config_keys = ("tenant-resolvers", "non-product-code")
    fix = "fail (throw, raise, 401/404) when no tenant is resolved, instead of using a default"
    summary = "Tenant resolution that falls back to a default tenant instead of failing."
    rationale = (
        "When the tenant cannot be resolved, the only safe answer is an error. A fallback to a "
        "'default' tenant (or creating one on the fly) puts every unresolved request — a missing "
        "header, an expired session, a typo in a subdomain — into one shared tenant, which then "
        "accumulates and serves other customers' data. An identity provider's directory alias "
        "(Microsoft Entra ID's `tenantId || \"common\"`) is not the app's tenant and is not "
        "reported."
    )
    bad = {
        "prisma/schema.prisma": SCHEMA,
        "lib/tenant.ts": _TENANT.replace(
            "{RETURN}", '  return tenantId ?? "default"; // expect: TL502\n'
        ),
    }
    good = {
        "prisma/schema.prisma": SCHEMA,
        "lib/tenant.ts": _TENANT.replace(
            "{RETURN}", '  if (!tenantId) throw new Error("no tenant");\n  return tenantId;\n'
        ),
    }

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {
                    "app/deps.py": SQLALCHEMY_DEPS.replace(
                        "request.state.user.tenant_id\n",
                        "request.state.user.tenant_id or DEFAULT_TENANT_ID  # expect: TL502\n",
                    )
                }
            ),
            sqlalchemy({}),
        ),
        "django": (
            django(
                {
                    "core/tenancy.py": DJANGO_TENANCY.replace(
                        'request.session["tenant"]',
                        'request.session.get("tenant", "acme")  # expect: TL502',
                    )
                }
            ),
            django({}),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for facts in tmap.iter_files():
            for fb in facts.fallbacks:
                yield self.finding(fb.loc, f"tenant resolution {fb.description} instead of failing")
