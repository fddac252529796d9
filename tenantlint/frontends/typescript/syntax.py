"""Syntax helpers of the TypeScript front end: positions, scopes, bindings, literal text.

Everything here works on tree-sitter nodes of one parsed file (`Source`). Positions are computed
only for nodes that become facts; bindings (`const x = …`) are indexed once per file, lazily.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Collection, Hashable, Iterator
from functools import cache, cached_property
from typing import Any, TypeVar

from tree_sitter import Language, Node, Query, QueryCursor, Tree

from tenantlint.facts import Loc

FUNCTION_TYPES = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)
# Wrappers that do not change what an expression is: `(x)`, `x as T`, `x!`, `await x`.
_TRANSPARENT = frozenset(
    {
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "await_expression",
    }
)
_WS = re.compile(r"\s+")

T = TypeVar("T")

_DECLARATORS_QUERY = "(variable_declarator name: (_) value: (_)) @d"


@cache
def _declarators_query(language: Language) -> Query:
    query: Query = Query(language, _DECLARATORS_QUERY)
    return query


def unwrap(node: Node) -> Node:
    """The expression under parentheses, `as`, `satisfies`, `!` and `await`."""
    while node.type in _TRANSPARENT and node.named_child_count:
        node = node.named_children[0]
    return node


def text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def callee_name(call: Node) -> str | None:
    """`f` for `f(…)`, `g` for `a.b.g(…)`, `f` for `` f`…` ``; None for other callees."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return None
    fn = unwrap(fn)
    if fn.type == "identifier":
        return text(fn)
    if fn.type == "member_expression":
        prop = fn.child_by_field_name("property")
        return text(prop) if prop is not None else None
    return None


def call_name(call: Node) -> str:
    """`callee_name`, or "" for other callees."""
    return callee_name(call) or ""


