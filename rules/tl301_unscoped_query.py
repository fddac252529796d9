"""TL301 unscoped-query: an ORM read, update or delete of a tenant-scoped model without a tenant predicate."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tenantlint.callgraph import Reached
from tenantlint.facts import FileFacts, FunctionSummary, Predicate, QuerySite, Unverified
from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import EntityInfo, TenancyMap

from ._code_evidence import capability_lookup, pins_tenant, user_scoped
from ._examples import with_files
from ._fixes import scope_query
from ._py_examples import DEPS, django, endpoint, sqlalchemy, view

_SA_ROUTE = (
    '@router.get("/projects/{{project_id}}")\n'
    "def get_project(\n"
    f"    project_id: int, {DEPS}\n"
    "):\n"
    "    return db.query(Project).filter(Project.id == project_id{where}).one(){mark}\n"
)
_DJ_VIEW = (
    "def project_detail(request, pk):\n"
    "    tenant = get_current_tenant(request)\n"
    "    project = Project.objects.get(pk=pk{where}){mark}\n"
    '    return JsonResponse({{"slug": project.slug}})\n'
)


class UnscopedQuery(Rule):
    code = "TL301"
    name = "unscoped-query"
    severity = "error"
    security_severity = 8.1
    cwe = (639,)
    precision = "high"
    config_keys = (
        "tenant-fields",
        "tenant-models",
        "global-models",
        "scope-helpers",
        "rls-wrappers",
        "non-product-code",
    )
    fix = "filter the query by the caller's tenant, or use a scope helper"
    summary = "An ORM read, update or delete of a tenant-scoped model with no tenant predicate."
    rationale = (
        "`findUnique({ where: { id } })` on a tenant-scoped model returns any tenant's row to whoever "
        "knows or guesses the id. Every read, update and delete of tenant data must be constrained "
        "by the caller's tenant: the tenant field, a compound key containing it, a relation to the "
        "tenant, a configured scope helper, or a client the RLS wrapper scoped. Check-then-act, "
        "fetch-then-authorise, capability tokens and pass-through helpers are recognised and not "
        "reported; where the filter cannot be read statically, the site is listed as unverified. "
        "A query its function's parameters decide is judged where the function is called: the "
        "finding is at the entry point that passes it a request value, with the chain of calls "
        "(docs/precision.md)."
    )
    bad = with_files(
        {
            "app/api/projects/[id]/route.ts": (
                'import { prisma } from "@/lib/prisma";\n'
                'import { getResolvedTenantId } from "@/lib/tenant";\n\n'
                "export async function GET(req: Request, { params }: { params: { id: string } }) {\n"
                "  await getResolvedTenantId(req);\n"
                "  const project = await prisma.project.findUnique({ where: { id: params.id } }); // expect: TL301\n"
                "  return Response.json(project);\n"
                "}\n"
            ),
        }
    )
    good = with_files(
        {
            "app/api/projects/[id]/route.ts": (
                'import { prisma } from "@/lib/prisma";\n'
                'import { getResolvedTenantId } from "@/lib/tenant";\n\n'
                "export async function GET(req: Request, { params }: { params: { id: string } }) {\n"
                "  const tenantId = await getResolvedTenantId(req);\n"
                "  const project = await prisma.project.findFirst({ where: { id: params.id, tenantId } });\n"
                "  return Response.json(project);\n"
                "}\n"
            ),
        }
    )

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {"app/api.py": endpoint(_SA_ROUTE.format(where="", mark="  # expect: TL301"))}
            ),
            sqlalchemy(
                {
                    "app/api.py": endpoint(
                        _SA_ROUTE.format(where=", Project.tenant_id == tenant.id", mark="")
                    )
                }
            ),
        ),
        "django": (
            django(
                {"projects/views.py": view(_DJ_VIEW.format(where="", mark="  # expect: TL301"))}
            ),
            django({"projects/views.py": view(_DJ_VIEW.format(where=", tenant=tenant", mark=""))}),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding | Unverified]:
        graph = tmap.calls
        for facts in tmap.iter_files():
            handlers = {h.name for h in facts.handlers}
            for q in facts.queries:
                info = _unscoped(tmap, q)
                if info is None:
                    continue
                fn = graph.summary(facts.path, q.function) if q.params else None
                if fn is not None and not fn.handler and not _given_tenant(tmap, fn):
                    if not graph.has_callers(fn):
                        yield self.unverified(
                            q.loc,
                            f"filters by its parameters ({', '.join(q.params)}) and no caller is "
                            "visible in the project: its callers decide",
                        )
                elif _wrapper_checks(tmap, facts, q):
                    continue  # `@allow_permission` reads and checks the path's project_id
                elif info.classification == "via-parent":
                    yield from self._child(info, q, q.function in handlers)
                elif q.pass_through:
                    yield self.unverified(
                        q.loc, "forwards its caller's criteria: scoped at the call sites"
                    )
                elif q.where is not None and q.where.unknown:
                    yield self.unverified(q.loc, "the filter cannot be read statically")
                elif user_scoped(q.where):
                    yield self.unverified(
                        q.loc, "scoped by the caller's user or membership, not the tenant"
                    )
                else:
                    reached = _reached(tmap, facts, q, handlers)
                    if reached is None:
                        yield self.unverified(
                            q.loc,
                            "not reached from a request handler: a job, command or helper whose "
                            "callers are not visible (a sweep across tenants may be by design)",
                        )
                        continue
                    what = "no filter" if q.where is None else "a filter without the tenant"
                    yield self.finding(
                        q.loc,
                        f"{q.operation} on tenant-scoped '{info.name}' with {what}{reached}: any "
                        "tenant's rows match",
                        scope_query(tmap, info, q.orm),
                    )
        yield from self._entry_points(tmap)

    def _entry_points(self, tmap: TenancyMap) -> Iterator[Finding]:
        """A query its function's parameters decide, reached from an entry point that passes a
        request value for them: one finding at each such call (the first query it reaches)."""
        graph = tmap.calls
        seen: set[tuple[str, int, int]] = set()
        for facts in tmap.iter_files():
            for fn in facts.functions:
                if _given_tenant(tmap, fn):
                    continue  # it has the tenant and does not filter by it: the finding is its own
                for sink in fn.sinks:
                    info = _unscoped(tmap, sink)
                    where = sink.where
                    if info is None or (where is not None and where.unknown) or user_scoped(where):
                        continue
                    for r in graph.reach(fn, sink.params):
                        key = (r.path, r.call.loc.line, r.call.loc.column)
                        if key in seen or _authorised(tmap, r):
                            continue
                        seen.add(key)
                        chain = " → ".join(f"{c}()" for c in r.chain)
                        verb = {"read": "reads", "update": "updates"}.get(sink.action, "deletes")
                        yield self.finding(
                            r.call.loc,
                            f"passes {r.source} to {chain}, which {verb} '{info.name}' by "
                            f"{', '.join(sink.params)} alone, with no tenant filter "
                            f"({facts.path}:{sink.loc.line}): any tenant's row matches",
                        )

    def _child(
        self, info: EntityInfo, q: QuerySite, in_handler: bool
    ) -> Iterator[Finding | Unverified]:
        """A model scoped through its parent (PRECISION 16): a finding in a request handler that
        reads it without the parent's tenant; elsewhere its callers decide (unverified)."""
        parent = f"scoped via its parent '{info.parent}'"
        if not in_handler or q.pass_through or (q.where is not None and q.where.unknown):
            yield self.unverified(q.loc, f"{parent}: the parent's tenant is checked by its callers")
            return
        yield self.finding(
            q.loc,
            f"{q.operation} on '{info.name}' ({parent}) in a request handler with no filter on "
            "the parent's tenant: any tenant's rows match",
        )


