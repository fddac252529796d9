"""Helpers shared by the Python front end: import resolution, names, literals, call arguments,
and source positions.

Positions come from the `ast` nodes themselves; `col_offset` counts UTF-8 bytes, so `Source`
turns it into characters on the few lines that are not ASCII.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from tenantlint.config import Config
from tenantlint.facts import Loc

_WS = re.compile(r"\s+")
_NEWLINE = re.compile(r"\r\n|\r|\n")


class Imports:
    """Local name → fully qualified name, from the module's import statements."""

    def __init__(self, module: ast.Module) -> None:
        self.names: dict[str, str] = {}
        for stmt in module.body:
            if isinstance(stmt, (ast.If, ast.Try)):  # `if TYPE_CHECKING:` / `try: import …`
                for inner in stmt.body:
                    self._add(inner)
            else:
                self._add(stmt)

    def _add(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    self.names[head] = head
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    continue
                key = alias.asname or alias.name
                self.names[key] = (
                    f"{base}.{alias.name}" if base and not base.endswith(".") else base + alias.name
                )

    def qualify(self, node: ast.expr) -> str | None:
        """The qualified name of a Name/Attribute, through the imports (`sa.text` → `sqlalchemy.text`)."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.names.get(head)
        if full is None:
            return name
        return f"{full}.{rest}" if rest else full

    def is_from(self, node: ast.expr, *packages: str) -> bool:
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


class ModuleReader:
    """What every extractor of one module reads: its path, tree, imports, source and config."""

    def __init__(
        self, path: str, module: ast.Module, imports: Imports, source: Source, config: Config
    ) -> None:
        self.path = path
        self.module = module
        self.imports = imports
        self.src = source
        self.config = config


def absolute(name: str, path: str) -> str:
    """An imported dotted name with a relative import resolved against the importing file's
    package (`.rls.enable_rls` in `alembic/versions/a.py` → `alembic.versions.rls.enable_rls`)."""
    level = len(name) - len(name.lstrip("."))
    if not level:
        return name
    package = path.split("/")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, name.lstrip(".")])


def module_name(path: str) -> str:
    """The dotted module of a file (`app/api/__init__.py` → `app.api`)."""
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def dotted(node: ast.AST | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def read_key(node: ast.AST) -> tuple[ast.expr | None, str] | None:
    """`(owner, "key")` of `owner["key"]` or `owner.get("key")` (owner None for a bare
    `get("key")`), else None."""
    owner: ast.expr | None
    if isinstance(node, ast.Subscript):
        key, owner = literal_str(node.slice), node.value
    elif isinstance(node, ast.Call) and last_name(node.func) == "get" and node.args:
        key = literal_str(node.args[0])
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
    else:
        return None
    return None if key is None else (owner, key)


def last_name(node: ast.AST | None) -> str | None:
    """The rightmost name of a Name/Attribute (`models.User` → `User`)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class Arg(NamedTuple):
    """One argument of a call, as written: `keyword=value`, `*value`, `**value` or `value`."""

    keyword: str | None
    star: str  # "", "*" or "**"
    value: ast.expr


def arguments(call: ast.Call) -> list[Arg]:
    """The arguments of a call in source order."""
    out = [
        Arg(None, "*", a.value) if isinstance(a, ast.Starred) else Arg(None, "", a)
        for a in call.args
    ]
    out += [Arg(k.arg, "" if k.arg else "**", k.value) for k in call.keywords]
    if call.args and call.keywords:
        out.sort(key=lambda a: (a.value.lineno, a.value.col_offset))
    return out


def arg_values(call: ast.Call) -> list[ast.expr]:
    """Every argument's value expression (positional, starred and keyword)."""
    return [a.value if isinstance(a, ast.Starred) else a for a in call.args] + [
        k.value for k in call.keywords
    ]


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def positional(call: ast.Call) -> list[ast.expr]:
    return [a for a in call.args if not isinstance(a, ast.Starred)]


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def literal_str(node: ast.AST | None) -> str | None:
    """The value of a plain (or implicitly concatenated) string literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def literal_strs(node: ast.AST | None) -> list[str] | None:
    """The strings of a literal list/tuple/set of strings (or a single string)."""
    single = literal_str(node)
    if single is not None:
        return [single]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        out = [literal_str(e) for e in node.elts]
        return [s for s in out if s is not None] if all(s is not None for s in out) else None
    return None


def elements(node: ast.AST | None) -> list[ast.expr]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return list(node.elts)
    return []


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node`, itself included; parents before their children."""
    return ast.walk(node)


def names_in(node: ast.AST) -> Iterator[str]:
    """Every name written in an expression: variables, attributes and keyword arguments."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, ast.Attribute):
            yield n.attr
        elif isinstance(n, ast.keyword) and n.arg:
            yield n.arg


# libcst-style names: one visit method serves the sync and async forms
_ALIASES = {"AsyncFunctionDef": "FunctionDef", "AsyncWith": "With", "AsyncFor": "For"}


# fields that never hold a node worth visiting: contexts, operators, names and constants
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind", "conversion", "level"})
_SCALARS = {
    ast.Name: "id",
    ast.Constant: "value",
    ast.Attribute: "attr",
    ast.arg: "arg",
    ast.keyword: "arg",
    ast.FunctionDef: "name",
    ast.AsyncFunctionDef: "name",
    ast.ClassDef: "name",
    ast.ImportFrom: "module",
}
_Entry = tuple[Callable[..., object] | None, Callable[..., object] | None, tuple[str, ...]]
_DISPATCH: dict[tuple[type[object], type[ast.AST]], _Entry] = {}


class Visitor:
    """A pre-order walk calling `visit_<Node>` / `leave_<Node>` for the node types it defines.

    Children are read from each node type's own fields, operators and contexts skipped (the
    generic `ast.iter_child_nodes` costs twice as much); the dispatch is built once per class."""

    def walk_tree(self, node: ast.AST) -> None:
        entry = _DISPATCH.get((type(self), type(node))) or _entry(type(self), type(node))
        visit, leave, fields = entry
        if visit is not None:
            visit(self, node)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, ast.AST) and type(child) is not ast.Constant:
                        self.walk_tree(child)
            elif isinstance(value, ast.AST) and type(value) is not ast.Constant:
                self.walk_tree(value)
        if leave is not None:
            leave(self, node)


def _entry(cls: type[object], kind: type[ast.AST]) -> _Entry:
    name = _ALIASES.get(kind.__name__, kind.__name__)
    scalar = _SCALARS.get(kind)
    fields = tuple(f for f in kind._fields if f not in _LEAF_FIELDS and f != scalar)
    entry = (getattr(cls, f"visit_{name}", None), getattr(cls, f"leave_{name}", None), fields)
    _DISPATCH[(cls, kind)] = entry
    return entry


class Source:
    """The text of a module, for positions and the code of nodes that become facts."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.lines = _NEWLINE.split(text)

    def column(self, line: int, byte_col: int) -> int:
        """The 0-based character column of a UTF-8 byte offset on a 1-based line."""
        if line < 1 or line > len(self.lines):
            return byte_col
        text = self.lines[line - 1]
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """(line, col, end_line, end_col) of a node; 1-based lines, 0-based character columns."""
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        col = self.column(line, getattr(node, "col_offset", 0))
        end_col = self.column(end_line, getattr(node, "end_col_offset", None) or 0)
        return line, col, end_line, end_col

    def code(self, node: ast.AST) -> str:
        """The source text of a node, as written."""
        line, col, end_line, end_col = self.span(node)
        if line == end_line:
            return self.lines[line - 1][col:end_col] if line <= len(self.lines) else ""
        parts = [self.lines[line - 1][col:], *self.lines[line : end_line - 1]]
        parts.append(self.lines[end_line - 1][:end_col] if end_line <= len(self.lines) else "")
        return "\n".join(parts)

    def loc(self, node: ast.AST) -> Loc:
        """The Loc of `node`; its snippet is the whitespace-normalised code (fingerprints)."""
        line, col, end_line, end_col = self.span(node)
        return Loc(
            path=self.path,
            line=line,
            column=col + 1,
            end_line=end_line,
            end_column=end_col + 1,
            snippet=_WS.sub(" ", self.code(node).strip())[:200],
        )

    def header_loc(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> Loc:
        """The Loc of a class or function by its header (`class X`, `def f`), decorators aside."""
        keyword = "class" if isinstance(node, ast.ClassDef) else "def"
        header = f"{keyword} {node.name}"
        line = node.lineno
        col = self.column(line, node.col_offset)
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        found = text.find(header, col)
        col = found if found >= 0 else col
        return Loc(
            path=self.path,
            line=line,
            column=col + 1,
            end_line=line,
            end_column=col + len(header) + 1,
            snippet=header,
        )
