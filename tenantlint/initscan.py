"""What `tenantlint init` reads from the source text of the product code (tests, seeds and scripts
left out): the functions defined there (`Definition`: their parameters, whether they read the
request, whether they return a tenant predicate, whether they are client-side code), FastAPI
dependencies, guards applied to clients, tenancy flags read from the environment, and the
top-level function holding a line. Heuristics for a starter config, which a person reviews; the
front ends stay the only readers of syntax for the rules."""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tenantlint.config import NON_PRODUCT_CODE
from tenantlint.discovery import globspec, os_path
from tenantlint.frontends.typescript.grammar import grammar, parser
from tenantlint.frontends.typescript.syntax import FUNCTION_TYPES, unwrap
from tenantlint.frontends.typescript.syntax import text as node_text

if TYPE_CHECKING:
    from tree_sitter import Node

CODE_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".py")

_TOP_LEVEL = re.compile(
    r"(?:export\s+)?(?:default\s+)?(?:async\s+)?"
    r"(?:function\s*\*?\s*(\w+)|(?:const|let|var)\s+(\w+)\s*=|def\s+(\w+)|(class)\s+\w+)"
)
_GUARD_CALL = re.compile(r"(?<![\w$])(?<!def )(?<!function )(register\w*guard\w*)\s*\(", re.I)
_DEPENDS = re.compile(r"\bDepends\(\s*(\w+)\s*\)")
_ENV_READ = re.compile(
    r"""process\.env\.(\w+)|process\.env\[\s*["'](\w+)["']|import\.meta\.env\.(\w+)"""
    r"""|os\.(?:environ\.get|getenv)\(\s*["'](\w+)["']|os\.environ\[\s*["'](\w+)["']"""
    r"""|\benv(?:\.\w+)?\(\s*["'](\w+)["']"""
)
_ENV_DESTRUCTURED = re.compile(r"\{([^{}]*)\}\s*=\s*process\.env\b")
# `MULTI_TENANCY`, `TENANT_MODE`, `REDASH_MULTI_ORG`, `multiTenant`; not `MAINTENANCE_MODE`
# (a TENAN inside a word) nor `MULTIPROC_DIR`, `MULTI_BYTE_SEARCH` (another MULTI)
_FLAG_NAME = re.compile(
    r"(?:^|_)(?:MULTI_?)?TENAN|(?:^|_)MULTI_?(?:ORG|WORKSPACE|TEAM|COMPAN)", re.I
)
# a tenant id, URL, key or name in the environment is a value, not a switch
_VALUE_NAME = re.compile(r"_(?:IDS?|URL|URI|KEY|SECRET|TOKEN|HOST|PORT|NAME|PATH|DOMAIN|HEADER)$")
# client-side code: components, hooks, and modules of React, MobX and their kin (a server module
# may import React's `cache` or its types)
_CLIENT_PATH = re.compile(r"\.[jt]sx$|(?:^|/)(?:components|hooks)/")
_CLIENT_TEXT = re.compile(
    r"""^\s*["']use client["']"""
    r"""|^import\s+(?!type\b)(?!\{\s*cache(?:\s+as\s+\w+)?\s*\}\s*from)[^;'"]*?from\s+"""
    r"""["'](?:react|mobx|vue|svelte|swr)(?:[-/][^"']*)?["']""",
    re.MULTILINE,
)
_PY_REQUEST = frozenset({"request", "req", "g", "current_user"})
_TS_REQUEST_PARAMS = frozenset({"req", "request", "ctx", "event"})
_TS_REQUEST = re.compile(
    r"\b(?:req|request|ctx)\s*(?:\.|\?\.|\[)"
    r"|\b(?:headers|cookies|getSession|getServerSession|getServerAuthSession|auth)\s*\(\s*\)"
)
_PREDICATE_CALLS = frozenset({"Q", "filter", "filter_by", "where", "and_", "or_", "eq", "and"})
_MAX_PREDICATE_KEYS = 4  # a filter object names few columns; a serialised record names many


@dataclass(frozen=True)
class Definition:
    """A function of the product code, as init judges it."""

    name: str
    params: tuple[str, ...]  # the names its parameters bind (destructured keys too), self aside
    reads_request: bool  # it reads the request, the signed-in user or the session
    predicate: bool  # what it returns is a filter on the tenant column (`{ orgId }`)
    method: bool = False  # a method of a Django manager or queryset
    client: bool = False  # client-side code: a component, a React or MobX module


def product_code(root: Path, rels: Iterable[str]) -> dict[str, str]:
    """The text of every code file that is not test, seed or script code (`non-product-code`)."""
    skip = globspec(NON_PRODUCT_CODE)
    texts: dict[str, str] = {}
    for rel in rels:
        if rel.endswith(CODE_SUFFIXES) and not skip.match_file(rel):
            try:
                texts[rel] = (root / os_path(rel)).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    return texts


def top_level_at(text: str, line: int) -> str | None:
    """The top-level function or constant whose definition holds `line` (1-based); None inside a
    class, whose methods are named as they are."""
    name = None
    for source in text.splitlines()[:line]:
        m = _TOP_LEVEL.match(source)
        if m:
            name = next((g for g in m.groups()[:3] if g), None)
    return name