_SCOPED = ("scoped", "via-parent")


def _unscoped(tmap: TenancyMap, q: QuerySite) -> EntityInfo | None:
    """The tenant-scoped (or via-parent) entity a read, update or delete touches with no tenant
    evidence of its own, if it does."""
    if q.action not in ("read", "update", "delete") or q.rls_scoped or q.guarded_by:
        return None
    info = tmap.entity(q.model)
    if info is None or info.classification not in ("scoped", "via-parent"):
        return None
    if pins_tenant(tmap, info, q.where) or capability_lookup(tmap, info, q.where):
        return None
    return None if _parent_filtered(tmap, info, q.where) else info


def _parent_filtered(tmap: TenancyMap, info: EntityInfo, where: Predicate | None) -> bool:
    """Filtered by a parent row that belongs to one tenant (`{ id, workspaceId }` on a chart of
    a workspace, `project_id=…` on a label of a project): the parent's id is what its callers
    and permission checks verify (PRECISION 16)."""
    heads = {re.split(r"__|\.", k)[0] for k in where.keys} if where is not None else set()
    for f in info.fields:
        rel = f.relation
        if rel is None or not heads & {f.name, f.column, *rel.fields}:
            continue
        target = tmap.entity(rel.target)
        if target is not None and target is not info and target.classification in _SCOPED:
            return True
    return False


def _wrapper_checks(tmap: TenancyMap, facts: FileFacts, q: QuerySite) -> bool:
    """A handler's query by path parameters that its permission class or decorator reads and
    checks (PRECISION 12)."""
    handler = next((h for h in facts.handlers if h.name == q.function), None)
    if handler is None or not q.params:
        return False
    keys = {k for ref in handler.context_refs for k in tmap.context_keys(ref)}
    return set(q.params) <= keys


def _authorised(tmap: TenancyMap, r: Reached) -> bool:
    """A path parameter the entry point's wrapper reads and checks (a permission class or
    decorator that verifies `kwargs["project_id"]`'s membership): PRECISION 12."""
    if r.name is None:
        return False
    facts = tmap.files.get(r.path)
    handler = (
        next((h for h in facts.handlers if h.name == r.call.function), None) if facts else None
    )
    return handler is not None and any(
        r.name in tmap.context_keys(ref) for ref in handler.context_refs
    )


def _given_tenant(tmap: TenancyMap, fn: FunctionSummary) -> bool:
    """Whether a function receives the tenant (`tenantId`, `tenant`): then its callers cannot
    scope what it fails to."""
    roots = {m.lower() for m in tmap.config.tenant_models}
    return any(tmap.is_tenant_field(p.name) or p.name.lower() in roots for p in fn.params)


def _reached(tmap: TenancyMap, facts: FileFacts, q: QuerySite, handlers: set[str]) -> str | None:
    """How a Python query outside the handlers is reached from one (" (reached from … via …)"),
    "" when it is in a handler or its function is not summarised, None when no handler reaches
    it. TypeScript keeps its findings: its entry points include server components and pages
    that are not read yet, so "not reached" cannot be told there."""
    if facts.frontend != "python" or q.function in handlers:
        return ""
    fn = tmap.calls.summary(facts.path, q.function)
    if fn is None or fn.handler:
        return ""
    found = tmap.calls.entry_chain(fn)
    if found is None:
        return None
    call, chain = found
    return f", reached from {call.function}() via {' → '.join(f'{c}()' for c in chain)}"
