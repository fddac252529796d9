"""TL401 route-without-tenant-context: a handler that touches tenant data without resolving the tenant."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tenantlint.facts import Handler, Unverified
from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._code_evidence import capability_lookup
from ._examples import with_files
from ._fixes import resolver
from ._py_examples import django, endpoint, sqlalchemy, view

_ROUTE = (
    'import { prisma } from "@/lib/prisma";\n'
    'import { getResolvedTenantId, tenantFilter } from "@/lib/tenant";\n\n'
    "export async function GET(req: Request) {{MARK}\n"
    "{RESOLVE}"
    "  const projects = await prisma.project.findMany({ where: tenantFilter(tenantId) });\n"
    "  return Response.json(projects);\n"
    "}\n"
)


_SA_ROUTE = (
    '@router.get("/projects/count")\n'
    "def count_projects(db: Session = Depends(get_db){dep}):{mark}\n"
    "    return db.query(Project).filter(for_tenant(Project, current_tenant_id())).count()\n"
)
_DJ_VIEW = (
    "def project_list(request):{mark}\n"
    "    tenant_id = {resolve}\n"
    '    slugs = Project.objects.filter(tenant_id=tenant_id).values_list("slug", flat=True)\n'
    '    return JsonResponse({{"slugs": list(slugs)}})\n'
)


class RouteWithoutTenantContext(Rule):
    code = "TL401"
    name = "route-without-tenant-context"
    severity = "error"
    security_severity = 8.1
    cwe = (862, 639)
    precision = "medium"
    config_keys = (
        "tenant-resolvers",
        "guards",
        "trusted-tenant-headers",
        "tenant-fields",
        "tenant-models",
        "global-models",
        "non-product-code",
    )
    fix = "resolve the tenant through a configured tenant resolver or guard before touching tenant data"
    summary = "An HTTP handler that touches tenant-scoped data without resolving the tenant through a resolver or guard."
    rationale = (
        "The tenant of a request must come from one trusted place — a configured resolver that "
        "checks the session's membership, or a guard or middleware that does. A handler that reaches "
        "tenant-scoped data (directly or through functions of its module) without one takes its "
        "tenant from wherever the code happens to find it, and one forgotten check exposes every tenant."
    )
    bad = with_files(
        {
            "app/api/projects/route.ts": _ROUTE.replace("{MARK}", " // expect: TL401").replace(
                "{RESOLVE}", "  const tenantId = await currentTenantId();\n"
            )
        }
    )
    good = with_files(
        {
            "app/api/projects/route.ts": _ROUTE.replace("{MARK}", "").replace(
                "{RESOLVE}", "  const tenantId = await getResolvedTenantId(req);\n"
            )
        }
    )

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {"app/api.py": endpoint(_SA_ROUTE.format(dep="", mark="  # expect: TL401"))}
            ),
            sqlalchemy(
                {
                    "app/api.py": endpoint(
                        _SA_ROUTE.format(
                            dep=", tenant: Tenant = Depends(get_current_tenant)", mark=""
                        )
                    )
                }
            ),
        ),
        "django": (
            django(
                {
                    "projects/views.py": view(
                        _DJ_VIEW.format(
                            resolve="current_tenant_id(request)", mark="  # expect: TL401"
                        )
                    )
                }
            ),
            django(
                {
                    "projects/views.py": view(
                        _DJ_VIEW.format(resolve="get_current_tenant(request).pk", mark="")
                    )
                }
            ),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding | Unverified]:
        middleware = [
            (f.extra["middleware_context"], f.extra.get("middleware_matcher", "*"))
            for f in tmap.iter_files()
            if "middleware_context" in f.extra
        ]
        for facts in tmap.iter_files():
            capability = {
                q.function
                for q in facts.queries
                if (info := tmap.entity(q.model)) and capability_lookup(tmap, info, q.where)
            }
            for h in facts.handlers:
                if h.tenant_context is not None or h.name in capability:
                    continue  # a capability (a share anchor, a token): the tenant is its row's
                if any(tmap.provides_context(r) for r in h.context_refs):
                    continue  # a decorator, permission class or dependency resolves it
                scoped = sorted(
                    {
                        info.name
                        for m in h.models
                        if (info := tmap.entity(m)) and info.classification == "scoped"
                    }
                )
                if not scoped or any(_covers(matcher, h) for _, matcher in middleware):
                    continue
                if h.auth_hint is not None:
                    yield self.unverified(
                        h.loc,
                        f"authenticates through {h.auth_hint}(), which is not a configured "
                        "tenant resolver: add it to tenant-resolvers if it yields the tenant",
                    )
                    continue
                yield self.finding(
                    h.loc,
                    f"{_describe(h)} uses tenant-scoped {', '.join(scoped)} without "
                    "establishing the caller's tenant",
                    f"resolve the tenant first (`{resolver(tmap)}(…)`), or add the function, "
                    "decorator or guard that does it to tenant-resolvers or guards",
                )


_KIND = {
    "next-pages": "API route",
    "server-action": "server action",
    "django": "Django view",
    "drf": "DRF view",
    "fastapi": "FastAPI endpoint",
    "flask": "Flask view",
    "express": "Express route",
}


def _describe(h: Handler) -> str:
    """The handler as its author names it: `the DELETE handler of /api/projects/[id]`."""
    if h.framework == "next-app":
        return f"the {h.name} handler" + (f" of {h.route}" if h.route else "")
    if h.framework == "next-pages" and h.route:
        return f"the API route {h.route}"
    return f"{_KIND.get(h.framework, 'handler')} {h.name}()"


def _covers(matcher: str, handler: Handler) -> bool:
    """Whether Next.js middleware with these `matcher` patterns runs for the handler's route."""
    if matcher == "*":
        return True
    if handler.route is None or handler.framework not in ("next-app", "next-pages"):
        return False
    for pattern in matcher.split("\n"):
        regex = re.sub(r":\w+\*", ".*", pattern)
        regex = re.sub(r":\w+\+", ".+", regex)
        regex = re.sub(r":\w+", "[^/]+", regex)
        try:
            if re.fullmatch(regex, handler.route) or re.fullmatch(regex, handler.route + "/"):
                return True
        except re.error:
            return True  # a pattern we cannot read: do not claim the route is uncovered
    return False
