"""DDL operations from PostgreSQL's own parse tree, as the JSON its C parser emits.

The front end checks every migration statement with `pglast.parser.parse_sql_json` (PostgreSQL's
grammar, tens of thousands of statements a second); the tree of a statement that changes what we
track is read here straight from that JSON, with the parser's byte offsets for positions. Only
policies, whose USING / WITH CHECK expressions are analysed, take the slower route through
pglast's Python tree (`pg`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tenantlint.facts import Entity, FieldFact, IndexFact, Loc, RelationRef, SqlOp

Node = dict[str, Any]
Place = Callable[[int, int], Loc]  # (byte offset in the statement, length) → Loc

# Defaults (and types) whose values are unique across all tenants by construction.
_GENERATED_UNIQUE = frozenset(
    {
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v4",
        "uuid_generate_v7",
        "uuidv4",
        "uuidv7",
        "nextval",
        "cuid",
        "ulid",
        "gen_ulid",
    }
)
_SERIAL = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})
_RLS = {
    "AT_EnableRowSecurity": "enable_rls",
    "AT_DisableRowSecurity": "disable_rls",
    "AT_ForceRowSecurity": "force_rls",
    "AT_NoForceRowSecurity": "no_force_rls",
}


def ddl_ops(stmt: Node, place: Place, stmt_loc: Loc) -> list[SqlOp] | None:
    """The ops of one statement's JSON tree; None for policy statements (see `pg`)."""
    kind, node = next(iter(stmt.items()))
    reader = _Reader(place, stmt_loc)
    handler = {
        "CreateStmt": reader.create_table,
        "IndexStmt": reader.create_index,
        "AlterTableStmt": reader.alter_table,
        "RenameStmt": reader.rename,
        "DropStmt": reader.drop,
    }.get(kind)
    if kind in ("CreatePolicyStmt", "AlterPolicyStmt"):
        return None
    return handler(node) if handler else []


def _names(items: list[Node] | None) -> list[str]:
    return [i["String"]["sval"] for i in items or () if "String" in i]


def _relation(rv: Node) -> tuple[str, str | None]:
    return rv.get("relname", ""), rv.get("schemaname")


