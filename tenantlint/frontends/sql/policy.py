"""What a row-security policy's expression ties together, read from PostgreSQL's own parse tree.

A policy is tenant-scoped when its expression ties a column of the row to the session: compares it
with `current_setting('app.tenant')`, `auth.uid()`, `current_user`, or a subquery that does; or
passes it to a user-defined function (`has_role_on_account(account_id)`), which is how Supabase
projects check membership. A tie is a `(column, source)` pair; `source` is the setting name for
`current_setting`, else the function (`auth.uid()`) or keyword (`current_user`).
Used by the SQL front end (CREATE/ALTER POLICY) and by `db-audit` (`pg_policies.qual`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

Tie = tuple[str, str]

# Functions that compute from their arguments alone: a column passed to one is not tied to anyone.
_BUILTINS = frozenset(
    [
        "abs",
        "array_length",
        "btrim",
        "cardinality",
        "char_length",
        "coalesce",
        "concat",
        "date_trunc",
        "decode",
        "encode",
        "extract",
        "greatest",
        "least",
        "left",
        "length",
        "lower",
        "ltrim",
        "md5",
        "now",
        "nullif",
        "position",
        "replace",
        "right",
        "round",
        "rtrim",
        "split_part",
        "starts_with",
        "strpos",
        "substr",
        "substring",
        "to_char",
        "to_date",
        "to_timestamp",
        "trim",
        "upper",
        "gen_random_uuid",
        "uuid_generate_v4",
        "random",
        "clock_timestamp",
        "statement_timestamp",
        "timezone",
    ]
)
_SESSION_KEYWORDS = {
    "CURRENT_USER": "current_user",
    "SESSION_USER": "session_user",
    "CURRENT_ROLE": "current_role",
    "USER": "current_user",
}


def parse_expression(text: str) -> Any | None:
    """The parse tree of a boolean SQL expression (as `pg_policies.qual` holds it), or None."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        stmt: Any = parse_sql(f"SELECT 1 WHERE {text}")[0].stmt
    except ParseError:
        return None
    return stmt.whereClause


def clause_texts(sql: str) -> tuple[str | None, str | None]:
    """The source text of a CREATE/ALTER POLICY statement's USING and WITH CHECK expressions
    (as written: cheaper than printing the tree back, and what the user recognises)."""
    found: dict[str, str] = {}
    tokens = [m.group() for m in _TOKEN.finditer(sql)]
    sig = [i for i, t in enumerate(tokens) if not t.isspace() and not t.startswith(("--", "/*"))]
    depth = 0
    for k, i in enumerate(sig):
        word = tokens[i].upper()
        depth += (word == "(") - (word == ")")
        if depth or k + 1 == len(sig) or tokens[sig[k + 1]] != "(":
            continue
        clause = "using" if word == "USING" else None
        if word == "CHECK" and k > 0 and tokens[sig[k - 1]].upper() == "WITH":
            clause = "check"
        if clause and clause not in found:
            found[clause] = _paren_body(tokens, sig[k + 1])
    return found.get("using"), found.get("check")


_TOKEN = re.compile(
    r"'[^']*(?:''[^']*)*'|\"[^\"]*(?:\"\"[^\"]*)*\"|--[^\r\n]*|/\*.*?\*/|\w+|\s+|.", re.DOTALL
)


def _paren_body(tokens: list[str], open_index: int) -> str:
    depth = 0
    for j in range(open_index, len(tokens)):
        depth += (tokens[j] == "(") - (tokens[j] == ")")
        if depth == 0:
            return " ".join("".join(tokens[open_index + 1 : j]).split())
    return " ".join("".join(tokens[open_index + 1 :]).split())


def analyse(node: Any, table: str) -> tuple[tuple[Tie, ...], tuple[str, ...]]:
    """(ties, settings read) of a policy expression on `table`."""
    if node is None:
        return (), ()
    return tuple(sorted(_ties(node, table))), tuple(sorted(set(_settings(node))))


def _name(funcname: Any) -> str:
    """A function's name; `public.` dropped, as the catalog prints it when it is on the path."""
    return ".".join(s.sval for s in funcname or ()).removeprefix("public.")


def _ties(node: Any, table: str) -> set[Tie]:
    from pglast import ast, enums

    if isinstance(node, ast.BoolExpr):
        parts = [_ties(a, table) for a in node.args or ()]
        if node.boolop == enums.BoolExprType.AND_EXPR:
            return set().union(*parts)
        if node.boolop == enums.BoolExprType.OR_EXPR:
            # `tenant_id IS NULL OR <tie on tenant_id>`: rows of no tenant, or of the session's
            nulls = [_null_column(a, table) for a in node.args or ()]
            cols = [{n} if n else {c for c, _ in p} for n, p in zip(nulls, parts, strict=True)]
            common = set.intersection(*cols) if cols else set()
            return {t for p in parts for t in p if t[0] in common}
        return set()
    if isinstance(node, ast.A_Expr):
        ops = {s.sval for s in node.name or ()}
        equal = node.kind in (
            enums.A_Expr_Kind.AEXPR_OP,
            enums.A_Expr_Kind.AEXPR_OP_ANY,
            enums.A_Expr_Kind.AEXPR_IN,
        )
        if ("=" in ops and equal) or node.kind == enums.A_Expr_Kind.AEXPR_NOT_DISTINCT:
            for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
                if _is_true(other):  # `has_role_on_account(account_id) = true`
                    return _ties(side, table)
            return _compare(node.lexpr, node.rexpr, table) | _compare(node.rexpr, node.lexpr, table)
        return set()
    if isinstance(node, ast.SubLink):
        return _sublink(node, table)
    if isinstance(node, ast.FuncCall) and _user_function(node):
        src = f"{_name(node.funcname)}()"
        return {(c, src) for arg in node.args or () if (c := _row_column(arg, table))}
    return set()


