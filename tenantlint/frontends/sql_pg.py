"""DDL operations from pglast's parse tree: row-level security, policies, and renames of
constraints — the PostgreSQL statements sqlglot returns as a bare `Command`."""

from __future__ import annotations

from typing import Any

from tenantlint.facts import Loc, PolicyFact, SqlOp
from tenantlint.frontends import sql_policy

_RLS_SUBTYPES = {
    "AT_EnableRowSecurity": "enable_rls",
    "AT_DisableRowSecurity": "disable_rls",
    "AT_ForceRowSecurity": "force_rls",
    "AT_NoForceRowSecurity": "no_force_rls",
}
_COMMANDS = {
    "all": "ALL",
    "select": "SELECT",
    "insert": "INSERT",
    "update": "UPDATE",
    "delete": "DELETE",
}


def pg_ops(node: Any, loc: Loc) -> list[SqlOp]:
    """The ops of one parsed statement (empty for statements that change nothing we track)."""
    from pglast import ast, enums

    if isinstance(node, ast.AlterTableStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE:
        table, schema = _relation(node.relation)
        return [
            SqlOp(
                kind=kind, table=table, schema_name=schema, if_exists=bool(node.missing_ok), loc=loc
            )
            for cmd in node.cmds or ()
            if (kind := _RLS_SUBTYPES.get(cmd.subtype.name))
        ]
    if isinstance(node, ast.CreatePolicyStmt):
        policy = policy_fact(
            str(node.policy_name),
            _relation(node.table)[0],
            permissive=bool(node.permissive),
            command=_COMMANDS.get(str(node.cmd_name).lower(), "ALL"),
            roles=_roles(node.roles),
            using=node.qual,
            with_check=node.with_check,
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
            loc=loc,
        )
        return [_policy_op("alter_policy", node.table, policy, loc)]
    if isinstance(node, ast.DropStmt) and node.removeType == enums.ObjectType.OBJECT_POLICY:
        ops = []
        for names in node.objects or ():
            parts = [s.sval for s in names]
            if len(parts) >= 2:
                ops.append(
                    SqlOp(
                        kind="drop_policy",
                        table=parts[-2],
                        schema_name=parts[-3] if len(parts) > 2 else None,
                        name=parts[-1],
                        if_exists=bool(node.missing_ok),
                        loc=loc,
                    )
                )
        return ops
    if isinstance(node, ast.RenameStmt):
        return _rename(node, loc)
    return []


def _rename(node: Any, loc: Loc) -> list[SqlOp]:
    from pglast import enums

    kinds = {
        enums.ObjectType.OBJECT_POLICY: "alter_policy",
        enums.ObjectType.OBJECT_TABCONSTRAINT: "rename_index",
    }
    kind = kinds.get(node.renameType)
    if kind is None or node.relation is None:
        return []
    table, schema = _relation(node.relation)
    return [
        SqlOp(
            kind=kind,
            table=table,
            schema_name=schema,
            name=node.subname,
            new_name=node.newname,
            loc=loc,
        )
    ]


def policy_fact(
    name: str,
    table: str,
    *,
    permissive: bool = True,
    command: str = "ALL",
    roles: tuple[str, ...] = (),
    using: Any = None,
    with_check: Any = None,
    loc: Loc,
) -> PolicyFact:
    """A policy from the parse trees of its USING and WITH CHECK expressions."""
    using_ties, using_reads = sql_policy.analyse(using, table)
    check_ties, check_reads = sql_policy.analyse(with_check, table)
    return PolicyFact(
        name=name,
        table=table,
        permissive=permissive,
        command=command,
        roles=roles,
        using=sql_policy.deparse(using) if using is not None else None,
        with_check=sql_policy.deparse(with_check) if with_check is not None else None,
        using_ties=using_ties,
        check_ties=check_ties,
        settings_read=tuple(sorted({*using_reads, *check_reads})),
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
