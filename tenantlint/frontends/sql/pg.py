"""Policies from pglast's Python parse tree: CREATE POLICY and ALTER POLICY, whose USING and
WITH CHECK expressions `policy` analyses. (The rest of the DDL is read from the parser's JSON
in `ddl`.)"""

from __future__ import annotations

from typing import Any

from tenantlint.facts import Loc, PolicyFact, SqlOp
from tenantlint.frontends.sql import policy as sql_policy

_COMMANDS = {
    "all": "ALL",
    "select": "SELECT",
    "insert": "INSERT",
    "update": "UPDATE",
    "delete": "DELETE",
}


def pg_ops(node: Any, sql: str, loc: Loc) -> list[SqlOp]:
    """The op of a CREATE or ALTER POLICY statement `sql` (empty for any other statement)."""
    from pglast import ast

    using_text, check_text = sql_policy.clause_texts(sql)
    if isinstance(node, ast.CreatePolicyStmt):
        policy = policy_fact(
            str(node.policy_name),
            _relation(node.table)[0],
            permissive=bool(node.permissive),
            command=_COMMANDS.get(str(node.cmd_name).lower(), "ALL"),
            roles=_roles(node.roles),
            using=node.qual,
            with_check=node.with_check,
            texts=(using_text, check_text),
            loc=loc,
        )
        return [_policy_op("create_policy", node.table, policy, loc)]
    if isinstance(node, ast.AlterPolicyStmt):
        policy = policy_fact(
            str(node.policy_name),
            _relation(node.table)[0],
            roles=_roles(node.roles),
            using=node.qual,
            with_check=node.with_check,
            texts=(using_text, check_text),
            loc=loc,
        )
        return [_policy_op("alter_policy", node.table, policy, loc)]
    return []


def policy_fact(
    name: str,
    table: str,
    *,
    permissive: bool = True,
    command: str = "ALL",
    roles: tuple[str, ...] = (),
    using: Any = None,
    with_check: Any = None,
    texts: tuple[str | None, str | None] = (None, None),
    loc: Loc,
) -> PolicyFact:
    """A policy from the parse trees of its USING and WITH CHECK expressions, and their text."""
    using_ties, using_reads = sql_policy.analyse(using, table)
    check_ties, check_reads = sql_policy.analyse(with_check, table)
    return PolicyFact(
        name=name,
        table=table,
        permissive=permissive,
        command=command,
        roles=roles,
        using=(texts[0] or "?") if using is not None else None,
        with_check=(texts[1] or "?") if with_check is not None else None,
        using_ties=using_ties,
        check_ties=check_ties,
        settings_read=tuple(sorted({*using_reads, *check_reads})),
        session_roles=sql_policy.session_roles(using if using is not None else with_check),
        loc=loc,
    )


def _policy_op(kind: str, relation: Any, policy: PolicyFact, loc: Loc) -> SqlOp:
    table, schema = _relation(relation)
    return SqlOp(
        kind=kind, table=table, schema_name=schema, name=policy.name, policy=policy, loc=loc
    )


def _relation(rv: Any) -> tuple[str, str | None]:
    return str(rv.relname), (str(rv.schemaname) if rv.schemaname else None)


def _roles(roles: Any) -> tuple[str, ...]:
    out = []
    for r in roles or ():
        out.append(
            str(r.rolename) if r.rolename else r.roletype.name.removeprefix("ROLESPEC_").lower()
        )
    return tuple(out)
