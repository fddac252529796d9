"""TL402 tenant-id-from-request: a tenant id taken from the request and used to scope data."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._examples import with_files
from ._fixes import resolver
from ._py_examples import DEPS, django, endpoint, sqlalchemy, view

_ROUTE = (
    'import { prisma } from "@/lib/prisma";\n'
    'import { getResolvedTenantId } from "@/lib/tenant";\n\n'
    "export async function GET(req: Request) {\n"
    "  await getResolvedTenantId(req);\n"
    "  const { searchParams } = new URL(req.url);\n"
    "{TENANT}"
    "  const projects = await prisma.project.findMany({ where: { tenantId } });{MARK}\n"
    "  return Response.json(projects);\n"
    "}\n"
)


_SA_ROUTE = (
    '@router.get("/tenants/{{tenant_id}}/projects")\n'
    "def list_projects(\n"
    f"    tenant_id: int, {DEPS}\n"
    "):\n"
    "    return db.query(Project).filter(Project.tenant_id == {tenant}).all(){mark}\n"
)
_DJ_VIEW = (
    "def project_list(request):\n"
    "    tenant = get_current_tenant(request)\n"
    "    projects = Project.objects.filter(tenant_id={tenant}){mark}\n"
    '    return JsonResponse({{"slugs": [p.slug for p in projects]}})\n'
)


class TenantIdFromRequest(Rule):
    code = "TL402"
    name = "tenant-id-from-request"
    severity = "error"
    security_severity = 8.8
    cwe = (639,)
    precision = "high"
    config_keys = (
        "tenant-resolvers",
        "trusted-tenant-headers",
        "rls-wrappers",
        "tenant-fields",
        "non-product-code",
    )
    fix = "take the tenant from the configured resolver (the session), never from the request"
    summary = "A tenant id taken from the request body, query, path or cookies and used to scope data or enter the RLS wrapper."
    rationale = (
        "Whoever sends the request chooses its body, query string, path and cookies. A tenant id "
        "read from them and used as the query's tenant predicate — or handed to the RLS wrapper — "
        "lets any signed-in user read another tenant's data by changing one value. Take the tenant "
        "from the configured resolver, which checks the user's membership."
    )
    bad = with_files(
        {
            "app/api/projects/route.ts": _ROUTE.replace(
                "{TENANT}", '  const tenantId = searchParams.get("tenantId");\n'
            ).replace("{MARK}", " // expect: TL402")
        }
    )
    good = with_files(
        {
            "app/api/projects/route.ts": _ROUTE.replace("  await getResolvedTenantId(req);\n", "")
            .replace("{TENANT}", "  const tenantId = await getResolvedTenantId(req);\n")
            .replace("{MARK}", "")
        }
    )

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {
                    "app/api.py": endpoint(
                        _SA_ROUTE.format(tenant="tenant_id", mark="  # expect: TL402")
                    )
                }
            ),
            sqlalchemy({"app/api.py": endpoint(_SA_ROUTE.format(tenant="tenant.id", mark=""))}),
        ),
        "django": (
            django(
                {
                    "projects/views.py": view(
                        _DJ_VIEW.format(tenant='request.GET["tenant"]', mark="  # expect: TL402")
                    )
                }
            ),
            django({"projects/views.py": view(_DJ_VIEW.format(tenant="tenant.pk", mark=""))}),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for facts in tmap.iter_files():
            for rt in facts.request_tenants:
                yield self.finding(
                    rt.loc,
                    f"the tenant id comes from the request ({rt.source}) and {_use(rt.sink)}: "
                    "a caller can name any tenant",
                    f"take the tenant from {resolver(tmap)}(…), which checks the caller's "
                    "membership, not from the request",
                )


def _use(sink: str) -> str:
    """What the request's tenant id does, from the front ends' sink names."""
    if sink == "where-clause":
        return "filters the query"
    if sink == "create data":
        return "becomes the new row's tenant"
    return f"is passed to {sink.removesuffix(' argument')}()"