def guards(texts: dict[str, str]) -> Counter[str]:
    """`register…Guard(client)` calls (not their definitions), by name."""
    return Counter(m[1] for text in texts.values() for m in _GUARD_CALL.finditer(text))


def dependencies(texts: dict[str, str]) -> Counter[str]:
    """The functions FastAPI parameters depend on (`Depends(current_org)`), by name."""
    return Counter(
        n for rel, t in texts.items() if rel.endswith(".py") for n in _DEPENDS.findall(t)
    )


def tenancy_flags(texts: dict[str, str]) -> Counter[str]:
    """Environment variables read by the code whose names say tenancy (`MULTI_TENANT`,
    `TENANCY_MODE`, `MULTI_ORG`) and that are switches, not values (`DEFAULT_TENANT_ID`)."""
    names: Counter[str] = Counter()
    for text in texts.values():
        names.update(next(g for g in m.groups() if g) for m in _ENV_READ.finditer(text))
        for m in _ENV_DESTRUCTURED.finditer(text):
            names.update(re.findall(r"(\w+)\s*(?:=[^,]*)?(?:,|$)", m[1]))
    return Counter(
        {n: c for n, c in names.items() if _FLAG_NAME.search(n) and not _VALUE_NAME.search(n)}
    )


def definitions(
    texts: dict[str, str], tenant_names: set[str], models: set[str]
) -> Iterator[Definition]:
    """The module-level functions of every file (and the methods of Django managers and
    querysets), judged against the tenant column's names and the project's model names."""
    copy = re.compile(r"(?:\.|\[\s*[\"'])(?:" + "|".join(map(re.escape, tenant_names)) + r")\b")
    judge = _Judge(tenant_names, copy, models)
    for rel, text in texts.items():
        if rel.endswith(".py"):
            yield from _python_definitions(text, judge)
        else:
            client = bool(_CLIENT_PATH.search(rel) or _CLIENT_TEXT.search(text))
            yield from _ts_definitions(rel, text, judge, client)


@dataclass(frozen=True)
class _Judge:
    """Whether an object literal or call is a filter on the tenant column."""

    names: set[str]
    copy: re.Pattern[str]  # a value read from the same column of another record: `tag.orgId`
    models: set[str]

    def object(self, pairs: list[tuple[str, str]]) -> bool:
        """`{ orgId }`, `{"organization": org, "deleted": False}`: a tenant key, with a value that
        is not a record's own column, among few keys and no `id` (a serialised record)."""
        keys = [k for k, _ in pairs]
        return (
            any(k in self.names and not self.copy.search(v) for k, v in pairs)
            and "id" not in keys
            and len(keys) <= _MAX_PREDICATE_KEYS
        )


# --- Python ----------------------------------------------------------------------------------


def _python_definitions(text: str, judge: _Judge) -> list[Definition]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):  # newer syntax: a starter config can do without it
        return []
    out: dict[str, Definition] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = _python_definition(node, judge, method=False)
        elif isinstance(node, ast.ClassDef) and any(
            _base_name(b).endswith(("Manager", "QuerySet")) for b in node.bases
        ):
            for m in node.body:
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef):
                    out[m.name] = _python_definition(m, judge, method=True)
    for node in tree.body:  # `current_org = LocalProxy(_get_current_org)`: named as used
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
        ):
            wrapped = [a.id for a in node.value.args if isinstance(a, ast.Name) and a.id in out]
            if wrapped:
                out[node.targets[0].id] = replace(out[wrapped[0]], name=node.targets[0].id)
    return list(out.values())


def _python_definition(
    node: ast.FunctionDef | ast.AsyncFunctionDef, judge: _Judge, method: bool
) -> Definition:
    a = node.args
    params = tuple(p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs) if p.arg != "self")
    depends = any(
        isinstance(d, ast.Call) and _base_name(d.func) == "Depends"
        for d in (*a.defaults, *a.kw_defaults)
    )
    reads = (
        depends
        or bool(_PY_REQUEST & set(params))
        or any(
            (isinstance(n, ast.Name) and n.id in _PY_REQUEST)
            or (isinstance(n, ast.Attribute) and n.attr == "request")
            for s in node.body
            for n in ast.walk(s)
        )
    )
    body = [s for s in node.body if not _is_docstring(s)]
    returned = body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else None
    owners = judge.models | set(params) | {"self", "cls"}
    predicate = returned is not None and _python_predicate(returned, judge, owners)
    return Definition(node.name, params, reads, predicate, method=method)