def json_nodes(node: Any) -> Iterator[Node]:
    """Every dict of a JSON tree, in document order."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from json_nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from json_nodes(item)


class _Reader:
    def __init__(self, place: Place, stmt_loc: Loc) -> None:
        self.place, self.stmt_loc = place, stmt_loc

    def _at(self, node: Node, length: int) -> Loc:
        where = node.get("location", -1)
        return self.place(where, length) if where >= 0 else self.stmt_loc

    def _op(self, kind: str, rv: Node | None, **kw: Any) -> SqlOp:
        table, schema = _relation(rv) if rv else ("", None)
        kw.setdefault("loc", self.stmt_loc)
        return SqlOp(kind=kind, table=table, schema_name=schema, **kw)

    # CREATE TABLE

    def create_table(self, node: Node) -> list[SqlOp]:
        rv = node["relation"]
        table = rv["relname"]
        fields: list[FieldFact] = []
        indexes: list[IndexFact] = []
        relations: dict[str, RelationRef] = {}
        for elt in node.get("tableElts") or ():
            if "ColumnDef" in elt:
                fact, inline = self._column(table, elt["ColumnDef"])
                fields.append(fact)
                indexes += inline
            elif "Constraint" in elt:
                cons = elt["Constraint"]
                indexes += self._key(table, cons)
                ref = _foreign_key(cons)
                if ref is not None:
                    relations.setdefault(ref.fields[0], ref)
        pk = {c for i in indexes if i.primary for c in i.fields}
        fields = [
            f.model_copy(
                update={
                    "optional": f.optional and f.column not in pk,
                    "is_id": f.column in pk and len(pk) == 1,
                    "relation": f.relation or relations.get(f.column),
                }
            )
            for f in fields
        ]
        entity = Entity(
            name=table,
            table=table,
            schema_name=rv.get("schemaname"),
            source="sql",
            kind="table",
            fields=tuple(fields),
            indexes=tuple(indexes),
            loc=self.stmt_loc,
        )
        return [
            self._op("create_table", rv, entity=entity, if_exists=bool(node.get("if_not_exists")))
        ]

    def _column(self, table: str, col: Node) -> tuple[FieldFact, list[IndexFact]]:
        name = col["colname"]
        loc = self._at(col, len(name))
        type_name = (_names(col.get("typeName", {}).get("names")) or [""])[-1]
        optional, generated, relation = True, type_name in _SERIAL, None
        indexes: list[IndexFact] = []
        for item in col.get("constraints") or ():
            cons = item.get("Constraint", {})
            contype = cons.get("contype")
            if contype == "CONSTR_NOTNULL":
                optional = False
            elif contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
                indexes += self._key(table, {**cons, "keys": [{"String": {"sval": name}}]}, loc)
            elif contype == "CONSTR_DEFAULT":
                generated = generated or _generates_unique(cons.get("raw_expr"))
            elif contype == "CONSTR_IDENTITY":
                generated = True
            elif contype == "CONSTR_FOREIGN":
                relation = _foreign_key({**cons, "fk_attrs": [{"String": {"sval": name}}]})
        fact = FieldFact(
            name=name,
            column=name,
            type=type_name.upper(),
            optional=optional,
            generated_unique_default=generated,
            relation=relation,
            loc=loc,
        )
        return fact, indexes

    def _key(self, table: str, cons: Node, loc: Loc | None = None) -> list[IndexFact]:
        """The primary key or unique constraint `cons`, with PostgreSQL's default name."""
        contype = cons.get("contype")
        if contype not in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
            return []
        cols = tuple(_names(cons.get("keys")))
        primary = contype == "CONSTR_PRIMARY"
        default = f"{table}_pkey" if primary else f"{table}_{'_'.join(cols)}_key"
        return [
            IndexFact(
                name=cons.get("conname") or default,
                fields=cols,
                unique=True,
                primary=primary,
                loc=loc or self._at(cons, len("CONSTRAINT")),
            )
        ]

    # CREATE INDEX

    def create_index(self, node: Node) -> list[SqlOp]:
        rv = node["relation"]
        columns: list[str] = []
        expression = False
        for param in node.get("indexParams") or ():
            elem = param.get("IndexElem", {})
            if elem.get("name"):
                columns.append(elem["name"])
            else:
                expression = True
                columns += [
                    _names(d["fields"])[-1]
                    for d in json_nodes(elem.get("expr"))
                    if "fields" in d and _names(d["fields"])
                ]
        fact = IndexFact(
            name=node.get("idxname") or f"{rv['relname']}_{'_'.join(columns)}_idx",
            fields=tuple(columns),
            unique=bool(node.get("unique")),
            partial="whereClause" in node,
            expression=expression,
            loc=self.stmt_loc,
        )
        return [self._op("add_index", rv, index=fact, if_exists=bool(node.get("if_not_exists")))]

    # ALTER TABLE

    def alter_table(self, node: Node) -> list[SqlOp]:
        if node.get("objtype") != "OBJECT_TABLE":
            return []
        rv = node["relation"]
        table = rv["relname"]
        ops: list[SqlOp] = []
        for item in node.get("cmds") or ():
            cmd = item.get("AlterTableCmd", {})
            subtype, name = cmd.get("subtype"), cmd.get("name")
            exists = bool(cmd.get("missing_ok"))
            definition = cmd.get("def") or {}
            if subtype in _RLS:
                ops.append(self._op(_RLS[subtype], rv, if_exists=bool(node.get("missing_ok"))))
            elif subtype == "AT_AddColumn" and "ColumnDef" in definition:
                fact, inline = self._column(table, definition["ColumnDef"])
                ops.append(self._op("add_column", rv, field=fact, loc=fact.loc, if_exists=exists))
                ops += [self._op("add_index", rv, index=i, loc=i.loc) for i in inline]
            elif subtype == "AT_AddConstraint" and "Constraint" in definition:
                keys = self._key(table, definition["Constraint"])
                ops += [self._op("add_index", rv, index=i, loc=i.loc) for i in keys]
            elif subtype in ("AT_DropColumn", "AT_DropConstraint"):
                kind = "drop_column" if subtype == "AT_DropColumn" else "drop_constraint"
                ops.append(self._op(kind, rv, name=name, if_exists=exists))
            elif subtype in ("AT_SetNotNull", "AT_DropNotNull"):
                kind = "set_not_null" if subtype == "AT_SetNotNull" else "drop_not_null"
                ops.append(self._op(kind, rv, name=name))
        return ops

    # RENAME, DROP

    def rename(self, node: Node) -> list[SqlOp]:
        what, rv = node.get("renameType"), node.get("relation")
        old, new = node.get("subname"), node.get("newname")
        if rv is None:
            return []
        if what == "OBJECT_TABLE":
            return [self._op("rename_table", rv, new_name=new)]
        if what == "OBJECT_COLUMN":
            return [self._op("rename_column", rv, name=old, new_name=new)]
        if what == "OBJECT_INDEX":
            return [self._op("rename_index", None, name=rv["relname"], new_name=new)]
        if what == "OBJECT_TABCONSTRAINT":
            return [self._op("rename_index", rv, name=old, new_name=new)]
        if what == "OBJECT_POLICY":
            return [self._op("alter_policy", rv, name=old, new_name=new)]
        return []

    def drop(self, node: Node) -> list[SqlOp]:
        what, exists = node.get("removeType"), bool(node.get("missing_ok"))
        ops: list[SqlOp] = []
        for obj in node.get("objects") or ():
            parts = _names(obj.get("List", {}).get("items"))
            if not parts:
                continue
            if what == "OBJECT_TABLE":
                rv = {"relname": parts[-1], "schemaname": parts[-2] if len(parts) > 1 else None}
                ops.append(self._op("drop_table", rv, if_exists=exists))
            elif what == "OBJECT_INDEX":
                ops.append(self._op("drop_index", None, name=parts[-1], if_exists=exists))
            elif what == "OBJECT_POLICY" and len(parts) >= 2:
                rv = {"relname": parts[-2], "schemaname": parts[-3] if len(parts) > 2 else None}
                ops.append(self._op("drop_policy", rv, name=parts[-1], if_exists=exists))
        return ops


def _foreign_key(cons: Node) -> RelationRef | None:
    if cons.get("contype") != "CONSTR_FOREIGN" or "pktable" not in cons:
        return None
    cols = tuple(_names(cons.get("fk_attrs")))
    if not cols:
        return None
    return RelationRef(
        target=cons["pktable"]["relname"],
        fields=cols,
        references=tuple(_names(cons.get("pk_attrs"))),
    )


def _generates_unique(expr: Node | None) -> bool:
    """A default expression that calls a generator of globally unique values."""
    return any(
        "funcname" in d and (_names(d["funcname"]) or [""])[-1].lower() in _GENERATED_UNIQUE
        for d in json_nodes(expr)
    )
