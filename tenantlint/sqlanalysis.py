"""The embedded-SQL analyser: what a raw SQL string does, for the TypeScript and Python front ends.

Input is SQL text whose interpolations were replaced by placeholders (`$1`, `%s`, `:name`, `?`).
Output is, per statement, its kind, the tables it touches (through joins, CTEs, subqueries,
`INSERT … SELECT`, `UPDATE … FROM`) with the columns its `WHERE`/`ON` equate to a value, and the
session settings it writes. Text that cannot be parsed is reported as `unknown`, never guessed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from tenantlint.facts import Loc, SettingWrite, SqlStatement, TableUse

if TYPE_CHECKING:
    from sqlglot import Token, exp

Access = Literal["read", "write", "ddl", "other"]
_DIALECTS = {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
_UNKNOWN = SqlStatement(kind="unknown")
_NO_LOC = Loc(path="", line=1)
_MAY_SET = re.compile(r"set_config|\bset\s+(?:local\s+|session\s+)?\"?\w+\"?\s*\.", re.IGNORECASE)


def analyse_sql(sql: str, dialect: str | None = None) -> tuple[bool, tuple[SqlStatement, ...]]:
    """(parsed_ok, statements) for one SQL string. Never raises; results are cached."""
    return _analyse(sql, _DIALECTS.get((dialect or "postgres").lower(), "postgres"))


@lru_cache(maxsize=4096)
def _analyse(sql: str, dialect: str) -> tuple[bool, tuple[SqlStatement, ...]]:
    try:
        chunks = _split(sql, dialect)
    except Exception:  # the tokenizer rejects the text (an unterminated string …)
        return False, (_UNKNOWN,)
    ok = True
    out: list[SqlStatement] = []
    for chunk in chunks:
        stmt = _statement(chunk, sql, dialect)
        ok = ok and stmt.kind != "unknown"
        out.append(stmt)
    return ok, tuple(out)


def _split(sql: str, dialect: str) -> list[list[Token]]:
    """The text's tokens, cut into statements at top-level semicolons."""
    from sqlglot import TokenType
    from sqlglot.dialects.dialect import Dialect

    chunks: list[list[Token]] = [[]]
    for tok in Dialect.get_or_raise(dialect).tokenize(sql):
        if tok.token_type == TokenType.SEMICOLON:
            chunks.append([])
        else:
            chunks[-1].append(tok)
    return [c for c in chunks if c]


def _statement(tokens: list[Token], sql: str, dialect: str) -> SqlStatement:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        parsed = Dialect.get_or_raise(dialect).parser().parse(tokens, sql)
    except Exception:
        return _UNKNOWN
    node = parsed[0] if parsed else None
    if node is None or isinstance(node, exp.Command):
        return _UNKNOWN
    try:
        return _describe(node, dialect)
    except Exception:  # an AST shape this analyser does not know: unknown, not a crash
        return _UNKNOWN


def _describe(node: exp.Expr, dialect: str) -> SqlStatement:
    from sqlglot import exp

    settings = tuple(_settings(node))
    if isinstance(node, (exp.Create, exp.Alter, exp.Drop)):
        tables = tuple(
            TableUse(table=_name(t.this, dialect), access="ddl")
            for t in node.find_all(exp.Table)
            if isinstance(t.this, exp.Identifier)
        )
        return SqlStatement(kind="ddl", tables=tables, settings_written=settings)
    if isinstance(node, (exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Use)):
        return SqlStatement(kind="other", settings_written=settings)
    uses = list(_table_uses(node, dialect))
    writes = any(u.access == "write" for u in uses) or isinstance(
        node, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable)
    )
    if not isinstance(
        node, (exp.Query, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable)
    ):
        return SqlStatement(kind="other", tables=tuple(uses), settings_written=settings)
    return SqlStatement(
        kind="write" if writes else "read", tables=tuple(uses), settings_written=settings
    )


# --- tables and their predicates --------------------------------------------------------------


