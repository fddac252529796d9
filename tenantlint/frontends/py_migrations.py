"""Alembic and Django migrations → SQL operations, replayed with the project's `.sql` migrations.

Alembic: the `op.*` calls of `upgrade()` (never `downgrade()`), with `op.execute` text expanded
over `for t in ("a", "b"):` loops; ordered by the `revision` / `down_revision` chain. Django: the
`operations` of `class Migration`, `RunSQL` forward text included; ordered by `dependencies`.
Both record their identity and predecessors in `FileFacts.extra` (`migration_id`,
`migration_deps`) for `replay.migration_order`.
"""

from __future__ import annotations

import itertools

import libcst as cst

from tenantlint.config import Config
from tenantlint.facts import Entity, FieldFact, IndexFact, ParseError, SqlOp, SqlOpKind
from tenantlint.frontends.py_models import ModelExtractor, app_label, field_indexes
from tenantlint.frontends.py_strings import evaluate
from tenantlint.frontends.py_util import (
    Imports,
    Locator,
    dotted,
    elements,
    is_false,
    is_true,
    kwarg,
    last_name,
    literal_str,
    literal_strs,
    positional,
)

_MAX_EXPANSION = 500


class MigrationExtractor:
    """Operations of one migration module (`ops`, `errors`, `extra`), or none for other modules."""

    def __init__(
        self, path: str, module: cst.Module, imports: Imports, locator: Locator, config: Config
    ) -> None:
        self.path = path
        self.module = module
        self.imports = imports
        self.locator = locator
        self.config = config
        self.models = ModelExtractor(path, imports, locator)
        self.ops: list[SqlOp] = []
        self.errors: list[ParseError] = []
        self.extra: dict[str, str] = {}
        self.is_migration = False
        self.constants: dict[str, cst.BaseExpression] = {}
        self.stmt: cst.CSTNode = module

    def run(self) -> None:
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                        targets = small.targets if isinstance(small, cst.Assign) else [small]
                        for t in targets:
                            if isinstance(t.target, cst.Name):
                                self.constants[t.target.value] = small.value
        if self.imports.is_from(cst.Name("op"), "alembic") and "revision" in self.constants:
            self._alembic()
        elif "/migrations/" in f"/{self.path}" and self.imports.mentions("django"):
            for stmt in self.module.body:
                if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Migration":
                    self.stmt = stmt
                    self._django(stmt)

    # --- Alembic ---------------------------------------------------------------------------

    def _alembic(self) -> None:
        self.is_migration = True
        rev = literal_str(self.constants.get("revision"))
        down = self.constants.get("down_revision")
        self.extra["migration_id"] = f"alembic:{rev}"
        deps = literal_strs(down) if down is not None else None
        self.extra["migration_deps"] = ",".join(f"alembic:{d}" for d in deps or ())
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "upgrade":
                self.stmt = stmt
                self._block(stmt.body, {}, {})

    def _block(self, body: cst.BaseSuite, env: dict[str, list[str]], batch: dict[str, str]) -> None:
        stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
        for s in stmts:
            if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in s.body:
                    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                        self._alembic_call(small.value, env, batch)
            elif isinstance(s, cst.For) and isinstance(s.target, cst.Name):
                values = self._literal_list(s.iter)
                inner = dict(env)
                if values is not None:
                    inner[s.target.value] = values
                self._block(s.body, inner, batch)
            elif isinstance(s, cst.With):
                inner_batch = dict(batch)
                for item in s.items:
                    call = item.item
                    if (
                        isinstance(call, cst.Call)
                        and last_name(call.func) == "batch_alter_table"
                        and item.asname is not None
                        and isinstance(item.asname.name, cst.Name)
                    ):
                        table = literal_str(positional(call)[0]) if positional(call) else None
                        if table:
                            inner_batch[item.asname.name.value] = table
                self._block(s.body, env, inner_batch)
            elif isinstance(s, (cst.If, cst.Try)):
                self._block(s.body, env, batch)

    def _literal_list(self, node: cst.BaseExpression) -> list[str] | None:
        if isinstance(node, cst.Name):
            bound = self.constants.get(node.value)
            return self._literal_list(bound) if bound is not None else None
        return literal_strs(node)

    def _alembic_call(
        self, call: cst.Call, env: dict[str, list[str]], batch: dict[str, str]
    ) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute):
            return
        owner = dotted(func.value) or ""
        if owner != "op" and owner not in batch:
            return
        meth = func.attr.value
        args = positional(call)
        if owner in batch:
            args = (
                [cst.SimpleString(repr(batch[owner])), *args]
                if meth in ("add_column", "drop_column", "alter_column")
                else args
            )
        loc = self.locator.loc(call, self.stmt)
        if meth == "execute" and args:
            arg = args[0]
            if isinstance(arg, cst.Call) and last_name(arg.func) == "text" and positional(arg):
                arg = positional(arg)[0]
            names = list(env)
            combos = list(
                itertools.islice(itertools.product(*(env[n] for n in names)), _MAX_EXPANSION)
            )
            for combo in combos or [()]:
                bound: dict[str, cst.BaseExpression | str] = {**self.constants}
                bound.update(zip(names, combo, strict=True))
                text = evaluate(arg, bound.get)
                if text is not None and not text.dynamic:
                    self._sql(text.text, loc.line, loc.column)
            return
        table = (
            self._str(args[1])
            if meth in ("create_index", "create_unique_constraint", "create_primary_key")
            and len(args) > 1
            else (self._str(args[0]) if args else None)
        )
        if table is None:
            table = literal_str(kwarg(call, "table_name"))
        if table is None:
            return
        if meth == "create_table":
            fields, indexes = self.models.sa_columns_and_constraints(args[1:], self.stmt)
            ent = Entity(
                name=table,
                table=table,
                source="sql",
                kind="table",
                fields=tuple(fields),
                indexes=tuple(indexes),
                loc=loc,
            )
            self.ops.append(SqlOp(kind="create_table", table=table, entity=ent, loc=loc))
        elif meth == "drop_table":
            self.ops.append(SqlOp(kind="drop_table", table=table, loc=loc))
        elif meth == "rename_table" and len(args) > 1:
            self.ops.append(
                SqlOp(kind="rename_table", table=table, new_name=self._str(args[1]), loc=loc)
            )
        elif meth == "add_column" and len(args) > 1 and isinstance(args[1], cst.Call):
            f = self.models.sa_column(args[1], args[1], self.stmt, None, None)
            self.ops.append(SqlOp(kind="add_column", table=table, field=f, loc=loc))
        elif meth == "drop_column" and len(args) > 1:
            self.ops.append(
                SqlOp(kind="drop_column", table=table, name=self._str(args[1]), loc=loc)
            )
        elif meth == "alter_column" and len(args) > 1:
            col = self._str(args[1])
            nullable = kwarg(call, "nullable")
            if is_false(nullable):
                self.ops.append(SqlOp(kind="set_not_null", table=table, name=col, loc=loc))
            elif is_true(nullable):
                self.ops.append(SqlOp(kind="drop_not_null", table=table, name=col, loc=loc))
            new = literal_str(kwarg(call, "new_column_name"))
            if new:
                self.ops.append(
                    SqlOp(kind="rename_column", table=table, name=col, new_name=new, loc=loc)
                )
        elif (
            meth in ("create_index", "create_unique_constraint", "create_primary_key")
            and len(args) > 2
        ):
            cols = literal_strs(args[2]) or []
            where = kwarg(call, "postgresql_where")
            index = IndexFact(
                name=self._str(args[0]),
                fields=tuple(cols),
                unique=meth != "create_index" or is_true(kwarg(call, "unique")),
                primary=meth == "create_primary_key",
                partial=where is not None,
                expression=len(cols) != len(elements(args[2]) or [args[2]]),
                loc=loc,
            )
            self.ops.append(SqlOp(kind="add_index", table=table, index=index, loc=loc))
        elif meth in ("drop_index", "drop_constraint"):
            name = self._str(args[0]) if args else None
            tbl = literal_str(kwarg(call, "table_name")) or (
                self._str(args[1]) if len(args) > 1 else None
            )
            if tbl:
                kind: SqlOpKind = "drop_index" if meth == "drop_index" else "drop_constraint"
                self.ops.append(SqlOp(kind=kind, table=tbl, name=name, loc=loc))

    def _str(self, node: cst.BaseExpression) -> str | None:
        text = evaluate(node, lambda n: self.constants.get(n))
        return text.text if text is not None and not text.dynamic else None

    def _sql(self, sql: str, line: int, column: int) -> None:
        from tenantlint.frontends.sql import sql_to_ops

        ops, errors = sql_to_ops(sql, self.path, line, column, self.config)
        self.ops.extend(ops)
        self.errors.extend(errors)

    # --- Django ----------------------------------------------------------------------------

    def _django(self, cls: cst.ClassDef) -> None:
        self.is_migration = True
        app = app_label(self.path)
        name = self.path.rsplit("/", 1)[-1].removesuffix(".py")
        self.extra["migration_id"] = f"django:{app}.{name}"
        deps: list[str] = []
        body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []
        for s in body:
            if not isinstance(s, cst.SimpleStatementLine):
                continue
            for small in s.body:
                if not (
                    isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name)
                ):
                    continue
                target = small.targets[0].target.value
                if target == "dependencies":
                    for dep in elements(small.value):
                        pair = literal_strs(dep)
                        if pair and len(pair) == 2 and not pair[1].startswith("__"):
                            deps.append(f"django:{pair[0]}.{pair[1]}")
                elif target == "operations":
                    for op in elements(small.value):
                        if isinstance(op, cst.Call):
                            self._django_op(op, app)
        self.extra["migration_deps"] = ",".join(deps)

    def _django_op(self, call: cst.Call, app: str) -> None:
        """One operation; ops on a model carry `model_ref`, resolved to its table in replay."""
        kind = last_name(call.func) or ""
        loc = self.locator.loc(call, self.stmt)
        args = positional(call)

        def arg(i: int, key: str) -> cst.BaseExpression | None:
            return kwarg(call, key) or (args[i] if len(args) > i else None)

        model = (
            literal_str(
                arg(
                    0,
                    "name" if kind.endswith("Model") or kind == "AlterModelTable" else "model_name",
                )
            )
            or "?"
        ).lower()
        ref = f"{app}.{model}"
        table = f"{app}_{model}"  # Django's default; replay substitutes the created table

        if kind == "RunSQL":
            sql = arg(0, "sql")
            for text in self._sql_texts(sql):
                self._sql(text, loc.line, loc.column)
        elif kind == "CreateModel":
            options = arg(2, "options")
            opts = {
                literal_str(el.key) or "": el.value
                for el in (options.elements if isinstance(options, cst.Dict) else [])
                if isinstance(el, cst.DictElement)
            }
            table = literal_str(opts.get("db_table")) or table
            fields: list[FieldFact] = []
            for pair in elements(arg(1, "fields")):
                items = elements(pair)
                fname = literal_str(items[0]) if items else None
                if fname and len(items) > 1 and isinstance(items[1], cst.Call):
                    fields += self.models.django_field(fname, items[1], items[1], self.stmt)
            indexes = field_indexes(fields) + self.models.django_meta_indexes(
                opts, fields, self.stmt
            )
            ent = Entity(
                name=table,
                table=table,
                source="sql",
                kind="table",
                fields=tuple(f for f in fields if f.relation is None),
                indexes=tuple(indexes),
                loc=loc,
            )
            self.ops.append(
                SqlOp(kind="create_table", table=table, entity=ent, model_ref=ref, loc=loc)
            )
        elif kind == "DeleteModel":
            self.ops.append(SqlOp(kind="drop_table", table=table, model_ref=ref, loc=loc))
        elif kind == "RenameModel":
            old, new = literal_str(arg(0, "old_name")), literal_str(arg(1, "new_name"))
            if old and new:
                ref, table = f"{app}.{old.lower()}", f"{app}_{old.lower()}"
                self.ops.append(
                    SqlOp(
                        kind="rename_table",
                        table=table,
                        name=f"{app}.{new.lower()}",
                        model_ref=ref,
                        loc=loc,
                    )
                )
        elif kind == "AlterModelTable":
            new = literal_str(arg(1, "table"))
            if new:
                self.ops.append(
                    SqlOp(kind="rename_table", table=table, new_name=new, model_ref=ref, loc=loc)
                )
        elif kind == "AddField":
            field = arg(2, "field")
            fname = literal_str(arg(1, "name"))
            if isinstance(field, cst.Call) and fname:
                made = self.models.django_field(fname, field, field, self.stmt)
                for f in made:
                    if f.relation is None:
                        self.ops.append(
                            SqlOp(kind="add_column", table=table, field=f, model_ref=ref, loc=loc)
                        )
        elif kind == "RemoveField":
            column = literal_str(arg(1, "name"))
            self.ops.append(
                SqlOp(kind="drop_column", table=table, name=column, model_ref=ref, loc=loc)
            )
        elif kind in ("RemoveConstraint", "RemoveIndex"):
            drop: SqlOpKind = "drop_constraint" if kind == "RemoveConstraint" else "drop_index"
            name = literal_str(arg(1, "name"))
            self.ops.append(SqlOp(kind=drop, table=table, name=name, model_ref=ref, loc=loc))
        elif kind in ("AddConstraint", "AddIndex"):
            inner = arg(1, "constraint" if kind == "AddConstraint" else "index")
            if isinstance(inner, cst.Call):
                key = "constraints" if kind == "AddConstraint" else "indexes"
                opts = {key: cst.List([cst.Element(inner)])}
                for idx in self.models.django_meta_indexes(opts, [], self.stmt):
                    self.ops.append(
                        SqlOp(kind="add_index", table=table, index=idx, model_ref=ref, loc=loc)
                    )

    def _sql_texts(self, sql: cst.BaseExpression | None) -> list[str]:
        if sql is None:
            return []
        text = evaluate(sql, lambda n: self.constants.get(n))
        if text is not None:
            return [text.text] if not text.dynamic else []
        out: list[str] = []
        for el in elements(sql):
            inner = elements(el)  # (sql, params) pairs
            out += self._sql_texts(inner[0] if inner else el)
        return out
