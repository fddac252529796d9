"""HTTP entry points in TypeScript/JavaScript, and tenant ids taken from the request.

Handlers: Next.js App Router (`app/**/route.ts` exports), Pages Router API routes, Server
Actions (`"use server"`), and Express/Fastify/Hono/Koa registrations. Request values are traced
within one function, from the request source to a variable, to a tenant predicate or wrapper call.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from tenantlint.frontends.typescript.syntax import (
    FUNCTION_TYPES,
    Source,
    call_args,
    callee_name,
    parameter_names,
    pattern_names,
    string_value,
    text,
    unwrap,
)

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_APP_ROUTE = re.compile(r"(?:^|/)app/(?P<route>(?:.*/)?)route\.[mc]?[jt]sx?$")
_PAGES_API = re.compile(r"(?:^|/)pages/(?P<route>api/.*?)(?:/index)?\.[mc]?[jt]sx?$")
_MIDDLEWARE = re.compile(r"(?:^|/)(?:src/)?middleware\.[mc]?[jt]s$")
_FRAMEWORK_IMPORT = re.compile(
    rb"""(?:from|require\s*\()\s*['"](express|fastify|hono|koa|@koa/router|koa-router|next-connect)['"]"""
)
ROUTER_METHODS = frozenset({"get", "post", "put", "patch", "delete", "all"})
_SEGMENT_GROUP = re.compile(r"\([^/]*\)/")


@dataclass
class HandlerDef:
    node: Node  # where it is reported: the export / registration
    body: Node  # the function that runs
    framework: str
    name: str
    route: str | None
    methods: tuple[str, ...]
    wrapped_by: tuple[str, ...] = ()  # HOF callee names around it: `withAuth(async (req) => …)`


def route_of(path: str) -> tuple[str, str] | None:
    """(framework, route) for a Next.js route file, from its path."""
    m = _APP_ROUTE.search(path)
    if m:
        return "next-app", "/" + _SEGMENT_GROUP.sub("", m["route"]).rstrip("/")
    m = _PAGES_API.search(path)
    if m:
        return "next-pages", "/" + m["route"]
    return None


def is_middleware(path: str) -> bool:
    return _MIDDLEWARE.search(path) is not None


def _function_of(src: Source, node: Node, wrappers: list[str]) -> Node | None:
    """The function an exported value is: a function, an identifier bound to one, or a HOF call."""
    node = unwrap(node)
    for _ in range(5):
        if node.type in FUNCTION_TYPES:
            return node
        if node.type == "identifier":
            found = module_function(src, text(node))
            if found is None:
                return None
            node = found
        elif node.type == "call_expression":
            wrappers.append(callee_name(node) or "")
            fns = [
                a
                for a in call_args(node)
                if unwrap(a).type in FUNCTION_TYPES | {"identifier", "call_expression"}
            ]
            if not fns:
                return None
            node = unwrap(fns[-1])
        else:
            return None
    return None


def module_function(src: Source, name: str) -> Node | None:
    """A module-level function declaration or `const name = (…) => …` by name."""
    return module_functions(src).get(name)


def module_functions(src: Source) -> dict[str, Node]:
    """Every module-level function (or bound value) by name."""
    return src.index("module functions", lambda: _module_functions(src))


def _module_functions(src: Source) -> dict[str, Node]:
    """Every module-level function by name, the first declaration of a name winning."""
    out: dict[str, Node] = {}
    for child in src.root.named_children:
        decl = (
            child.child_by_field_name("declaration") if child.type == "export_statement" else child
        )
        if decl is None:
            continue
        if decl.type in ("function_declaration", "generator_function_declaration"):
            n = decl.child_by_field_name("name")
            if n is not None:
                out.setdefault(text(n), decl)
        elif decl.type in ("lexical_declaration", "variable_declaration"):
            for d in decl.named_children:
                n, v = d.child_by_field_name("name"), d.child_by_field_name("value")
                if n is not None and v is not None:
                    out.setdefault(text(n), v)
    return out


def _is_use_server(block: Node | None) -> bool:
    if block is None:
        return False
    first = next((c for c in block.named_children if c.type != "comment"), None)
    if first is None or first.type != "expression_statement" or not first.named_child_count:
        return False
    return string_value(first.named_children[0]) == "use server"


def find_handlers(src: Source, router_calls: list[Node]) -> Iterator[HandlerDef]:
    route = route_of(src.path)
    file_action = _is_use_server(src.root)
    for child in src.root.named_children:
        if child.type != "export_statement":
            continue
        default = any(c.type == "default" for c in child.children)
        for name, value in _exported(child):
            wrappers: list[str] = []
            fn = _function_of(src, value, wrappers)
            if fn is None:
                continue
            if route and route[0] == "next-app" and name in HTTP_METHODS:
                yield HandlerDef(child, fn, "next-app", name, route[1], (name,), tuple(wrappers))
            elif route and route[0] == "next-pages" and default:
                yield HandlerDef(child, fn, "next-pages", name, route[1], (), tuple(wrappers))
            elif file_action or _is_use_server(fn.child_by_field_name("body")):
                yield HandlerDef(child, fn, "server-action", name, None, ("POST",), tuple(wrappers))
    if router_calls and _FRAMEWORK_IMPORT.search(src.data):
        for call in router_calls:
            args = call_args(call)
            path = string_value(args[0]) if len(args) >= 2 else None
            if path is None or not path.startswith("/"):
                continue
            wrappers = []
            fn = _function_of(src, args[-1], wrappers)
            if fn is not None:
                method = (callee_name(call) or "").upper()
                member = call.child_by_field_name("function")
                at = member.child_by_field_name("property") if member is not None else None
                yield HandlerDef(
                    at or call, fn, "express", f"{method} {path}", path, (method,), tuple(wrappers)
                )


def _exported(export: Node) -> Iterator[tuple[str, Node]]:
    """(exported name, value) pairs of one export statement."""
    decl = export.child_by_field_name("declaration")
    value = export.child_by_field_name("value")
    if decl is not None:
        if decl.type in ("function_declaration", "generator_function_declaration"):
            n = decl.child_by_field_name("name")
            yield (
                (
                    "default"
                    if any(c.type == "default" for c in export.children)
                    else text(n)
                    if n
                    else ""
                ),
                decl,
            )
        elif decl.type in ("lexical_declaration", "variable_declaration"):
            for d in decl.named_children:
                n, v = d.child_by_field_name("name"), d.child_by_field_name("value")
                if n is not None and v is not None and n.type == "identifier":
                    yield text(n), v
    elif value is not None:
        yield "default", value
    else:
        for clause in export.named_children:
            if clause.type != "export_clause":
                continue
            for spec in clause.named_children:
                local, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if local is not None:
                    yield text(alias or local), local


# --- request values ---------------------------------------------------------------------------

REQUEST_SOURCE = re.compile(
    r"\b(?:req|request|ctx\.request|c\.req)\s*\.\s*(?:body|query|params|cookies)\b"
    r"|\.\s*(?:json|formData)\s*\(\s*\)"
    r"|\b(?:searchParams|formData)\s*\.\s*get\s*\("
    r"|\bcookies\s*\(\s*\)\s*\.\s*get\s*\("
    r"|\bc\s*\.\s*req\s*\.\s*(?:param|query)\s*\("
    r"|\bheaders\s*(?:\(\s*\))?\s*\.\s*get\s*\(\s*['\"](?P<header>[\w-]+)['\"]"
    r"|\bheaders\s*\[\s*['\"](?P<header2>[\w-]+)['\"]"
)
_WORD = re.compile(r"[A-Za-z_$][\w$]*")
# calls that read the request, or hand a value through unchanged
_PASS_VALUE = frozenset({"json", "formData", "get", "getAll", "param", "query", "cookies", "headers",
                         "String", "Number", "parseInt", "parseFloat", "BigInt", "toString", "trim",
                         "toLowerCase", "toUpperCase"})  # fmt: skip


class RequestTrace:
    """Variables of one function that hold values taken from the request."""

    def __init__(self, src: Source, fn: Node, trusted_headers: tuple[str, ...]) -> None:
        self.src = src
        self.trusted = {h.lower() for h in trusted_headers}
        self.tainted: dict[str, str] = {}  # variable → the request source it came from
        if route_of(src.path) is not None and "params" in parameter_names(fn):
            self.tainted["params"] = "route params"
        if self.tainted or REQUEST_SOURCE.search(text(fn)):  # else nothing in it reads the request
            self._declarations(fn)

    def source_in(self, node: Node) -> str | None:
        """The request source an expression reads, directly or through a traced variable."""
        raw = text(node)
        for m in REQUEST_SOURCE.finditer(raw):
            header = m["header"] or m["header2"]
            if header is None or header.lower() not in self.trusted:
                return re.sub(r"\s+", "", m.group(0)).rstrip("(")
        for word in _WORD.findall(raw):
            if word in self.tainted:
                return self.tainted[word]
        return None

    def _declarations(self, fn: Node) -> None:
        """Trace the function's declarations (closures included) in source order."""
        declarators = self.src.declarators
        starts = self.src.index("declarator starts", lambda: [d.start_byte for d in declarators])
        lo, hi = bisect_left(starts, fn.start_byte), bisect_left(starts, fn.end_byte)
        for decl in declarators[lo:hi]:
            self._declarator(decl)

    def _declarator(self, decl: Node) -> None:
        name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
        if name is None or value is None:
            return
        inner = unwrap(value)
        while inner.type == "call_expression" and callee_name(inner) in (
            "catch",
            "then",
            "finally",
        ):
            member = inner.child_by_field_name("function")
            inner = unwrap(member.child_by_field_name("object") or member) if member else inner
        if inner.type == "call_expression" and callee_name(inner) not in _PASS_VALUE:
            return  # any other call may verify what it is given (a token, a membership)
        source = self.source_in(value)
        if source is not None:
            for n in pattern_names(name):
                self.tainted[n] = source


def middleware_matchers(src: Source) -> list[str] | None:
    """The `config.matcher` patterns of a Next.js middleware (None: it runs on every route)."""
    for child in src.root.named_children:
        decl = (
            child.child_by_field_name("declaration") if child.type == "export_statement" else None
        )
        if decl is None or decl.type != "lexical_declaration":
            continue
        for d in decl.named_children:
            n, v = d.child_by_field_name("name"), d.child_by_field_name("value")
            if n is None or v is None or text(n) != "config" or unwrap(v).type != "object":
                continue
            for pair in unwrap(v).named_children:
                key = pair.child_by_field_name("key") if pair.type == "pair" else None
                value = pair.child_by_field_name("value") if key is not None else None
                if key is None or value is None or text(key).strip("'\"") != "matcher":
                    continue
                value = unwrap(value)
                items = value.named_children if value.type == "array" else [value]
                return [s for s in (string_value(i) for i in items) if s is not None]
    return None
