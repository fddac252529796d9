"""HTTP handlers (FastAPI, Flask, Django views, DRF) and the tenant context each one has: a
configured resolver or guard it (or a same-module function it calls) mentions, a Flask
`before_request` hook, a membership check, or a capability token."""

from __future__ import annotations

import ast
import re

from tenantlint.facts import ContextProvider, Handler
from tenantlint.frontends.python.taint import Taint
from tenantlint.frontends.python.util import (
    elements,
    kwarg,
    last_name,
    literal_str,
    literal_strs,
    module_name,
    positional,
    read_key,
    walk,
)
from tenantlint.frontends.python.walker import ClassCtx, FuncCtx, FunctionNode

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_DRF_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")
_ROUTE_DECOS = (*HTTP_METHODS, "route", "api_route", "websocket")
OWN_ROWS = "the authenticated user's own rows"
_PERMISSION_METHODS = ("has_permission", "has_object_permission")
_NOT_KEYS = {"self", "cls", "request", "view", "obj", "func", "fn", "f"}


class Handlers(Taint):
    """Handler detection at each function; their tenant context once the module is walked."""

    def handler(self, node: FunctionNode, ctx: FuncCtx, cls: ClassCtx | None) -> Handler | None:
        route: str | None = None
        methods: tuple[str, ...] = ()
        framework: str | None = None
        for d in node.decorator_list:
            if not isinstance(d, ast.Call) or not isinstance(d.func, ast.Attribute):
                if last_name(d.func if isinstance(d, ast.Call) else d) == "api_view":
                    framework = "drf"
                continue
            meth = d.func.attr
            if meth not in _ROUTE_DECOS:
                if meth == "api_view":
                    framework = "drf"
                continue
            args = positional(d)
            route = literal_str(args[0]) if args else literal_str(kwarg(d, "path"))
            if route is None and not (self.fastapi or self.flask):
                continue
            framework = "fastapi" if self.fastapi else "flask" if self.flask else "http"
            if meth in HTTP_METHODS:
                methods = (meth.upper(),)
            else:
                methods = tuple(s.upper() for s in (literal_strs(kwarg(d, "methods")) or []))
        fname = node.name
        if (
            cls is not None
            and cls.view
            and not self.funcs
            and (fname in HTTP_METHODS or fname in _DRF_ACTIONS)
        ):
            framework = (
                "flask"
                if self.flask and not self.django
                else "drf"
                if self.imports.mentions("rest_framework")
                else "django"
            )
            methods = (fname.upper(),) if fname in HTTP_METHODS else ()
        elif (
            framework is None
            and self.django
            and self.is_views_module
            and not self.funcs
            and cls is None
        ):
            params = [p.arg for p in (*node.args.posonlyargs, *node.args.args)]
            if params and params[0] == "request":
                framework = "django"
        if framework is None:
            return None
        if route:
            ctx.path_params = set(re.findall(r"[{<](?:\w+:)?(\w+)[}>]", route))
        elif framework in ("django", "drf"):
            ctx.path_params = {p.arg for p in node.args.args} - {"self", "request"}
        return Handler(
            loc=self.src.header_loc(node),
            framework=framework,
            name=ctx.name,
            route=route,
            methods=methods,
            context_refs=tuple(sorted(self._wrappers(node, cls))),
        )

    def _wrappers(self, node: FunctionNode, cls: ClassCtx | None) -> set[str]:
        """What may establish the tenant around a handler: its decorators, its class's DRF
        `permission_classes`, and the FastAPI dependencies of its parameters."""
        refs = {
            r
            for d in node.decorator_list
            if (r := self.ref(d.func if isinstance(d, ast.Call) else d))
        }
        for d in node.decorator_list:  # `@permission_classes([IsAuthenticated, IsProjectAdmin])`
            if isinstance(d, ast.Call) and last_name(d.func) == "permission_classes":
                refs |= {r for a in d.args for e in elements(a) if (r := self.ref(e))}
        refs |= cls.permission_refs if cls is not None else set()
        a = node.args
        for part in (
            *a.defaults,
            *a.kw_defaults,
            *(p.annotation for p in (*a.args, *a.kwonlyargs)),
        ):
            for n in walk(part) if part is not None else ():
                if isinstance(n, ast.Call) and last_name(n.func) == "Depends" and n.args:
                    refs |= {r for r in [self.ref(n.args[0])] if r}
        return refs

    def context_providers(self) -> list[ContextProvider]:
        """This module's functions and classes that check the caller's membership or call a
        configured resolver or guard, nested functions included (a decorator's wrapper), with
        the request keys they read (`view.kwargs["project_id"]`, `kwargs.get("slug")`)."""
        names = set(self.config.tenant_resolvers) | set(self.config.guards)
        tops = {f.top for f in self.done_funcs if f.membership or f.names & names}
        # a DRF permission class that decides by the request's user: an authorisation check
        tops |= {
            f.top
            for f in self.done_funcs
            if f.cls is not None and f.node.name in _PERMISSION_METHODS and "user" in f.names
        }
        keys: dict[str, set[str]] = {t: set() for t in tops}
        for f in self.done_funcs:
            if f.top in keys:
                keys[f.top] |= _keys_read(f.node)
        return [
            ContextProvider(name=f"{module_name(self.path)}.{t}", keys=tuple(sorted(keys[t])))
            for t in sorted(tops)
        ]

    def finish_handlers(self) -> None:
        """Each handler's models, raw SQL and tenant context, through the same-module functions
        it calls."""
        by_name = {f.name: f for f in self.done_funcs}
        short = {f.name.rsplit(".", 1)[-1]: f for f in self.done_funcs}
        context_names = set(self.config.tenant_resolvers) | set(self.config.guards)
        module_context = (self.before_request and bool(self.module_names & context_names)) or any(
            f.name.rsplit(".", 1)[-1] == "before_request"
            for f in self.done_funcs
            if f.names & context_names
        )
        for f in self.done_funcs:
            if f.handler is None:
                continue
            models: set[str] = set()
            raw = False
            names: set[str] = set()
            membership = capability = False
            todo, seen = [f], {f.name}
            while todo:
                cur = todo.pop()
                models.update(s.model for s in cur.sites if s.guarded_by != OWN_ROWS)
                models.update(cur.tables)
                raw = raw or cur.raw
                membership = membership or cur.membership
                capability = capability or cur.capability
                names |= cur.names
                for c in cur.calls:
                    callee = by_name.get(f"{f.cls.name}.{c}" if f.cls else c) or short.get(c)
                    if callee is not None and callee.name not in seen:
                        seen.add(callee.name)
                        todo.append(callee)
            if f.cls is not None:
                names |= f.cls.names
            ctx_hit = sorted(names & context_names)
            context = ctx_hit[0] if ctx_hit else ("before_request" if module_context else None)
            if context is None and membership:
                context = "membership check"  # a query on the tenant filtered by request.user
            if context is None and capability:
                context = "capability token"
            self.handlers.append(
                f.handler.model_copy(
                    update={
                        "tenant_context": context,
                        "models": tuple(sorted(models)),
                        "raw_sql": raw,
                    }
                )
            )


def _keys_read(node: FunctionNode) -> set[str]:
    """The request keys a function reads: string keys by subscript or `.get("key")`, and the
    URL parameters a decorator's wrapper takes by name (`def wrapper(request, project_pk, …)`)."""
    a = node.args
    out = {p.arg for p in (*a.posonlyargs, *a.args)} - _NOT_KEYS
    return out | {read[1] for n in walk(node) if (read := read_key(n)) is not None}
