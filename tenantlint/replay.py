"""Replay SQL migration operations, in migration order, to the final state of each table."""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantlint.facts import Entity, FieldFact, FileFacts, IndexFact, Loc, PolicyFact, SqlOp


@dataclass
class TableState:
    """A table as the migrations leave it."""

    entity: Entity
    rls_enabled: bool = False
    rls_forced: bool = False
    rls_loc: Loc | None = None  # where RLS was (last) enabled
    force_loc: Loc | None = None
    policies: dict[str, PolicyFact] = field(default_factory=dict)


def migration_order(files: list[FileFacts]) -> list[FileFacts]:
    """Migration files sorted by their key (folder/file name, timestamps first), then path."""
    return sorted(
        (f for f in files if f.migration), key=lambda f: (f.migration_key or (f.path,), f.path)
    )


def replay(files: list[FileFacts]) -> dict[str, TableState]:
    """Apply every migration's operations in order; return the final tables by name."""
    tables: dict[str, TableState] = {}
    for facts in migration_order(files):
        for op in facts.sql_ops:
            _apply(tables, op)
    return tables


def _apply(tables: dict[str, TableState], op: SqlOp) -> None:
    if op.kind == "create_table":
        if op.entity is not None and (op.table not in tables or not op.if_exists):
            tables[op.table] = TableState(entity=op.entity)
        return
    state = tables.get(op.table)
    if state is None:
        return
    ent = state.entity
    match op.kind:
        case "drop_table":
            del tables[op.table]
        case "rename_table" if op.new_name:
            tables[op.new_name] = tables.pop(op.table)
            state.entity = ent.model_copy(update={"name": op.new_name, "table": op.new_name})
        case "add_column" if op.field is not None:
            state.entity = ent.model_copy(update={"fields": (*ent.fields, op.field)})
        case "drop_column":
            state.entity = _with_fields(ent, [f for f in ent.fields if f.column != op.name])
        case "rename_column" if op.new_name:
            state.entity = _rename_column(ent, op.name or "", op.new_name)
        case "set_not_null" | "drop_not_null":
            optional = op.kind == "drop_not_null"
            state.entity = _with_fields(
                ent,
                [f.model_copy(update={"optional": optional}) if f.column == op.name else f for f in ent.fields],
            )
        case "add_index" if op.index is not None:
            state.entity = ent.model_copy(update={"indexes": (*ent.indexes, op.index)})
        case "drop_index" | "drop_constraint":
            state.entity = ent.model_copy(
                update={"indexes": tuple(i for i in ent.indexes if i.name != op.name)}
            )
        case "enable_rls":
            state.rls_enabled, state.rls_loc = True, op.loc
        case "disable_rls":
            state.rls_enabled = False
        case "force_rls":
            state.rls_forced, state.force_loc = True, op.loc
        case "no_force_rls":
            state.rls_forced = False
        case "create_policy" | "alter_policy" if op.policy is not None:
            state.policies[op.policy.name] = op.policy
        case "drop_policy":
            state.policies.pop(op.name or "", None)


def _with_fields(ent: Entity, fields: list[FieldFact]) -> Entity:
    return ent.model_copy(update={"fields": tuple(fields)})


def _rename_column(ent: Entity, old: str, new: str) -> Entity:
    fields = [
        f.model_copy(update={"name": new, "column": new}) if f.column == old else f for f in ent.fields
    ]
    indexes = [
        i.model_copy(update={"fields": tuple(new if c == old else c for c in i.fields)})
        for i in ent.indexes
    ]
    return ent.model_copy(update={"fields": tuple(fields), "indexes": tuple(indexes)})


def index_columns(index: IndexFact) -> frozenset[str]:
    return frozenset(index.fields)
