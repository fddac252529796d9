"""Request-derived tenant ids: which request value an expression reads (body, query, path,
headers), and the sinks it reaches (a filter on the tenant column, create data, the RLS
wrapper's argument)."""

from __future__ import annotations

import ast
import re

from tenantlint.facts import RequestTenant
from tenantlint.frontends.python.flags import Flags
from tenantlint.frontends.python.util import dotted, last_name, literal_str, walk
from tenantlint.frontends.python.walker import FuncCtx

_REQUEST_SOURCES = (
    "json",
    "get_json",
    "args",
    "form",
    "values",
    "GET",
    "POST",
    "data",
    "query_params",
    "path_params",
    "view_args",
    "headers",
    "cookies",
    "match_info",
)
_REQUESTS = ("request", "self.request", "req", "flask.request")
_TAINT_METHODS = ("get", "getlist", "pop", "strip", "lower")
_CONVERSIONS = ("int", "str", "UUID", "uuid.UUID", "float")


class Taint(Flags):
    """Request values, followed to the tenant sinks."""

    def taint(self, expr: ast.expr) -> str | None:
        """The request source an expression reads the tenant id from, if any."""
        f = self.func
        if f is None or not (
            f.tainted
            or f.path_params
            or f.params & {"request", "req"}
            or (f.cls and f.cls.view)
            or (self.flask and f.handler is not None)  # Flask's request is a global
        ):
            return None
        return self._source(f, expr, expr)

    def _source(self, f: FuncCtx, node: ast.expr, whole: ast.expr) -> str | None:
        """Follow the value itself (subscripts, `.get()`, conversions, `await`, `or`), not what
        it is passed to: `Serializer(data=request.data).data` is the serializer's output."""
        if isinstance(node, ast.Attribute) and node.attr in _REQUEST_SOURCES:
            owner = dotted(node.value) or ""
            if owner in _REQUESTS:
                if node.attr in ("headers", "cookies") and self._trusted_header(whole):
                    return None
                return f"{owner}.{node.attr}"
        if isinstance(node, ast.Name):
            if node.id in f.tainted:
                return f.tainted[node.id]
            if node.id in f.path_params and node.id in self.tenant_fields:
                return "path parameter"
            return None
        inner: list[ast.expr] = []
        if isinstance(node, (ast.Subscript, ast.Attribute, ast.Await)):
            inner = [node.value]
        elif isinstance(node, ast.BoolOp):
            inner = list(node.values)
        elif isinstance(node, ast.BinOp):
            inner = [node.left, node.right]
        elif isinstance(node, ast.IfExp):
            inner = [node.body, node.orelse]
        elif isinstance(node, ast.Call):
            name = last_name(node.func) or ""
            if isinstance(node.func, ast.Attribute) and name in _REQUEST_SOURCES:
                inner = [node.func]  # `request.json()`, `request.get_json()`
            elif isinstance(node.func, ast.Attribute) and name in _TAINT_METHODS:
                inner = [node.func.value]
            elif name in _CONVERSIONS and (node.args or node.keywords):
                first = node.args[0] if node.args else node.keywords[0].value
                inner = [first.value if isinstance(first, ast.Starred) else first]
        for part in inner:
            src = self._source(f, part, whole)
            if src:
                return src
        return None

    def _trusted_header(self, expr: ast.expr) -> bool:
        return any(
            (s := literal_str(n)) is not None and s in self.config.trusted_tenant_headers
            for n in walk(expr)
        )

    def sink(self, key: str, values: list[ast.expr], sink: str) -> None:
        """A value used for the tenant key `key`: a request tenant when it comes from the request."""
        if re.split(r"__|\.", key)[0] not in self.tenant_fields:
            return
        for v in values:
            src = self.taint(v)
            if src:
                self.request_tenants.append(RequestTenant(loc=self.loc(v), source=src, sink=sink))
                return

    def wrapper_args(self, call: ast.Call) -> None:
        for a in [*call.args, *(k.value for k in call.keywords)]:
            src = self.taint(a)
            if src:
                self.request_tenants.append(
                    RequestTenant(
                        loc=self.loc(a), source=src, sink=f"{last_name(call.func)} argument"
                    )
                )