def _base_name(base: ast.expr) -> str:
    return base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _python_predicate(expr: ast.expr, judge: _Judge, owners: set[str]) -> bool:
    """`Model.org_id == org_id` (not a join of two tenant columns), a `Q(…)`, `.filter(…)` or
    `and_(…)` on it, or a small dict keyed by the tenant column."""

    def column(e: ast.expr) -> bool:  # `Project.org_id`, `model.org_id`; not `SubType.org`
        return (
            isinstance(e, ast.Attribute)
            and e.attr in judge.names
            and isinstance(e.value, ast.Name)
            and e.value.id in owners
        )

    if isinstance(expr, ast.Compare):
        sides = [column(e) for e in (expr.left, *expr.comparators)]
        return any(sides) and not all(sides)
    if isinstance(expr, ast.BoolOp):
        return any(_python_predicate(v, judge, owners) for v in expr.values)
    if isinstance(expr, ast.Dict):
        return judge.object(
            [
                (k.value, ast.unparse(v))
                for k, v in zip(expr.keys, expr.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        )
    if isinstance(expr, ast.Call) and _base_name(expr.func) in _PREDICATE_CALLS:
        return any(
            kw.arg is not None
            and kw.arg.split("__")[0] in judge.names
            and not judge.copy.search(ast.unparse(kw.value))
            for kw in expr.keywords
        ) or any(_python_predicate(a, judge, owners) for a in expr.args)
    return False


# --- TypeScript / JavaScript ------------------------------------------------------------------


def _ts_definitions(rel: str, text: str, judge: _Judge, client: bool) -> Iterator[Definition]:
    root = parser(grammar(rel)).parse(text.encode("utf-8")).root_node
    for stmt in root.named_children:
        decl = stmt.child_by_field_name("declaration") if stmt.type == "export_statement" else stmt
        if decl is None:
            continue
        found: list[tuple[Node | None, Node | None]]
        if decl.type in ("function_declaration", "generator_function_declaration"):
            found = [(decl.child_by_field_name("name"), decl)]
        elif decl.type in ("lexical_declaration", "variable_declaration"):
            found = [
                (d.child_by_field_name("name"), _function_of(d.child_by_field_name("value")))
                for d in decl.named_children
                if d.type == "variable_declarator"
            ]
        else:
            continue
        for name, fn in found:
            if name is not None and name.type == "identifier" and fn is not None:
                yield _ts_definition(node_text(name), fn, judge, client)


def _ts_definition(name: str, fn: Node, judge: _Judge, client: bool) -> Definition:
    params_node = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    params = tuple(_bound_names(params_node)) if params_node is not None else ()
    body = fn.child_by_field_name("body")
    body_text = node_text(body) if body is not None else ""
    reads = bool(_TS_REQUEST_PARAMS & set(params)) or bool(_TS_REQUEST.search(body_text))
    returned = _returned(body) if body is not None else None
    predicate = returned is not None and _ts_predicate(returned, judge)
    return Definition(name, params, reads, predicate, client=client)


def _function_of(value: Node | None) -> Node | None:
    """The function a constant holds: `(…) => …`, `function (…) {…}`, or the one a call wraps
    (`cache(async (orgId) => …)`)."""
    value = unwrap(value) if value is not None else None
    if value is None:
        return None
    if value.type in FUNCTION_TYPES:
        return value
    args = value.child_by_field_name("arguments") if value.type == "call_expression" else None
    fns = [a for a in (args.named_children if args else []) if a.type in FUNCTION_TYPES]
    return fns[-1] if fns else None


def _bound_names(node: Node) -> Iterator[str]:
    """The identifiers a parameter list binds; types and default values aside."""
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        yield node_text(node)
        return
    for child in node.named_children:
        if child.type in ("type_annotation", "accessibility_modifier"):
            continue
        if node.type == "assignment_pattern" and child == node.child_by_field_name("right"):
            continue
        if node.type == "pair_pattern" and child == node.child_by_field_name("key"):
            continue
        yield from _bound_names(child)


def _returned(body: Node) -> Node | None:
    """What a function whose one statement is its `return` returns (an arrow's expression)."""
    if body.type != "statement_block":
        return unwrap(body)
    stmts = [c for c in body.named_children if c.type != "comment"]
    if len(stmts) == 1 and stmts[0].type == "return_statement" and stmts[0].named_children:
        return unwrap(stmts[0].named_children[0])
    return None


def _ts_predicate(node: Node, judge: _Judge) -> bool:
    """`{ orgId }`, `{ orgId: org.id, deletedAt: null }`, drizzle's `eq(t.orgId, orgId)`."""
    if node.type == "object":
        pairs = []
        for child in node.named_children:
            if child.type == "shorthand_property_identifier":
                pairs.append((node_text(child), ""))
            elif child.type == "pair":
                key, value = child.child_by_field_name("key"), child.child_by_field_name("value")
                if key is not None and value is not None:
                    pairs.append((node_text(key).strip("\"'"), node_text(value)))
        return judge.object(pairs)
    if node.type != "call_expression":
        return False
    fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
    if fn is None or args is None or node_text(fn) not in _PREDICATE_CALLS:
        return False
    columns = [
        a.type == "member_expression" and node_text(a).rsplit(".", 1)[-1] in judge.names
        for a in args.named_children
    ]
    return (any(columns) and not all(columns)) or any(
        _ts_predicate(unwrap(a), judge) for a in args.named_children
    )
