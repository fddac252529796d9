"""Raw SQL in TypeScript: which calls run SQL, their text, and whether values are bound.

Interpolations become `$1`, `$2` … and the text goes to the embedded-SQL analyser. A tagged
template (`` $queryRaw`…` ``, `` sql`…` ``) binds its values; a string built by interpolation
or `+` and handed to an API that does not bind (`$queryRawUnsafe`, `pool.query`, `knex.raw`,
`Prisma.raw`) is an injection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from tenantlint.frontends.typescript.syntax import (
    Source,
    call_args,
    callee_name,
    string_value,
    text,
    unwrap,
)

PRISMA_RAW = frozenset({"$queryRaw", "$executeRaw", "$queryRawUnsafe", "$executeRawUnsafe"})
_UNSAFE = frozenset(
    {"$queryRawUnsafe", "$executeRawUnsafe", "query", "raw", "unsafe", "execute", "Prisma.raw"}
)
# Modules whose import makes `x.query(…)` / `x.raw(…)` / a `sql` tag run SQL (PRECISION #9).
_DRIVER_IMPORT = re.compile(
    rb"""(?:from|require\s*\()\s*['"](pg|pg-pool|postgres|knex|kysely|mysql2(?:/promise)?|mysql|"""
    rb"""@vercel/postgres|@neondatabase/serverless|slonik|better-sqlite3)['"]"""
)
_SQL_TAG_IMPORT = re.compile(
    rb"""import\s+(?:(\w+)|\{([^}]*)\})\s+from\s+['"](postgres|kysely|@vercel/postgres|slonik)['"]"""
)
_QUERY_DRIVERS = frozenset({"pg", "pg-pool", "mysql2", "mysql2/promise", "mysql", "@vercel/postgres",
                            "@neondatabase/serverless", "better-sqlite3"})  # fmt: skip


_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _unknown(node: Node) -> SqlText:
    """A part whose text is not known: interpolated, unless it names a constant (`TABLE`,
    `Tables.AUDIT_LOG`: by convention fixed in the code, not a value from a request)."""
    node = unwrap(node)
    name = node.child_by_field_name("property") if node.type == "member_expression" else node
    constant = (
        name is not None
        and name.type in ("identifier", "property_identifier")
        and len(text(name)) > 1
        and _CONSTANT.match(text(name)) is not None
    )
    return SqlText(None, interpolated=not constant)


@dataclass
class SqlText:
    sql: str | None  # None: not statically known
    interpolated: bool = False  # built from non-literal parts
    unsafe_fragment: bool = False  # a `Prisma.raw(nonliteral)` inside a bound template


@dataclass
class RawCall:
    node: Node
    api: str
    text: SqlText
    injection: bool
    fragment: bool = False


class SqlSites:
    """Recognises raw-SQL calls in one file, given the drivers it imports."""

    def __init__(self, src: Source) -> None:
        self.src = src
        drivers = {m.group(1).decode() for m in _DRIVER_IMPORT.finditer(src.data)}
        self.query_driver = bool(drivers & _QUERY_DRIVERS)
        self.knex = "knex" in drivers
        self.sql_tags: set[str] = set()
        for m in _SQL_TAG_IMPORT.finditer(src.data):
            if m.group(1):
                self.sql_tags.add(m.group(1).decode())
            else:
                names = m.group(2).decode()
                self.sql_tags |= {
                    n.split(" as ")[-1].strip()
                    for n in names.split(",")
                    if n.strip().startswith("sql")
                }

    def recognise(self, call: Node) -> RawCall | None:
        fn = call.child_by_field_name("function")
        args = call_args(call)
        if fn is None:
            return None
        fn = unwrap(fn)
        name = callee_name(call)
        obj = fn.child_by_field_name("object") if fn.type == "member_expression" else None
        tagged = (
            bool(args)
            and args[0].type == "template_string"
            and call.child_by_field_name("arguments") == args[0]
        )
        if name in PRISMA_RAW:
            if not args:
                return None
            sql = self.sql_of(args[0]) if not tagged else self.template(args[0])
            unsafe = name in _UNSAFE
            return RawCall(
                call, name or "", sql, (unsafe and sql.interpolated) or sql.unsafe_fragment
            )
        if name == "raw" and obj is not None and text(obj) == "Prisma":
            if not args or _in_substitution(call) or string_value(args[0]) is not None:
                return None
            sql = self.sql_of(args[0])
            if sql.sql is not None and not sql.interpolated:
                return None
            return RawCall(call, "Prisma.raw", sql, True, fragment=True)
        if tagged and fn.type == "identifier" and text(fn) in self.sql_tags:
            sql = self.template(args[0])
            return RawCall(call, text(fn), sql, sql.unsafe_fragment)
        if not args or obj is None:
            return None
        if name == "unsafe" and text(obj) in self.sql_tags:
            sql = self.sql_of(args[0])
            return RawCall(call, "sql.unsafe", sql, sql.interpolated)
        if (name in ("query", "execute") and self.query_driver) or (name == "raw" and self.knex):
            first = unwrap(args[0])
            if first.type == "object":  # pg's `{ text, values }` form
                first = next((v for k, v in _object_pairs(first) if k == "text"), first)
            sql = self.sql_of(first)
            if sql.sql is None and first.type not in (
                "identifier",
                "binary_expression",
                "template_string",
            ):
                return None
            return RawCall(call, name or "", sql, sql.interpolated)
        return None

    def sql_of(self, node: Node, depth: int = 0) -> SqlText:
        """The SQL text an expression evaluates to, with placeholders for unknown parts."""
        node = unwrap(node)
        literal = string_value(node)
        if literal is not None:
            return SqlText(literal)
        if node.type == "template_string":
            return self._joined(self._template_parts(node, bound=False))
        if node.type == "call_expression":
            fn = node.child_by_field_name("function")
            args = call_args(node)
            if (
                fn is not None
                and text(fn) in ("Prisma.sql", "sql")
                and args
                and args[0].type == "template_string"
            ):
                return self.template(args[0])
            return SqlText(None)
        if node.type == "binary_expression" and node.child_by_field_name("operator") is not None:
            op = node.child_by_field_name("operator")
            if op is not None and text(op) == "+":
                parts = [node.child_by_field_name("left"), node.child_by_field_name("right")]
                return self._joined([self._part(p, depth) for p in parts if p is not None])
            return SqlText(None)
        if node.type == "identifier" and depth < 4:
            bound = self.src.resolve(node)
            if bound is not None:
                return self.sql_of(bound, depth + 1)
        return SqlText(None)

    def _part(self, node: Node, depth: int) -> SqlText:
        inner = self.sql_of(node, depth + 1)
        return inner if inner.sql is not None else _unknown(node)

    def template(self, tmpl: Node) -> SqlText:
        """A bound (tagged) template: substitutions are parameters, nested `Prisma.sql` inlined."""
        return self._joined(self._template_parts(tmpl, bound=True))

    def _template_parts(self, tmpl: Node, *, bound: bool) -> list[SqlText]:
        parts: list[SqlText] = []
        for child in tmpl.named_children:
            if child.type == "template_substitution":
                expr = unwrap(child.named_children[0]) if child.named_child_count else child
                parts.append(self._substitution(expr, bound))
            elif child.type == "string_fragment":
                parts.append(SqlText(text(child)))
            elif child.type == "escape_sequence":
                parts.append(SqlText(_unescape(text(child))))
        return parts

    def _substitution(self, expr: Node, bound: bool) -> SqlText:
        fn = expr.child_by_field_name("function") if expr.type == "call_expression" else None
        name = text(fn) if fn is not None else ""
        args = call_args(expr) if fn is not None else []
        if name in ("Prisma.sql", "sql") and args and args[0].type == "template_string":
            return self.template(args[0])
        if name == "Prisma.raw" and args:
            raw = self.sql_of(args[0])
            if raw.sql is not None and not raw.interpolated:
                return raw
            return SqlText(None, interpolated=True, unsafe_fragment=True)
        if name == "Prisma.empty" or text(expr) == "Prisma.empty":
            return SqlText("")
        if bound:
            return SqlText(None)  # a bound parameter
        inner = self.sql_of(expr)
        return inner if inner.sql is not None else _unknown(expr)

    @staticmethod
    def _joined(parts: list[SqlText]) -> SqlText:
        out: list[str] = []
        n = 0
        for p in parts:
            if p.sql is None:
                n += 1
                out.append(f"${n}")
            else:
                out.append(p.sql)
        return SqlText(
            "".join(out),
            interpolated=any(p.interpolated for p in parts),
            unsafe_fragment=any(p.unsafe_fragment for p in parts),
        )


def _unescape(seq: str) -> str:
    r"""The character a simple escape stands for (`` \` `` in MySQL SQL); others stay as written."""
    if len(seq) != 2:
        return seq
    return {"n": "\n", "t": "\t", "r": "\r"}.get(seq[1], seq[1])


def _in_substitution(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in ("await_expression", "parenthesized_expression"):
        parent = parent.parent
    return parent is not None and parent.type == "template_substitution"


def _object_pairs(obj: Node) -> list[tuple[str, Node]]:
    out: list[tuple[str, Node]] = []
    for child in obj.named_children:
        if child.type == "pair":
            key, value = child.child_by_field_name("key"), child.child_by_field_name("value")
            if key is not None and value is not None:
                out.append((text(key).strip("'\""), value))
    return out
