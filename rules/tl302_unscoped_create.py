"""TL302 unscoped-create: an ORM create/upsert of a tenant-scoped model that does not set the tenant."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.facts import Unverified
from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._code_evidence import pins_tenant
from ._examples import with_files
from ._fixes import set_tenant
from ._py_examples import DEPS, django, endpoint, sqlalchemy, view

_ROUTE = (
    'import { prisma } from "@/lib/prisma";\n'
    'import { getResolvedTenantId } from "@/lib/tenant";\n\n'
    "export async function POST(req: Request) {\n"
    "  const tenantId = await getResolvedTenantId(req);\n"
    "  const { name } = await req.json();\n"
    "  const project = await prisma.project.create({ data: {DATA} });\n"
    "  return Response.json(project);\n"
    "}\n"
)


_SA_ROUTE = (
    '@router.post("/projects")\n'
    "def create_project(\n"
    f"    slug: str, {DEPS}\n"
    "):\n"
    "    project = Project(slug=slug{tenant}){mark}\n"
    "    db.add(project)\n"
    "    db.commit()\n"
    '    return {{"id": project.id}}\n'
)
_DJ_VIEW = (
    "def project_create(request):\n"
    "    tenant = get_current_tenant(request)\n"
    '    project = Project.objects.create(slug=request.POST["slug"]{tenant}){mark}\n'
    '    return JsonResponse({{"id": project.pk}})\n'
)


class UnscopedCreate(Rule):
    code = "TL302"
    name = "unscoped-create"
    severity = "error"
    security_severity = 7.1
    cwe = (639,)
    precision = "high"
    config_keys = (
        "tenant-fields",
        "tenant-models",
        "global-models",
        "rls-wrappers",
        "non-product-code",
    )
    fix = "set the tenant of the new row from the resolved tenant"
    summary = "An ORM create or upsert of a tenant-scoped model that does not set the tenant."
    rationale = (
        "A row created without its tenant either fails at the database, lands in whatever tenant "
        "a column default or a stale session setting supplies, or — with a nullable column — "
        "belongs to nobody. Set the tenant explicitly from the resolved tenant (`tenantId`, or "
        "`tenant: { connect: … }`) on every create, createMany row and upsert."
    )
    bad = with_files(
        {
            "app/api/projects/route.ts": _ROUTE.replace("{DATA}", "{ name }").replace(
                ");\n  return", "); // expect: TL302\n  return"
            )
        }
    )
    good = with_files({"app/api/projects/route.ts": _ROUTE.replace("{DATA}", "{ name, tenantId }")})

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {"app/api.py": endpoint(_SA_ROUTE.format(tenant="", mark="  # expect: TL302"))}
            ),
            sqlalchemy(
                {"app/api.py": endpoint(_SA_ROUTE.format(tenant=", tenant_id=tenant.id", mark=""))}
            ),
        ),
        "django": (
            django(
                {"projects/views.py": view(_DJ_VIEW.format(tenant="", mark="  # expect: TL302"))}
            ),
            django({"projects/views.py": view(_DJ_VIEW.format(tenant=", tenant=tenant", mark=""))}),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding | Unverified]:
        for facts in tmap.iter_files():
            for q in facts.queries:
                if q.action not in ("create", "upsert"):
                    continue
                info = tmap.entity(q.model)
                if info is None or info.classification != "scoped" or q.rls_scoped:
                    continue  # inside the wrapper, RLS's WITH CHECK (or a setting default) owns it
                if pins_tenant(tmap, info, q.data):
                    continue
                if info.tenant_field is not None and info.tenant_field.auto_set:
                    continue  # the model derives its tenant on save (Django `save()` override)
                if q.pass_through or q.data is None or q.data.unknown:
                    yield self.unverified(q.loc, "the created data cannot be read statically")
                else:
                    yield self.finding(
                        q.loc,
                        f"{q.operation} of tenant-scoped '{info.name}' does not set the tenant",
                        set_tenant(tmap, info, q.orm),
                    )