def call_args(call: Node) -> list[Node]:
    """Positional arguments of a call (a tagged template's template is its one argument)."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    if args.type == "template_string":
        return [args]
    return [c for c in args.named_children if c.type != "comment"]


def root_identifier(node: Node) -> str | None:
    """`a` for `a`, `a.b.c`, `a?.b`, `a[0]`, `a.b()`."""
    node = unwrap(node)
    while node.type in ("member_expression", "subscript_expression", "call_expression"):
        inner = node.child_by_field_name("object") or node.child_by_field_name("function")
        if inner is None:
            return None
        node = unwrap(inner)
    return (
        text(node) if node.type in ("identifier", "shorthand_property_identifier", "this") else None
    )


def function_name(fn: Node) -> str | None:
    """The name a function is declared or bound under, if any."""
    name = fn.child_by_field_name("name")
    if name is not None:
        return text(name)
    parent = fn.parent
    while parent is not None and parent.type in _TRANSPARENT:
        parent = parent.parent
    if parent is None:
        return None
    if parent.type == "arguments" and parent.named_children[-1:] == [fn]:
        # `const getX = reactCache(async (id) => …)`: a wrapper's last argument is the function
        call = parent.parent
        bound = call.parent if call is not None and call.type == "call_expression" else None
        if bound is not None and bound.type == "variable_declarator":
            parent = bound
    if parent.type == "variable_declarator":
        n = parent.child_by_field_name("name")
        return text(n) if n is not None and n.type == "identifier" else None
    if parent.type in ("pair", "public_field_definition", "field_definition"):
        key = parent.child_by_field_name("key") or parent.child_by_field_name("name")
        return text(key) if key is not None else None
    if parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        return text(left).rsplit(".", 1)[-1] if left is not None else None
    return None


def deepest(root: Node, floor: int) -> tuple[int, Node] | None:
    """The tree's depth and its first node that deep, when that is more than `floor` levels;
    else None. A subtree too small to go deeper than the deepest level found so far is not
    entered, so an ordinary file costs a few hundred node visits, not one per node."""
    cursor = root.walk()
    depth, best, at = 0, floor, None
    while True:
        # a subtree of n nodes (itself included) reaches at most n - 1 levels below its root
        node = cursor.node
        if (
            node is not None
            and depth + node.descendant_count - 1 > best
            and cursor.goto_first_child()
        ):
            depth += 1
            if depth > best:
                best, at = depth, cursor.node
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return (best, at) if at is not None else None
            depth -= 1


def enclosing_functions(node: Node) -> Iterator[Node]:
    """Functions around `node`, innermost first."""
    parent = node.parent
    while parent is not None:
        if parent.type in FUNCTION_TYPES:
            yield parent
        parent = parent.parent


def parent_past(node: Node, types: Collection[str]) -> Node | None:
    """The nearest ancestor of `node` not of one of `types`: `const x = await (call as T)` gives
    the declarator of `call` past the await, parentheses and cast."""
    parent = node.parent
    while parent is not None and parent.type in types:
        parent = parent.parent
    return parent


def enclosing_function(node: Node) -> Node | None:
    return next(enclosing_functions(node), None)


def pattern_names(node: Node) -> Iterator[str]:
    """Names bound by a parameter or destructuring pattern (type annotations and defaults skipped)."""
    t = node.type
    if t in ("identifier", "shorthand_property_identifier_pattern"):
        yield text(node)
    elif t in (
        "required_parameter",
        "optional_parameter",
        "assignment_pattern",
        "object_assignment_pattern",
    ):
        inner = node.child_by_field_name("pattern") or node.child_by_field_name("left")
        if inner is not None:
            yield from pattern_names(inner)
    elif t == "pair_pattern":
        value = node.child_by_field_name("value")
        if value is not None:
            yield from pattern_names(value)
    elif t in ("object_pattern", "array_pattern", "rest_pattern", "formal_parameters"):
        for child in node.named_children:
            yield from pattern_names(child)


def parameter_names(fn: Node) -> set[str]:
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    return set(pattern_names(params)) if params is not None else set()


def string_value(node: Node) -> str | None:
    """The value of a plain string literal (or a template without substitutions)."""
    node = unwrap(node)
    if node.type == "string":
        return text(node)[1:-1]
    if node.type == "template_string" and not any(
        c.type == "template_substitution" for c in node.children
    ):
        return text(node)[1:-1]
    return None


class Source:
    """One parsed file: its bytes, tree, and lazily built indexes."""

    def __init__(self, path: str, data: bytes, tree: Tree) -> None:
        self.path = path
        self.data = data
        self.tree = tree
        self.root = tree.root_node
        self._indexes: dict[Hashable, Any] = {}

    def index(self, key: Hashable, build: Callable[[], T]) -> T:
        """An index of this file that the module knowing what it holds builds once, under a key
        of its own: asked per site, a scan of the file would make a file of N sites cost N²."""
        if key not in self._indexes:
            self._indexes[key] = build()
        found: T = self._indexes[key]
        return found

    def loc(self, node: Node) -> Loc:
        (row, col), (end_row, end_col) = node.start_point, node.end_point
        snippet = _WS.sub(" ", text(node)).strip()
        if len(snippet) > 160:
            snippet = snippet[:160]
        return Loc(
            path=self.path,
            line=row + 1,
            column=self._column(node.start_byte, col),
            end_line=end_row + 1,
            end_column=self._column(node.end_byte, end_col),
            snippet=snippet,
        )

    def _column(self, byte: int, col: int) -> int:
        """1-based character column (tree-sitter counts bytes)."""
        line = self.data[byte - col : byte]
        return (len(line.decode("utf-8", "replace")) if not line.isascii() else col) + 1

    @cached_property
    def bindings(self) -> dict[str, list[tuple[Node, Node]]]:
        """name → [(declarator name node, value node)] for every `const/let/var name = value`."""
        out: dict[str, list[tuple[Node, Node]]] = {}
        for decl in self.declarators:
            name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
            if name is not None and value is not None and name.type == "identifier":
                out.setdefault(text(name), []).append((name, value))
        return out

    def use_declarators(self, declarators: list[Node]) -> None:
        """Supply the declarators from a query the caller already ran (one traversal, not two)."""
        self.__dict__["declarators"] = declarators

    @cached_property
    def declarators(self) -> list[Node]:
        """Every `name = value` / `{ a, b } = value` declarator, in source order."""
        found = QueryCursor(_declarators_query(self.tree.language)).captures(self.root).get("d", [])
        return sorted(found, key=lambda n: n.start_byte)

    @cached_property
    def _scoped_bindings(self) -> dict[tuple[str, int | None], tuple[list[int], list[Node]]]:
        """(name, id of the function declaring it or None) → the declarations' starts and their
        values, in source order: a lookup bisects one scope's list, not every binding of a name
        in the file (a name bound in each of N functions would make resolving N² otherwise)."""
        out: dict[tuple[str, int | None], tuple[list[int], list[Node]]] = {}
        for key, pairs in self.bindings.items():
            for name, value in pairs:
                fn = enclosing_function(name)
                starts, values = out.setdefault((key, fn.id if fn is not None else None), ([], []))
                starts.append(name.start_byte)
                values.append(value)
        return out

    def resolve(self, ident: Node) -> Node | None:
        """The value bound to an identifier by the nearest visible declaration before it."""
        key = text(ident)
        if key not in self.bindings:
            return None
        for scope in [*enclosing_functions(ident), None]:
            found = self._scoped_bindings.get((key, scope.id if scope is not None else None))
            if found is None:
                continue
            starts, values = found
            i = bisect_left(starts, ident.start_byte)
            if i:
                value = values[i - 1]
                return None if value.start_byte <= ident.start_byte < value.end_byte else value
        return None

    def is_parameter(self, name: str, at: Node) -> bool:
        return any(name in parameter_names(fn) for fn in enclosing_functions(at))