def _name(ident: exp.Expr | str | None, dialect: str) -> str:
    """An identifier as the database sees it: PostgreSQL folds unquoted names to lower case."""
    from sqlglot import exp

    if isinstance(ident, exp.Identifier):
        text: str = ident.this
        return text.lower() if dialect == "postgres" and not ident.quoted else text
    return str(ident or "")


def _arg(node: exp.Expr, key: str) -> exp.Expr | None:
    """An argument by its name, across sqlglot versions (`from` became `from_`)."""
    found = node.args.get(key + "_") or node.args.get(key)
    return found if found is not None and not isinstance(found, list) else None


def _table_uses(root: exp.Expr, dialect: str) -> Iterator[TableUse]:
    from sqlglot import exp

    ctes = {
        _name(c.args["alias"].this, dialect) for c in root.find_all(exp.CTE) if c.args.get("alias")
    }
    for node in root.walk():
        if isinstance(node, (exp.Select, exp.Update, exp.Delete)):
            yield from _scope_uses(node, ctes, dialect)
        elif isinstance(node, exp.Insert):
            target = node.this.this if isinstance(node.this, exp.Schema) else node.this
            if isinstance(target, exp.Table) and _table_name(target, dialect) not in ctes:
                cols = node.this.expressions if isinstance(node.this, exp.Schema) else []
                yield TableUse(
                    table=_table_name(target, dialect),
                    alias=_alias(target, dialect),
                    predicate_columns=tuple(sorted({_name(c, dialect) for c in cols})),
                    access="write",
                )
        elif isinstance(node, exp.Merge) and isinstance(node.this, exp.Table):
            yield TableUse(
                table=_table_name(node.this, dialect),
                alias=_alias(node.this, dialect),
                access="write",
            )
        elif isinstance(node, exp.TruncateTable):
            for t in node.expressions:
                if isinstance(t, exp.Table):
                    yield TableUse(table=_table_name(t, dialect), access="write")


def _table_name(table: exp.Table, dialect: str) -> str:
    return _name(table.this, dialect)


def _alias(table: exp.Table, dialect: str) -> str | None:
    from sqlglot import exp

    alias = table.args.get("alias")
    return _name(alias.this, dialect) if isinstance(alias, exp.TableAlias) and alias.this else None


def _scope_uses(node: exp.Expr, ctes: set[str], dialect: str) -> Iterator[TableUse]:
    """The tables one SELECT/UPDATE/DELETE reads or writes directly, with their equated columns."""
    from sqlglot import exp

    items: list[tuple[exp.Expr, Access]] = []  # every FROM item: tables, subqueries, functions
    conditions: list[exp.Expr] = []
    if isinstance(node, (exp.Update, exp.Delete)) and isinstance(node.this, exp.Table):
        items.append((node.this, "write"))
    frm = _arg(node, "from")
    if frm is not None:
        items += [(t, "read") for t in [frm.this, *frm.expressions]]
    items += [(t, "read") for t in node.args.get("using") or ()]
    for join in node.args.get("joins") or ():
        items.append((join.this, "read"))
        if join.args.get("on") is not None:
            conditions.append(join.args["on"])
    where = _arg(node, "where")
    if where is not None:
        conditions.append(where.this)
    sources = [  # a CTE's name is not a table, nor is a set-returning function
        (t, a)
        for t, a in items
        if isinstance(t, exp.Table)
        and isinstance(t.this, exp.Identifier)
        and (t.db or _table_name(t, dialect) not in ctes)
    ]
    if not sources:
        return
    constrained: set[tuple[str | None, str]] = set()
    for cond in conditions:
        constrained |= _constrained(cond, dialect)
    only = len(items) == 1  # an unqualified column belongs to the one FROM item there is
    for table, access in sources:
        name, alias = _table_name(table, dialect), _alias(table, dialect)
        cols = sorted(
            {c for q, c in constrained if q == (alias or name) or (q is None and only) or q == name}
        )
        yield TableUse(table=name, alias=alias, predicate_columns=tuple(cols), access=access)


