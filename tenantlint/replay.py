"""Replay SQL migration operations, in migration order, to the final state of each table.

A policy created in one file and dropped in a later one does not exist; a table secured in another
file than the one that created it is secured. Operations on tables the migrations never created
(extensions' tables, tables made by a DO block) are ignored, as PostgreSQL would have refused them
or they concern tables outside what we know — unless an ORM model declares the table, which the
application then creates itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantlint.config import Config
from tenantlint.facts import Entity, FieldFact, FileFacts, Loc, PolicyFact, SqlOp, SqlTemplate


@dataclass
class TableState:
    """A table as the migrations (or the live catalog) leave it."""

    entity: Entity
    rls_enabled: bool = False
    rls_forced: bool = False
    rls_loc: Loc | None = None  # where RLS was (last) enabled
    policies: dict[str, PolicyFact] = field(default_factory=dict)


def migration_order(files: list[FileFacts]) -> list[FileFacts]:
    """Migration files sorted by their key (folder/file name, timestamps first), then path.

    Files that name their predecessors (Alembic `down_revision`, Django `dependencies`: the
    Python front end's `extra["migration_id"]` / `extra["migration_deps"]`) then come after
    them: a stable topological order, since their file names do not order them.
    """
    ordered = sorted(
        (f for f in files if f.migration), key=lambda f: (f.migration_key or (f.path,), f.path)
    )
    ids = {f.extra["migration_id"]: f for f in ordered if "migration_id" in f.extra}
    if not ids:
        return ordered
    out: list[FileFacts] = []
    placed: set[str] = set()

    def place(f: FileFacts, stack: frozenset[str]) -> None:
        if f.path in placed or f.path in stack:
            return
        for dep in filter(None, f.extra.get("migration_deps", "").split(",")):
            if dep in ids:
                place(ids[dep], stack | {f.path})
        placed.add(f.path)
        out.append(f)

    for f in ordered:
        place(f, frozenset())
    return out


def expand_helpers(files: list[FileFacts], config: Config) -> list[FileFacts]:
    """Migrations that execute a DDL helper of another module (`op.execute(enable_rls(t))`), with
    the helper's SQL filled in from its template and read as the migration's own."""
    if not any(op.kind == "execute_helper" for f in files for op in f.sql_ops):
        return files
    templates: dict[str, SqlTemplate] = {}
    for f in files:
        module = f.path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for t in f.sql_templates:
            templates[f"{module}.{t.function}"] = t
    return [_expanded(f, templates, config) if f.migration else f for f in files]


def _expanded(facts: FileFacts, templates: dict[str, SqlTemplate], config: Config) -> FileFacts:
    from tenantlint.frontends.sql import sql_to_ops

    ops: list[SqlOp] = []
    for op in facts.sql_ops:
        template = _template(templates, op.name or "") if op.kind == "execute_helper" else None
        if template is None:
            ops.append(op)
            continue
        text = template.text
        for param, value in zip(template.params, op.args, strict=False):
            text = text.replace("{{" + param + "}}", value)
        made, _ = sql_to_ops(text, facts.path, op.loc.line, op.loc.column, config)
        ops.extend(made)
    return facts.model_copy(update={"sql_ops": tuple(ops)})


def _template(templates: dict[str, SqlTemplate], name: str) -> SqlTemplate | None:
    """The helper a dotted import names; the project's modules may sit under a source folder
    (`server/app/rls.py` for `app.rls`)."""
    if name in templates:
        return templates[name]
    found = sorted(k for k in templates if k.endswith("." + name))
    return templates[found[0]] if found else None


def replay(
    files: list[FileFacts], declared: dict[str, Entity] | None = None
) -> dict[str, TableState]:
    """Apply every migration's operations in order; return the final tables by name.

    `declared` are the tables the ORM models declare: a migration that alters, secures or
    indexes one the migrations never created (the app runs `create_all`) applies to it."""
    tables: dict[str, TableState] = {}
    models: dict[str, str] = {}  # Django "app.model" → its table, as the migrations name it so far
    for facts in migration_order(files):
        for op in facts.sql_ops:
            if op.model_ref is not None:
                op = _resolve_model(models, op)
            if (
                declared
                and op.table not in tables
                and op.table in declared
                and op.kind not in ("create_table", "drop_table")
            ):
                tables[op.table] = TableState(entity=declared[op.table])
            apply(tables, op)
    return tables


def _resolve_model(models: dict[str, str], op: SqlOp) -> SqlOp:
    """A Django op names a model: CreateModel records its table, later ops use it."""
    ref = op.model_ref or ""
    if op.kind == "create_table":
        models[ref] = op.table
        return op
    table = models.get(ref, op.table)
    if op.kind == "rename_table" and op.new_name:
        models[ref] = op.new_name
    elif (
        op.kind == "rename_table" and op.name
    ):  # RenameModel: the table stays, `name` is the new ref
        models[op.name] = table
    return op.model_copy(update={"table": table})


def apply(tables: dict[str, TableState], op: SqlOp) -> None:
    """One operation's effect on the tables."""
    if op.kind == "create_table":
        if op.entity is not None and (op.table not in tables or not op.if_exists):
            tables[op.table] = TableState(entity=op.entity)
        return
    if op.kind in ("drop_index", "rename_index") and not op.table:
        owner = next((t for t in tables.values() if _has_index(t.entity, op.name)), None)
        if owner is not None:
            _apply_to(tables, owner, op)
        return
    state = tables.get(op.table)
    if state is not None:
        _apply_to(tables, state, op)


def _apply_to(tables: dict[str, TableState], state: TableState, op: SqlOp) -> None:
    ent = state.entity
    match op.kind:
        case "drop_table":
            del tables[ent.table]
        case "rename_table" if op.new_name:
            del tables[ent.table]
            state.entity = ent.model_copy(update={"name": op.new_name, "table": op.new_name})
            tables[op.new_name] = state
        case "add_column" if op.field is not None:
            if not (op.if_exists and any(f.column == op.field.column for f in ent.fields)):
                kept = [f for f in ent.fields if f.column != op.field.column]
                state.entity = _with_fields(ent, [*kept, op.field])
        case "drop_column":
            state.entity = _with_fields(
                ent, [f for f in ent.fields if f.column != op.name]
            ).model_copy(
                update={"indexes": tuple(i for i in ent.indexes if op.name not in i.fields)}
            )
        case "rename_column" if op.new_name:
            state.entity = _rename_column(ent, op.name or "", op.new_name)
        case "set_not_null" | "drop_not_null":
            optional = op.kind == "drop_not_null"
            state.entity = _with_fields(
                ent,
                [
                    f.model_copy(update={"optional": optional}) if f.column == op.name else f
                    for f in ent.fields
                ],
            )
        case "add_index" if op.index is not None:
            index = op.index
            if not (op.if_exists and _has_index(ent, index.name)):
                others = [i for i in ent.indexes if index.name is None or i.name != index.name]
                state.entity = ent.model_copy(update={"indexes": (*others, index)})
            if index.primary:
                state.entity = _with_fields(
                    state.entity,
                    [
                        f.model_copy(update={"optional": False}) if f.column in index.fields else f
                        for f in state.entity.fields
                    ],
                )
        case "drop_index" | "drop_constraint":
            state.entity = ent.model_copy(
                update={"indexes": tuple(i for i in ent.indexes if i.name != op.name)}
            )
        case "rename_index" if op.new_name:
            state.entity = ent.model_copy(
                update={
                    "indexes": tuple(
                        i.model_copy(update={"name": op.new_name}) if i.name == op.name else i
                        for i in ent.indexes
                    )
                }
            )
        case "enable_rls":
            state.rls_enabled, state.rls_loc = True, op.loc
        case "disable_rls":
            state.rls_enabled, state.rls_loc = False, None
        case "force_rls":
            state.rls_forced = True
        case "no_force_rls":
            state.rls_forced = False
        case "create_policy" if op.policy is not None:
            state.policies[op.policy.name] = op.policy
        case "alter_policy":
            _alter_policy(state, op)
        case "drop_policy":
            state.policies.pop(op.name or "", None)


def _alter_policy(state: TableState, op: SqlOp) -> None:
    """ALTER POLICY changes only the clauses it names; `RENAME TO` only the name."""
    old = state.policies.get(op.name or "")
    if old is None:
        return
    if op.new_name:
        del state.policies[old.name]
        state.policies[op.new_name] = old.model_copy(update={"name": op.new_name})
        return
    new = op.policy
    if new is None:
        return
    update: dict[str, object] = {"loc": new.loc}
    if new.roles:
        update["roles"] = new.roles
    if new.using is not None:
        update |= {
            "using": new.using,
            "using_ties": new.using_ties,
            "session_roles": new.session_roles,
        }
    if new.with_check is not None:
        update |= {"with_check": new.with_check, "check_ties": new.check_ties}
    reads = set(new.settings_read)
    if new.using is None or new.with_check is None:
        reads |= set(old.settings_read)
    update["settings_read"] = tuple(sorted(reads))
    state.policies[old.name] = old.model_copy(update=update)


def _has_index(ent: Entity, name: str | None) -> bool:
    return name is not None and any(i.name == name for i in ent.indexes)


def _with_fields(ent: Entity, fields: list[FieldFact]) -> Entity:
    return ent.model_copy(update={"fields": tuple(fields)})


def _rename_column(ent: Entity, old: str, new: str) -> Entity:
    fields = [
        f.model_copy(update={"name": new, "column": new}) if f.column == old else f
        for f in ent.fields
    ]
    indexes = [
        i.model_copy(update={"fields": tuple(new if c == old else c for c in i.fields)})
        for i in ent.indexes
    ]
    return ent.model_copy(update={"fields": tuple(fields), "indexes": tuple(indexes)})