def _compare(column_side: Any, value_side: Any, table: str) -> set[Tie]:
    col = _row_column(column_side, table)
    if col is None:
        return set()
    if isinstance(value_side, (list, tuple)):  # `IN (a, b)`: every item must be the session's
        sources = [_session_source(v) for v in value_side]
        return {(col, s) for s in sources if s} if all(sources) else set()
    src = _session_source(value_side)
    return {(col, src)} if src else set()


def _sublink(node: Any, table: str) -> set[Tie]:
    from pglast import enums

    src = _session_source(node.subselect)
    if src is None:
        return set()
    if node.subLinkType == enums.SubLinkType.ANY_SUBLINK:  # `col IN (SELECT … auth.uid() …)`
        col = _row_column(node.testexpr, table)
        return {(col, src)} if col else set()
    if node.subLinkType == enums.SubLinkType.EXISTS_SUBLINK:  # correlated on `table.col`
        return {(c, src) for c in _qualified_columns(node.subselect, table)}
    return set()


def _row_column(node: Any, table: str) -> str | None:
    """The row's column this expression is (through casts): `tenant_id`, `t.tenant_id`."""
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.ColumnRef):
        return None
    names = [f.sval for f in node.fields or () if isinstance(f, ast.String)]
    if len(names) == 1 or (len(names) >= 2 and names[-2] == table):
        return names[-1]
    return None


def _qualified_columns(node: Any, table: str) -> Iterator[str]:
    from pglast import ast

    for child in _walk(node):
        if isinstance(child, ast.ColumnRef):
            names = [str(f.sval) for f in child.fields or () if isinstance(f, ast.String)]
            if len(names) >= 2 and names[-2] == table:
                yield names[-1]


def _session_source(node: Any) -> str | None:
    """What in this expression comes from the session (not from the row or a constant)."""
    from pglast import ast

    if isinstance(node, ast.ColumnRef):
        return None
    for child in _walk(node):
        if isinstance(child, ast.FuncCall):
            name = _name(child.funcname)
            if name.rsplit(".", 1)[-1] == "current_setting":
                return _setting_name(child) or "current_setting()"
            if _user_function(child):
                return f"{name}()"
        elif isinstance(child, ast.SQLValueFunction):
            op = str(getattr(child.op, "name", "")).removeprefix("SVFOP_")
            if op in _SESSION_KEYWORDS:
                return _SESSION_KEYWORDS[op]
    return None


def _user_function(node: Any) -> bool:
    name = _name(node.funcname).lower()
    return name.rsplit(".", 1)[-1] not in _BUILTINS and not name.startswith(
        ("pg_catalog.", "json", "array_")
    )


def _setting_name(call: Any) -> str | None:
    from pglast import ast

    arg = (call.args or (None,))[0]
    while isinstance(arg, ast.TypeCast):  # the catalog's `'app.x'::text`
        arg = arg.arg
    if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String):
        return str(arg.val.sval).lower()
    return None


def _settings(node: Any) -> Iterator[str]:
    from pglast import ast

    for child in _walk(node):
        if isinstance(child, ast.FuncCall) and _name(child.funcname).endswith("current_setting"):
            setting = _setting_name(child)
            if setting:
                yield setting


def _walk(node: Any) -> Iterator[Any]:
    """Every parse-tree node under `node`, itself included."""
    from pglast import ast

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, slot, None) for slot in getattr(type(item), "__slots__", ()))


def _is_true(node: Any) -> bool:
    from pglast import ast

    return (
        isinstance(node, ast.A_Const)
        and isinstance(node.val, ast.Boolean)
        and bool(node.val.boolval)
    )


def _null_column(node: Any, table: str) -> str | None:
    """The row column `node` tests for NULL (`tenant_id IS NULL`), if that is all it does."""
    from pglast import ast, enums

    if isinstance(node, ast.NullTest) and node.nulltesttype == enums.NullTestType.IS_NULL:
        return _row_column(node.arg, table)
    return None


def session_roles(node: Any) -> tuple[str, ...]:
    """The roles an expression requires the session to be: `auth.role() = 'service_role'`,
    `current_user = 'admin'`, `(auth.jwt() ->> 'role') = …`, among its AND-ed terms."""
    from pglast import ast, enums

    if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
        return tuple(sorted({r for arg in node.args or () for r in session_roles(arg)}))
    if not (isinstance(node, ast.A_Expr) and node.kind == enums.A_Expr_Kind.AEXPR_OP):
        return ()
    if {s.sval for s in node.name or ()} != {"="}:
        return ()
    for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
        value = _string_constant(other)
        if value is not None and _is_session_role(side):
            return (value,)
    return ()


def _is_session_role(node: Any) -> bool:
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.SQLValueFunction):
        return str(getattr(node.op, "name", "")).removeprefix("SVFOP_") in _SESSION_KEYWORDS
    if isinstance(node, ast.FuncCall):
        name = _name(node.funcname)
        setting = _setting_name(node) if name.endswith("current_setting") else None
        return name == "auth.role" or setting in ("role", "request.jwt.claim.role")
    if isinstance(node, ast.A_Expr) and {s.sval for s in node.name or ()} == {"->>"}:
        jwt = isinstance(node.lexpr, ast.FuncCall) and _name(node.lexpr.funcname) == "auth.jwt"
        return jwt and _string_constant(node.rexpr) == "role"
    return False


def _string_constant(node: Any) -> str | None:
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    return None