def _constrained(cond: exp.Expr, dialect: str) -> set[tuple[str | None, str]]:
    """(qualifier, column) pairs every row satisfying `cond` has equated to a value or column."""
    from sqlglot import exp

    if isinstance(cond, exp.Paren):
        return _constrained(cond.this, dialect)
    if isinstance(cond, exp.And):
        return _constrained(cond.this, dialect) | _constrained(cond.expression, dialect)
    if isinstance(cond, exp.Or):
        return _constrained(cond.this, dialect) & _constrained(cond.expression, dialect)
    if isinstance(cond, (exp.EQ, exp.NullSafeEQ)):
        return _column_ref(cond.this, dialect) | _column_ref(cond.expression, dialect)
    if isinstance(cond, exp.In):
        return _column_ref(cond.this, dialect)
    return set()


def _column_ref(node: exp.Expr, dialect: str) -> set[tuple[str | None, str]]:
    from sqlglot import exp

    while isinstance(node, (exp.Cast, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        table = node.args.get("table")
        return {(_name(table, dialect) if table is not None else None, _name(node.this, dialect))}
    return set()


# --- session settings -------------------------------------------------------------------------


def _settings(root: exp.Expr) -> Iterator[SettingWrite]:
    """`set_config('app.x', v, is_local)` calls and `SET [LOCAL] app.x = v` items."""
    from sqlglot import exp

    for node in root.walk():
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "set_config":
            args = node.expressions
            if args and isinstance(args[0], exp.Literal) and args[0].is_string:
                local = None
                if len(args) == 3 and isinstance(args[2], exp.Boolean):
                    local = bool(args[2].this)
                yield SettingWrite(setting=args[0].this.lower(), local=local, loc=_NO_LOC)
        elif isinstance(node, exp.SetItem) and isinstance(node.this, exp.EQ):
            target = node.this.this
            if isinstance(target, exp.Column) and target.table:
                kind = str(node.args.get("kind") or "").upper()
                setting = f"{target.table}.{target.name}".lower()
                yield SettingWrite(setting=setting, local=kind == "LOCAL", loc=_NO_LOC)


def settings_in_code(code: str) -> tuple[SettingWrite, ...]:
    """Settings written anywhere in procedural SQL (a PL/pgSQL body): read from its tokens, since
    the body's statements are not plain SQL (`PERFORM`, `:=`, `BEGIN … END`)."""
    from sqlglot import TokenType
    from sqlglot.dialects.dialect import Dialect

    if not _MAY_SET.search(code):  # most bodies set nothing: skip the (slow) tokenizer
        return ()
    try:
        toks = Dialect.get_or_raise("postgres").tokenize(code)
    except Exception:
        return ()
    found: list[SettingWrite] = []
    for i, tok in enumerate(toks):
        text = tok.text.lower()
        if (
            text == "set_config"
            and i + 2 < len(toks)
            and toks[i + 2].token_type == TokenType.STRING
        ):
            found.append(
                SettingWrite(
                    setting=toks[i + 2].text.lower(), local=_last_bool(toks, i + 1), loc=_NO_LOC
                )
            )
        elif tok.token_type == TokenType.SET:
            j = i + 1
            local = j < len(toks) and toks[j].text.upper() == "LOCAL"
            j += toks[j].text.upper() in ("LOCAL", "SESSION") if j < len(toks) else 0
            if j + 2 < len(toks) and toks[j + 1].token_type == TokenType.DOT:
                setting = f"{toks[j].text}.{toks[j + 2].text}".lower()
                found.append(SettingWrite(setting=setting, local=local, loc=_NO_LOC))
    return tuple(found)


def _last_bool(toks: list[Token], open_index: int) -> bool | None:
    """The literal last argument of the call whose `(` is at `open_index`, if it is a boolean."""
    from sqlglot import TokenType

    depth = 0
    for j in range(open_index, len(toks)):
        kind = toks[j].token_type
        depth += kind == TokenType.L_PAREN
        depth -= kind == TokenType.R_PAREN
        if depth == 0:
            last = toks[j - 1]
            if last.token_type == TokenType.TRUE:
                return True
            return False if last.token_type == TokenType.FALSE else None
    return None
