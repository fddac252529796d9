"""Static evaluation of Python string expressions that carry SQL.

Literals, implicit concatenation, f-strings, `+`, `%` and `.format()` are evaluated against an
environment of names known to hold strings (loop variables over literal tuples, constants).
What cannot be resolved becomes a `%s` placeholder and marks the text *dynamic*: interpolated
into the SQL rather than bound as a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from tenantlint.frontends.py_util import literal_str

PLACEHOLDER = "%s"

Resolver = Callable[[str], cst.BaseExpression | str | None]


@dataclass(frozen=True)
class SqlText:
    text: str
    dynamic: bool  # part of it was interpolated from a value the code computes


def evaluate(node: cst.BaseExpression, resolve: Resolver, depth: int = 0) -> SqlText | None:
    """The SQL text of a string expression, or None when it is not a string expression at all."""
    if depth > 8:
        return None
    lit = literal_str(node)
    if lit is not None:
        return SqlText(lit, False)
    if isinstance(node, cst.FormattedString):
        return _fstring(node, resolve, depth)
    if isinstance(node, cst.ConcatenatedString):
        left = evaluate(node.left, resolve, depth + 1)
        right = evaluate(node.right, resolve, depth + 1)
        if left is None or right is None:
            return None
        return SqlText(left.text + right.text, left.dynamic or right.dynamic)
    if isinstance(node, cst.Name):
        bound = resolve(node.value)
        if isinstance(bound, str):
            return SqlText(bound, False)
        return evaluate(bound, resolve, depth + 1) if bound is not None else None
    if isinstance(node, cst.BinaryOperation):
        left = evaluate(node.left, resolve, depth + 1)
        if isinstance(node.operator, cst.Add):
            right = evaluate(node.right, resolve, depth + 1)
            if left is None and right is None:
                return None
            return SqlText(
                (left.text if left else PLACEHOLDER) + (right.text if right else PLACEHOLDER),
                left is None or right is None or left.dynamic or right.dynamic,
            )
        if isinstance(node.operator, cst.Modulo) and left is not None:
            return SqlText(left.text, True)
        return None
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
    ):
        template = evaluate(node.func.value, resolve, depth + 1)
        if template is None:
            return None
        return _format(template, node, resolve, depth)
    return None


def _fstring(node: cst.FormattedString, resolve: Resolver, depth: int) -> SqlText:
    out: list[str] = []
    dynamic = False
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            out.append(part.value)
            continue
        assert isinstance(part, cst.FormattedStringExpression)
        value = evaluate(part.expression, resolve, depth + 1)
        if value is None:
            out.append(PLACEHOLDER)
            dynamic = True
        else:
            out.append(value.text)
            dynamic = dynamic or value.dynamic
    return SqlText("".join(out), dynamic)


def _format(template: SqlText, call: cst.Call, resolve: Resolver, depth: int) -> SqlText:
    """`"… {} … {name}".format(a, name=b)` with every argument resolvable, else dynamic."""
    args: list[str] = []
    kwargs: dict[str, str] = {}
    for a in call.args:
        v = evaluate(a.value, resolve, depth + 1)
        if v is None or v.dynamic or a.star:
            return SqlText(template.text, True)
        if a.keyword is not None:
            kwargs[a.keyword.value] = v.text
        else:
            args.append(v.text)
    try:
        return SqlText(template.text.format(*args, **kwargs), template.dynamic)
    except (IndexError, KeyError, ValueError):
        return SqlText(template.text, True)
