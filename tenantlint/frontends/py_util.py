"""Helpers shared by the Python front end: import resolution, names, literals, source positions.

Positions are found without libcst's whole-tree metadata (about four times the cost of parsing): the code of
a node is generated on demand and located in the source text, searching forward from the
enclosing top-level statement. Only nodes that become facts pay for it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

import libcst as cst

from tenantlint.facts import Loc

_WS = re.compile(r"\s+")


class Imports:
    """Local name → fully qualified name, from the module's import statements."""

    def __init__(self, module: cst.Module) -> None:
        self.names: dict[str, str] = {}
        for stmt in module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._add(small)
            elif isinstance(stmt, (cst.If, cst.Try)):  # `if TYPE_CHECKING:` / `try: import …`
                for inner in stmt.body.body:
                    if isinstance(inner, cst.SimpleStatementLine):
                        for small in inner.body:
                            self._add(small)

    def _add(self, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted(alias.name) or ""
                local = alias.asname.name if alias.asname else None
                if isinstance(local, cst.Name):
                    self.names[local.value] = full
                else:
                    self.names[full.split(".")[0]] = full.split(".")[0]
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            base = "." * len(node.relative) + (dotted(node.module) or "" if node.module else "")
            for alias in node.names:
                name = dotted(alias.name) or ""
                local = alias.asname.name if alias.asname else None
                key = local.value if isinstance(local, cst.Name) else name
                self.names[key] = (
                    f"{base}.{name}" if base and not base.endswith(".") else base + name
                )

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of a Name/Attribute, through the imports (`sa.text` → `sqlalchemy.text`)."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.names.get(head)
        if full is None:
            return name
        return f"{full}.{rest}" if rest else full

    def is_from(self, node: cst.BaseExpression, *packages: str) -> bool:
        """Whether the name resolves into one of `packages` (an unimported name never does)."""
        name = dotted(node)
        if name is None or name.split(".")[0] not in self.names:
            return False
        q = self.qualify(node) or ""
        return any(q == p or q.startswith(p + ".") for p in packages)

    def mentions(self, *packages: str) -> bool:
        return any(
            full == p or full.startswith(p + ".") for full in self.names.values() for p in packages
        )


def dotted(node: cst.CSTNode | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        left = dotted(node.value)
        return f"{left}.{node.attr.value}" if left else None
    return None


def last_name(node: cst.CSTNode | None) -> str | None:
    """The rightmost name of a Name/Attribute (`models.User` → `User`)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def kwarg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def positional(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and not a.star]


def is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def is_false(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def literal_str(node: cst.CSTNode | None) -> str | None:
    """The value of a plain (or implicitly concatenated) string literal."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = literal_str(node.left), literal_str(node.right)
        return left + right if left is not None and right is not None else None
    return None


def literal_strs(node: cst.CSTNode | None) -> list[str] | None:
    """The strings of a literal list/tuple/set of strings (or a single string)."""
    single = literal_str(node)
    if single is not None:
        return [single]
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        out = [literal_str(e.value) for e in node.elements]
        return [s for s in out if s is not None] if all(s is not None for s in out) else None
    return None


def elements(node: cst.CSTNode | None) -> list[cst.BaseExpression]:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return [e.value for e in node.elements]
    return []


_WHITESPACE = (
    cst.SimpleWhitespace,
    cst.ParenthesizedWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.LeftParen,
    cst.RightParen,
    cst.Comma,
    cst.Dot,
)
_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}
# fields that only hold layout (whitespace, parentheses, punctuation, blank lines)
_LAYOUT_FIELD = re.compile(
    r"whitespace|^[lr]par$|comma|^leading_lines$|^lines_after|^header$|^footer$|semicolon|"
    r"^newline$|^equal$|^colon$|^dot$|^operator$|^arrow$|_tok$|^star$|^asynchronous$"
)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The syntax children of a node, in source order, without whitespace and punctuation.

    Read from the dataclass fields: libcst's own `children` runs a visitor per call."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(
            f.name for f in dataclasses.fields(node) if not _LAYOUT_FIELD.search(f.name)
        )
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            if not isinstance(value, _WHITESPACE):
                out.append(value)
        elif isinstance(value, (tuple, list)):
            out.extend(
                v for v in value if isinstance(v, cst.CSTNode) and not isinstance(v, _WHITESPACE)
            )
    return out


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (pre-order), itself included."""
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(children(cur)))


class Visitor:
    """A pre-order walk calling `visit_<Node>` / `leave_<Node>` like libcst's visitors, at a
    fraction of their cost (libcst's rebuilds every node it visits)."""

    def __init__(self) -> None:
        self._dispatch: dict[
            type[cst.CSTNode], tuple[Callable[..., object] | None, Callable[..., object] | None]
        ] = {}

    def walk_tree(self, node: cst.CSTNode) -> None:
        entry = self._dispatch.get(type(node))
        if entry is None:
            name = type(node).__name__
            entry = self._dispatch[type(node)] = (
                getattr(self, f"visit_{name}", None),
                getattr(self, f"leave_{name}", None),
            )
        visit, leave = entry
        if visit is not None:
            visit(node)
        for child in children(node):
            self.walk_tree(child)
        if leave is not None:
            leave(node)


class Locator:
    """Source positions for the few nodes that become facts (see the module docstring)."""

    def __init__(self, path: str, text: str, module: cst.Module) -> None:
        self.path = path
        self.text = text
        self.module = module
        self._line_starts: list[int] | None = None
        self._stmt_start: dict[int, tuple[int, int]] = {}  # id(stmt) → (start, end) offsets
        self._cursor = 0  # where the last top-level statement was found
        self._inner_cursor: dict[int, int] = {}
        self._claimed: dict[tuple[str, int], int] = {}  # (text, offset) → id of the node there

    def code(self, node: cst.CSTNode) -> str:
        if (
            isinstance(node, cst.BaseExpression) and node.lpar
        ):  # `(\n  a.b()\n  .c()\n)`: locate the expression itself
            node = node.with_changes(lpar=[], rpar=[])
        return self.module.code_for_node(node)

    def _span_of_stmt(self, stmt: cst.CSTNode) -> tuple[int, int]:
        """Where a top-level statement starts; a class or function is found by its header
        (first decorator, or `class X` / `def f`) so that its body is never generated."""
        span = self._stmt_start.get(id(stmt))
        if span is not None:
            return span
        if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
            if stmt.decorators:
                header = "@" + self.code(stmt.decorators[0].decorator).split("\n", 1)[0]
            else:
                kind = "class" if isinstance(stmt, cst.ClassDef) else "def"
                header = f"{kind} {stmt.name.value}"
            pos = self._line_start_find(header, self._cursor)
            if pos < 0:
                pos = self._line_start_find(header, 0)
            span = (max(pos, 0), len(self.text))
        else:
            code = self.code(stmt)
            pos = self.text.find(code, self._cursor)
            if pos < 0:
                pos = self.text.find(code)
            pos = max(pos, 0)
            span = (pos, pos + len(code))
        self._stmt_start[id(stmt)] = span
        self._cursor = span[0]
        return span

    def _line_start_find(self, needle: str, start: int) -> int:
        pos = self.text.find(needle, start)
        while pos >= 0 and (
            (pos > 0 and self.text[pos - 1] not in "\n ")  # `async def`, or a line start
            or self._cut_word(needle, pos)
        ):
            pos = self.text.find(needle, pos + 1)
        return pos

    def _cut_word(self, needle: str, pos: int) -> bool:
        """Whether the match ends inside a longer name (`class Change` in `class ChangeLog`)."""
        end = pos + len(needle)
        return (
            end < len(self.text)
            and (needle[-1:].isalnum() or needle[-1:] == "_")
            and (self.text[end].isalnum() or self.text[end] == "_")
        )

    def offset(
        self, node: cst.CSTNode, stmt: cst.CSTNode, first_line: str | None = None, code: str = ""
    ) -> int:
        """Offset of `node` (inside top-level statement `stmt`), found by its first line of code
        and confirmed against the rest of its code, whitespace aside (indentation differs)."""
        start, end = self._span_of_stmt(stmt)
        if first_line is None and not code:
            code = self.code(node).lstrip()
        needle = first_line if first_line is not None else code.split("\n", 1)[0]
        if not needle:
            return start
        body = _WS.sub("", code)[:300] if first_line is None and "\n" in code else ""
        pos = self._find(needle, body, node, self._inner_cursor.get(id(stmt), start), end)
        if pos < 0:
            pos = self._find(needle, body, node, start, end)
        if pos < 0:
            return start
        self._inner_cursor[id(stmt)] = pos
        self._claimed[(needle, pos)] = id(node)
        return pos

    def _find(self, needle: str, body: str, node: cst.CSTNode, start: int, end: int) -> int:
        """The first occurrence whose code matches and no other node with this text claimed."""
        pos = self.text.find(needle, start, end)
        while pos >= 0 and (
            self._claimed.get((needle, pos), id(node)) != id(node)
            or self._cut_word(needle, pos)
            or (
                body
                and not _WS.sub("", self.text[pos : pos + 3 * len(body) + 200]).startswith(body)
            )
        ):
            pos = self.text.find(needle, pos + 1, end)
        return pos

    def line_col(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts = [0]
            starts.extend(m.end() for m in re.finditer("\n", self.text))
            self._line_starts = starts
        import bisect

        i = bisect.bisect_right(self._line_starts, offset) - 1
        return i + 1, offset - self._line_starts[i] + 1

    def loc(self, node: cst.CSTNode, stmt: cst.CSTNode, first_line: str | None = None) -> Loc:
        """The Loc of `node`; its snippet is the whitespace-normalised code (fingerprints).
        With `first_line` (a class or function header) the node's code is never generated."""
        code = first_line if first_line is not None else self.code(node).strip()
        start = self.offset(node, stmt, first_line, code)
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(start + len(code.split("\n", 1)[0]))
        return Loc(
            path=self.path,
            line=line,
            column=col,
            end_line=end_line,
            end_column=end_col,
            snippet=_WS.sub(" ", code)[:200],
        )
