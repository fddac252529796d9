"""Prisma client call sites: `<receiver>.<delegate>.<operation>(args)` → QuerySite evidence.

The evidence is syntactic: which key paths a `where` (or a create's `data`) constrains, which
configured scope helpers contribute, and whether part of it is unknown. Whether that is enough
is for the rules to decide with the tenancy map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from tenantlint.config import Config
from tenantlint.facts import Predicate, QueryAction
from tenantlint.frontends.typescript.syntax import (
    Source,
    call_args,
    callee_name,
    enclosing_function,
    pattern_names,
    root_identifier,
    text,
    unwrap,
)

OPERATIONS: dict[str, QueryAction] = {
    "findUnique": "read",
    "findUniqueOrThrow": "read",
    "findFirst": "read",
    "findFirstOrThrow": "read",
    "findMany": "read",
    "count": "read",
    "aggregate": "read",
    "groupBy": "read",
    "create": "create",
    "createMany": "create",
    "createManyAndReturn": "create",
    "update": "update",
    "updateMany": "update",
    "updateManyAndReturn": "update",
    "upsert": "upsert",
    "delete": "delete",
    "deleteMany": "delete",
}
# Scalar filter operators: a key path ends before them.
_OPERATORS = frozenset(
    {
        "equals", "in", "notIn", "lt", "lte", "gt", "gte", "contains", "startsWith", "endsWith",
        "mode", "search", "has", "hasSome", "hasEvery", "isEmpty", "path", "not", "array_contains",
        "string_contains", "set", "increment", "decrement", "multiply", "divide", "push",
    }
)  # fmt: skip
_NEGATIVE = frozenset({"NOT", "none", "every", "isNot"})
_TRANSPARENT_KEYS = frozenset({"is", "some", "AND"})
_PUSH = rb"\s*\.\s*(?:push|unshift|splice)\s*\("
_ASCII_WORD = re.compile(r"[A-Za-z0-9_]+")


@dataclass
class Evidence:
    """Key paths and helpers found in one filter/data object (mutable while collecting)."""

    keys: set[str] = field(default_factory=set)
    helpers: set[str] = field(default_factory=set)
    unknown: bool = False
    pass_through: bool = False
    # (key path, value node) of every leaf, for linking sites and tracing request values
    values: list[tuple[str, Node]] = field(default_factory=list)

    def predicate(self) -> Predicate:
        return Predicate(
            keys=tuple(sorted(self.keys)), helpers=tuple(sorted(self.helpers)), unknown=self.unknown
        )

    def merge(self, other: Evidence) -> None:
        self.keys |= other.keys
        self.helpers |= other.helpers
        self.unknown |= other.unknown
        self.pass_through |= other.pass_through
        self.values += other.values


def _intersect(branches: list[Evidence]) -> Evidence:
    """What every branch of an `OR` (or a ternary) guarantees."""
    out = Evidence()
    if not branches:
        return out
    out.keys = set.intersection(*(b.keys for b in branches))
    out.helpers = set.intersection(*(b.helpers for b in branches))
    out.unknown = any(b.unknown for b in branches)
    out.pass_through = any(b.pass_through for b in branches)
    for b in branches:
        out.values += b.values
    return out


class PrismaCall:
    """One Prisma client call and the evidence of its arguments."""

    def __init__(
        self, src: Source, config: Config, call: Node, delegate: str, operation: str
    ) -> None:
        self.src = src
        self.config = config
        self.call = call
        self.delegate = delegate
        self.operation = operation
        self.action = OPERATIONS[operation]
        self.where: Evidence | None = None
        self.data: Evidence | None = None
        self.args_pass_through = False
        self.selected: set[str] = set()  # `select: { … }` keys: what the call reads
        self._read_args()

    def _read_args(self) -> None:
        args = call_args(self.call)
        if not args:
            return
        arg = self._value_of(args[0])
        if arg.type != "object":
            ev = self._collect_value(arg, "")
            self.args_pass_through = ev.pass_through
            self.where = ev if self.action != "create" else None
            self.data = ev if self.action in ("create", "upsert") else None
            return
        data_key = "create" if self.action == "upsert" else "data"
        for key, value in _pairs(arg):
            if key is None:  # `{...args}`: unknown criteria, possibly the caller's
                ev = self._collect_value(value, "")
                ev.keys.clear()
                self.args_pass_through |= ev.pass_through
                for side in ("where", "data"):
                    current = getattr(self, side)
                    if current is None:
                        setattr(self, side, ev)
                    else:
                        current.unknown |= ev.unknown
            elif key == "where":
                self.where = self._collect_value(value, "")
            elif key == data_key and self.action in ("create", "upsert"):
                self.data = self._collect_data(value)
            elif key == "select" and (sel := self._value_of(value)).type == "object":
                self.selected = {k for k, _ in _pairs(sel) if k is not None}

    def _value_of(self, node: Node) -> Node:
        """Follow `const x = {…}` bindings to the object they hold."""
        node = unwrap(node)
        for _ in range(4):
            if node.type not in ("identifier", "shorthand_property_identifier"):
                break
            bound = self.src.resolve(node)
            if bound is None:
                break
            node = unwrap(bound)
        return node

    def _destructured_from_helper(self, node: Node) -> str | None:
        """The scope helper a destructured name comes from: `const { where } = await helper(…)`."""
        root = root_identifier(node)
        if root is None:
            return None
        helpers = tuple(self.config.scope_helpers)
        first = self.src.index(("helper destructurings", helpers), self._helper_destructurings)
        start, helper = first.get(root, (node.start_byte, None))
        return helper if start < node.start_byte else None

    def _helper_destructurings(self) -> dict[str, tuple[int, str]]:
        """Each name bound by destructuring a scope helper's result → where its first such
        declaration starts and the helper's name."""
        out: dict[str, tuple[int, str]] = {}
        for decl in self.src.declarators:
            pattern, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
            if pattern is None or value is None or pattern.type != "object_pattern":
                continue
            call = unwrap(value)
            name = callee_name(call) if call.type == "call_expression" else None
            if name in self.config.scope_helpers:
                for bound in pattern_names(pattern):
                    out.setdefault(bound, (decl.start_byte, name))
        return out

    def _collect_data(self, node: Node) -> Evidence:
        node = self._value_of(node)
        if node.type == "array":  # createMany: every row must set the tenant
            rows = [
                self._collect_value(el, "") for el in node.named_children if el.type != "comment"
            ]
            return _intersect(rows) if rows else Evidence(unknown=True)
        return self._collect_value(node, "")

    def _collect_value(self, node: Node, prefix: str) -> Evidence:
        ev = Evidence()
        raw = unwrap(node)
        node = self._value_of(raw)
        if node.type == "object":
            self._collect_object(node, prefix, ev)
        elif node.type == "ternary_expression":
            branches = [node.child_by_field_name(f) for f in ("consequence", "alternative")]
            ev.merge(
                _intersect([self._collect_value(b, prefix) for b in branches if b is not None])
            )
        elif node.type == "call_expression" and callee_name(node) in self.config.scope_helpers:
            ev.helpers.add(callee_name(node) or "")
        elif (helper := self._destructured_from_helper(node)) is not None:
            ev.helpers.add(helper)  # `const { where } = await buildWhere(…)`
        else:
            root = root_identifier(raw)
            if root is not None and self.src.is_parameter(root, raw):
                ev.pass_through = True
            ev.unknown = True
        return ev

    def _collect_object(self, obj: Node, prefix: str, ev: Evidence) -> None:
        for key, value in _pairs(obj):
            if key is None:
                spread = self._collect_value(value, prefix)
                ev.merge(spread)
            elif key in ("in", "equals") and prefix:
                ev.values.append((prefix[:-1], value))  # `id: { in: ids }` filters by `ids`
            elif key in _NEGATIVE or key in _OPERATORS:
                continue
            elif key == "OR":
                items = self._value_of(value)
                elements = items.named_children if items.type == "array" else [items]
                branches = [
                    self._collect_value(el, prefix) for el in elements if el.type != "comment"
                ]
                # a list filled later (`filters.push(…)`) is unknown, not unscoped
                grown = unwrap(value).type == "identifier" and self._grown(unwrap(value))
                ev.merge(_intersect(branches) if branches and not grown else Evidence(unknown=True))
            elif key in _TRANSPARENT_KEYS:
                items = self._value_of(value)
                for el in items.named_children if items.type == "array" else [items]:
                    if el.type != "comment":
                        ev.merge(self._collect_value(el, prefix))
            else:
                path = prefix + key
                ev.keys.add(path)
                inner = self._value_of(value)
                if inner.type == "object":
                    self._collect_object(inner, path + ".", ev)
                else:
                    ev.values.append((path, value))
                    if (
                        inner.type == "call_expression"
                        and callee_name(inner) in self.config.scope_helpers
                    ):
                        ev.helpers.add(callee_name(inner) or "")

    def _grown(self, ident: Node) -> bool:
        """Whether the array an identifier names is pushed to in the enclosing function."""
        fn = enclosing_function(ident)
        name = text(ident)
        scope = (fn.start_byte, fn.end_byte) if fn is not None else (0, len(self.src.data))
        if _ASCII_WORD.fullmatch(name):  # the names pushed to in a scope, found once per scope
            pushed = self.src.index(("pushed", scope), lambda: _pushed_names(self.src, scope))
            return name in pushed
        pattern = rb"\b" + re.escape(name.encode()) + _PUSH
        return re.search(pattern, self.src.data[scope[0] : scope[1]]) is not None

    def value_texts(self) -> set[str]:
        """Source text of the where's leaf values (`id`, `input.id`), and of what a bare name is
        bound to (`let parentId = folder.parentId`), for linking two sites."""
        out: set[str] = set()
        for _, value in self.where.values if self.where else []:
            value = unwrap(value)
            out.add(text(value))
            if value.type in ("identifier", "shorthand_property_identifier"):
                bound = self.src.resolve(value)
                if bound is not None:
                    out.add(text(unwrap(bound)))
        return out

    def tenant_derived(self, tenant_fields: tuple[str, ...]) -> bool:
        """`id: makeId(teamId, …)`: an id built from the tenant id (PRECISION #4)."""
        for _, value in self.where.values if self.where else []:
            value = unwrap(value)
            if value.type == "call_expression":
                args = call_args(value)
                if any(text(a).rsplit(".", 1)[-1] in tenant_fields for a in args):
                    return True
        return False


def _pushed_names(src: Source, scope: tuple[int, int]) -> set[str]:
    """The names `name.push(…)`, `.unshift(…)` or `.splice(…)` is called on in a byte range."""
    found = re.finditer(rb"\b(\w+)" + _PUSH, src.data[scope[0] : scope[1]])
    return {m.group(1).decode("ascii") for m in found}


def _pairs(obj: Node) -> list[tuple[str | None, Node]]:
    """(key, value) of an object literal; key None for a spread."""
    out: list[tuple[str | None, Node]] = []
    for child in obj.named_children:
        t = child.type
        if t == "pair":
            key, value = child.child_by_field_name("key"), child.child_by_field_name("value")
            if key is None or value is None:
                continue
            k = text(key)
            if key.type == "string":
                k = k[1:-1]
            elif key.type == "computed_property_name":
                k = "[computed]"
            out.append((k, value))
        elif t == "shorthand_property_identifier":
            out.append((text(child), child))
        elif t == "spread_element" and child.named_child_count:
            out.append((None, child.named_children[0]))
    return out
