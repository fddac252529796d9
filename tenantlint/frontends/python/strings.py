"""Static evaluation of Python string expressions that carry SQL.

Literals, implicit concatenation, f-strings, `+`, `%` and `.format()` are evaluated against an
environment of names known to hold strings (loop variables over literal tuples, constants), and
calls of module functions that return a string built from their parameters. What cannot be
resolved becomes a `%s` placeholder and marks the text *dynamic*: interpolated into the SQL
rather than bound as a parameter.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from tenantlint.frontends.python.util import dotted, literal_str

PLACEHOLDER = "%s"

Resolver = Callable[[str], ast.expr | str | None]
# a module function by name → (its parameters with their defaults, the expression it returns)
Params = list[tuple[str, ast.expr | None]]
Functions = Callable[[str], tuple[Params, ast.expr] | None]


@dataclass(frozen=True)
class SqlText:
    text: str
    dynamic: bool  # part of it was interpolated from a value the code computes


def evaluate(
    node: ast.expr, resolve: Resolver, depth: int = 0, functions: Functions | None = None
) -> SqlText | None:
    """The SQL text of a string expression, or None when it is not a string expression at all."""
    if depth > 8:
        return None
    lit = literal_str(node)
    if lit is not None:
        return SqlText(lit, False)
    if isinstance(node, ast.JoinedStr):
        return _fstring(node, resolve, depth, functions)
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = dotted(node)
        bound = resolve(name) if name is not None else None
        if isinstance(bound, str):
            return SqlText(bound, False)
        return evaluate(bound, resolve, depth + 1, functions) if bound is not None else None
    if isinstance(node, ast.BinOp):
        left = evaluate(node.left, resolve, depth + 1, functions)
        if isinstance(node.op, ast.Add):
            right = evaluate(node.right, resolve, depth + 1, functions)
            if left is None and right is None:
                return None
            return SqlText(
                (left.text if left else PLACEHOLDER) + (right.text if right else PLACEHOLDER),
                left is None or right is None or left.dynamic or right.dynamic,
            )
        if isinstance(node.op, ast.Mod) and left is not None:
            return SqlText(left.text, True)
        return None
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            template = evaluate(node.func.value, resolve, depth + 1, functions)
            if template is None:
                return None
            return _format(template, node, resolve, depth, functions)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            return _join(node, resolve, depth, functions)
        if isinstance(node.func, ast.Name) and functions is not None:
            return _call(node, node.func.id, resolve, depth, functions)
    return None


def _join(
    call: ast.Call, resolve: Resolver, depth: int, functions: Functions | None
) -> SqlText | None:
    """`", ".join(COLUMNS)` of a literal separator over a tuple or list the code fixes
    (literal, or a module constant bound to one): fixed text, else None (unknown)."""
    sep = literal_str(call.func.value) if isinstance(call.func, ast.Attribute) else None
    items: ast.expr | str | None = call.args[0] if sep is not None and len(call.args) == 1 else None
    for _ in range(3):  # through the names bound to it
        if not isinstance(items, ast.Name):
            break
        items = resolve(items.id)
    if sep is None or not isinstance(items, (ast.Tuple, ast.List)):
        return None
    parts = [evaluate(e, resolve, depth + 1, functions) for e in items.elts]
    if any(p is None or p.dynamic for p in parts):
        return None
    return SqlText(sep.join(p.text for p in parts if p is not None), False)


def _fstring(
    node: ast.JoinedStr, resolve: Resolver, depth: int, functions: Functions | None
) -> SqlText:
    out: list[str] = []
    dynamic = False
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value))
            continue
        assert isinstance(part, ast.FormattedValue)
        value = evaluate(part.value, resolve, depth + 1, functions)
        if value is None:
            out.append(PLACEHOLDER)
            dynamic = True
        else:
            out.append(value.text)
            dynamic = dynamic or value.dynamic
    return SqlText("".join(out), dynamic)


def _format(
    template: SqlText, call: ast.Call, resolve: Resolver, depth: int, functions: Functions | None
) -> SqlText:
    """`"… {} … {name}".format(a, name=b)` with every argument resolvable, else dynamic."""
    args: list[str] = []
    kwargs: dict[str, str] = {}
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        return SqlText(template.text, True)
    for a in call.args:
        v = evaluate(a, resolve, depth + 1, functions)
        if v is None or v.dynamic:
            return SqlText(template.text, True)
        args.append(v.text)
    for k in call.keywords:
        v = evaluate(k.value, resolve, depth + 1, functions)
        if v is None or v.dynamic:
            return SqlText(template.text, True)
        kwargs[k.arg or ""] = v.text
    try:
        return SqlText(template.text.format(*args, **kwargs), template.dynamic)
    except (IndexError, KeyError, ValueError):
        return SqlText(template.text, True)


def _call(
    call: ast.Call, name: str, resolve: Resolver, depth: int, functions: Functions
) -> SqlText | None:
    """`helper(t)` where `def helper(table): return f"ALTER TABLE {table} …"`: the returned
    string with the parameters bound to the evaluated arguments."""
    found = functions(name)
    if found is None or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    params, returned = found
    names = [p for p, _ in params]
    given: dict[str, ast.expr] = dict(zip(names, call.args, strict=False))
    given |= {k.arg: k.value for k in call.keywords if k.arg in names}
    bound: dict[str, ast.expr | str] = {}
    for param, default in params:
        arg = given.get(param, default)
        text = evaluate(arg, resolve, depth + 1, functions) if arg is not None else None
        if text is None or text.dynamic:
            return None
        bound[param] = text.text

    def inner(n: str) -> ast.expr | str | None:
        return bound.get(n) if n in bound else resolve(n)

    return evaluate(returned, inner, depth + 1, functions)


def module_functions(module: ast.Module) -> dict[str, tuple[Params, ast.expr]]:
    """Module-level functions whose body (docstring aside) is one `return <expression>`."""
    out: dict[str, tuple[Params, ast.expr]] = {}
    for stmt in module.body:
        if not isinstance(stmt, ast.FunctionDef):
            continue
        body = [
            s
            for s in stmt.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
            a = stmt.args
            positional = [*a.posonlyargs, *a.args]
            defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
            params = list(zip([p.arg for p in positional], [*defaults, *a.defaults], strict=True))
            params += [(p.arg, d) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
            out[stmt.name] = (params, body[0].value)
    return out
