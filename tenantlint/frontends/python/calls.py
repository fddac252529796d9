"""The call-graph facts of a Python module: each function's summary (the queries its parameters
decide) and each call that passes a request value or a parameter on to a project function.

A callee is named through the imports (`from app.docs import load` → `app.docs.load`), as a
module-level function or class of this module, or as a method through `self`/`cls`; calls on
other values (`service.load(…)`) are not followed.
"""

from __future__ import annotations

import ast
import sys

from tenantlint.config import Config
from tenantlint.facts import CallArg, CallSite, FunctionSummary, Param
from tenantlint.frontends.python.flow import Flow
from tenantlint.frontends.python.util import Imports, Source, absolute, dotted, module_name
from tenantlint.frontends.python.walker import FuncCtx, free_names

# top-level packages whose functions are never the project's: the standard library and the
# frameworks (their calls would only weigh on the call graph)
_LIBRARIES = frozenset(sys.stdlib_module_names) | {
    "django", "rest_framework", "sqlalchemy", "sqlmodel", "alembic", "fastapi", "starlette",
    "flask", "flask_sqlalchemy", "flask_login", "flask_restful", "pydantic", "celery", "typing",
    "typing_extensions", "requests", "httpx", "structlog", "sentry_sdk", "pytest", "drf_spectacular",
}  # fmt: skip


class Calls(Flow):
    """Summaries and call sites, collected during the walk and finished after it."""

    def __init__(
        self, path: str, module: ast.Module, imports: Imports, source: Source, config: Config
    ) -> None:
        super().__init__(path, module, imports, source, config)
        self.top_names = {
            s.name
            for s in self.module.body
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        self.call_sites: list[tuple[FuncCtx, ast.Call, CallSite]] = []

    def record_call(self, node: ast.Call) -> None:
        f = self.func
        callee = self._callee(node.func, f) if f is not None else None
        if f is None or callee is None:
            return
        args: list[CallArg] = []
        if f.tainted or f.path_params or f.params - {"self", "cls"}:  # else nothing to carry
            for i, a in enumerate(node.args):
                if isinstance(a, ast.Starred):
                    break
                args += self._arg(f, a, i, None)
            for k in node.keywords:
                if k.arg is not None:
                    args += self._arg(f, k.value, -1, k.arg)
        site = CallSite(
            loc=self.loc(node), callee=callee, function=f.name, args=tuple(args), entry=_entry(f)
        )
        self.call_sites.append((f, node, site))

    def _callee(self, func: ast.expr, f: FuncCtx) -> str | None:
        name = dotted(func)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in ("self", "cls") and f.cls is not None and rest and "." not in rest:
            return f"{module_name(self.path)}.{f.cls.name}.{rest}"
        if head in self.imports.names:
            full = self.imports.qualify(func) or name
            return None if full.split(".")[0] in _LIBRARIES else absolute(full, self.path)
        if head in self.top_names:
            return f"{module_name(self.path)}.{name}"
        return None

    def _arg(self, f: FuncCtx, value: ast.expr, index: int, key: str | None) -> list[CallArg]:
        source, name = self.taint(value), None
        if source is None and isinstance(value, ast.Name) and value.id in f.path_params:
            source, name = f"path parameter `{value.id}`", value.id
        free = _free(value)
        if source is None and not (free and free <= f.params):
            return []
        forwarded = self.forwarded(f, [value]) if source is None else ()
        if source is None and len(forwarded) != 1:
            return []
        if free & self._proven(f):
            return []  # `…get(pk=project_id, workspace__slug=slug)` before: checked (PRECISION 1)
        param = forwarded[0] if source is None else None
        return [CallArg(index=index, key=key, source=source, param=param, name=name)]

    def _proven(self, f: FuncCtx) -> set[str]:
        """The variables a query so far in `f` constrained together with the tenant."""
        out: set[str] = set()
        for site, values in zip(f.sites, f.site_values, strict=True):
            if site.where is not None and (
                site.where.helpers or self.has_tenant_key(site.where.keys)
            ):
                out |= values
        return out

    def finish_calls(self) -> tuple[list[FunctionSummary], list[CallSite]]:
        """The summaries of the module-level functions and methods that query or call, and the
        call sites with `checked` set where the caller authorises the result."""
        calling = {id(f) for f, _, _ in self.call_sites}
        summaries = []
        for f in self.done_funcs:
            sinks = tuple(q for q in f.sites if q.params) if f.handler is None else ()
            nested = f.top != (f.cls.name if f.cls else f.name)
            if nested or not (f.sites or id(f) in calling):
                continue
            summaries.append(
                FunctionSummary(
                    name=f"{module_name(self.path)}.{f.name}",
                    label=f.name,
                    params=_params(f.node, f.cls is not None),
                    handler=_entry(f),
                    sinks=sinks,
                    loc=self.src.header_loc(f.node),
                )
            )
        calls = []
        for f, node, site in self.call_sites:
            result = next(
                (
                    n
                    for n, v in f.assigns.items()
                    if v is node or (isinstance(v, ast.Await) and v.value is node)
                ),
                None,
            )
            checked = result is not None and result in f.guard_names
            calls.append(site.model_copy(update={"checked": True}) if checked else site)
        return summaries, calls


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> tuple[Param, ...]:
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    if method and positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    out = [Param(name=p.arg, index=i) for i, p in enumerate(positional)]
    return tuple(out + [Param(name=p.arg, index=-2) for p in a.kwonlyargs])


def _free(value: ast.expr) -> set[str]:
    """The names an argument forwards as it is: a name, `a.b.c`, `a[0]`, a conversion of one
    (`int(task_id)`); anything built from more (a call, a dict) forwards no parameter."""
    head = value
    for _ in range(8):
        if isinstance(head, (ast.Attribute, ast.Subscript, ast.Starred)):
            head = head.value
        elif (
            isinstance(head, ast.Call)
            and isinstance(head.func, ast.Name)
            and head.func.id in ("int", "str", "UUID", "float")
            and len(head.args) == 1
        ):
            head = head.args[0]
        else:
            break
    if isinstance(head, ast.Constant):
        return set()
    return free_names([head]) if isinstance(head, ast.Name) else {"<computed>"}


def _entry(f: FuncCtx) -> bool:
    """A request entry point: a handler, or a method of a view or serializer class (the
    framework calls `get_queryset`, `validate_project`, `create` on the request's data)."""
    if f.handler is not None:
        return True
    return f.cls is not None and (f.cls.view or any(b.endswith("Serializer") for b in f.cls.bases))
