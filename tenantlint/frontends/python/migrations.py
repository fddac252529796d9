"""Alembic and Django migrations → SQL operations, replayed with the project's `.sql` migrations.

Alembic: `upgrade()` (never `downgrade()`) read as the small program it is: every `op.*` call is
evaluated once per binding of the `for` loops around it (over literal lists and tuples of
strings, tuple targets included), and `op.execute(helper(t))` evaluates a module function that
returns a string built from its parameters. Ordered by the `revision` / `down_revision` chain.
Django: the `operations` of `class Migration`, `RunSQL` forward text included; ordered by
`dependencies`. Both record their identity and predecessors in `FileFacts.extra`
(`migration_id`, `migration_deps`) for `replay.migration_order`.
"""

from __future__ import annotations

import ast
import itertools
import re

from tenantlint.config import Config
from tenantlint.facts import (
    Entity,
    FieldFact,
    IndexFact,
    Loc,
    ParseError,
    SqlOp,
    SqlOpKind,
    SqlTemplate,
)
from tenantlint.frontends.python.models import (
    UNIQUE_TOGETHER,
    ModelExtractor,
    app_label,
    field_indexes,
)
from tenantlint.frontends.python.strings import Params, evaluate, module_functions
from tenantlint.frontends.python.util import (
    Imports,
    ModuleReader,
    Source,
    absolute,
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
_DDL = re.compile(r"(?i)\b(alter|create|drop|grant|revoke|comment)\s")
_INDEX_OPS = ("create_index", "create_unique_constraint", "create_primary_key")

Binding = dict[str, str]


class MigrationExtractor(ModuleReader):
    """Operations of one migration module (`ops`, `errors`, `extra`), or none for other modules."""

    def __init__(
        self, path: str, module: ast.Module, imports: Imports, source: Source, config: Config
    ) -> None:
        super().__init__(path, module, imports, source, config)
        self.models = ModelExtractor(path, module, imports, source, config)
        self.ops: list[SqlOp] = []
        self.errors: list[ParseError] = []
        self.extra: dict[str, str] = {}
        self.is_migration = False
        self.constants: dict[str, ast.expr] = {}
        self.functions = module_functions(module)

    def run(self) -> None:
        for stmt in self.module.body:
            if isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        self.constants[t.id] = stmt.value
            elif (
                isinstance(stmt, ast.AnnAssign)
                and stmt.value is not None
                and isinstance(stmt.target, ast.Name)
            ):
                self.constants[stmt.target.id] = stmt.value
        if self.imports.is_from(ast.Name(id="op"), "alembic") and "revision" in self.constants:
            self._alembic()
        elif "/migrations/" in f"/{self.path}" and self.imports.mentions("django"):
            for stmt in self.module.body:
                if isinstance(stmt, ast.ClassDef) and stmt.name == "Migration":
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
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "upgrade":
                self._block(stmt.body, [{}], {})

    def _block(self, body: list[ast.stmt], env: list[Binding], batch: dict[str, str]) -> None:
        for s in body:
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
                for binding in env:
                    self._alembic_call(s.value, binding, batch)
            elif isinstance(s, ast.For):
                for binding in self._bind_loop(s, env):  # one pass of the body per iteration
                    self._block(s.body, [binding], batch)
            elif isinstance(s, ast.With):
                inner_batch = dict(batch)
                for item in s.items:
                    call = item.context_expr
                    if (
                        isinstance(call, ast.Call)
                        and last_name(call.func) == "batch_alter_table"
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        args = positional(call)
                        table = literal_str(args[0]) if args else None
                        if table:
                            inner_batch[item.optional_vars.id] = table
                self._block(s.body, env, inner_batch)
            elif isinstance(s, (ast.If, ast.Try)):
                self._block(s.body, env, batch)

    def _bind_loop(self, loop: ast.For, env: list[Binding]) -> list[Binding]:
        """The bindings inside `for t in (...)` / `for old, new in [(...), ...]`, crossed with
        the enclosing ones; a loop over what is not literal binds nothing."""
        values = self._literal_rows(loop.iter)
        names = (
            [loop.target.id]
            if isinstance(loop.target, ast.Name)
            else [e.id if isinstance(e, ast.Name) else "" for e in elements(loop.target)]
        )
        if values is None or not names or "" in names:
            return env
        rows = [dict(zip(names, row, strict=True)) for row in values if len(row) == len(names)]
        return [
            {**outer, **row}
            for outer, row in itertools.islice(itertools.product(env, rows), _MAX_EXPANSION)
        ]

    def _literal_rows(self, node: ast.expr) -> list[tuple[str, ...]] | None:
        """A literal iterable of strings (one-element rows) or of tuples of strings."""
        if isinstance(node, ast.Name):
            bound = self.constants.get(node.id)
            return self._literal_rows(bound) if bound is not None else None
        strings = literal_strs(node)
        if strings is not None:
            return [(s,) for s in strings]
        rows = [literal_strs(e) for e in elements(node)]
        if not rows or any(r is None or len(r) < 2 for r in rows):
            return None
        return [tuple(r) for r in rows if r is not None]

    def _alembic_call(self, call: ast.Call, binding: Binding, batch: dict[str, str]) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        owner = dotted(func.value) or ""
        if owner != "op" and owner not in batch:
            return
        meth = func.attr
        args: list[ast.expr] = positional(call)
        if owner in batch and meth in ("add_column", "drop_column", "alter_column"):
            args = [ast.Constant(value=batch[owner]), *args]
        loc = self.src.loc(call)

        def text(node: ast.expr | None) -> str | None:
            return self._str(node, binding)

        if meth == "execute" and args:
            arg = args[0]
            if isinstance(arg, ast.Call) and last_name(arg.func) == "text" and positional(arg):
                arg = positional(arg)[0]
            sql = text(arg)
            if sql is not None:
                self._sql(sql, loc.line, loc.column)
            elif isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name):
                self._helper_call(arg, arg.func.id, binding, loc)
            return
        table = (
            text(args[1])
            if meth in _INDEX_OPS and len(args) > 1
            else text(args[0] if args else None)
        )
        if table is None:
            table = text(kwarg(call, "table_name"))
        if table is None:
            return
        if meth == "create_table":
            fields, indexes = self.models.sa_columns_and_constraints(args[1:])
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
                SqlOp(kind="rename_table", table=table, new_name=text(args[1]), loc=loc)
            )
        elif meth == "add_column" and len(args) > 1 and isinstance(args[1], ast.Call):
            f = self.models.sa_column(args[1], args[1], None, None)
            self.ops.append(SqlOp(kind="add_column", table=table, field=f, loc=loc))
        elif meth == "drop_column" and len(args) > 1:
            self.ops.append(SqlOp(kind="drop_column", table=table, name=text(args[1]), loc=loc))
        elif meth == "alter_column" and len(args) > 1:
            col = text(args[1])
            nullable = kwarg(call, "nullable")
            if is_false(nullable):
                self.ops.append(SqlOp(kind="set_not_null", table=table, name=col, loc=loc))
            elif is_true(nullable):
                self.ops.append(SqlOp(kind="drop_not_null", table=table, name=col, loc=loc))
            new = text(kwarg(call, "new_column_name"))
            if new:
                self.ops.append(
                    SqlOp(kind="rename_column", table=table, name=col, new_name=new, loc=loc)
                )
        elif meth in _INDEX_OPS and len(args) > 2:
            self._create_index(call, meth, args, table, binding)
        elif meth in ("drop_index", "drop_constraint"):
            name = text(args[0]) if args else None
            tbl = text(kwarg(call, "table_name")) or (text(args[1]) if len(args) > 1 else None)
            if tbl:
                kind: SqlOpKind = "drop_index" if meth == "drop_index" else "drop_constraint"
                self.ops.append(SqlOp(kind=kind, table=tbl, name=name, loc=loc))

    def _helper_call(self, call: ast.Call, name: str, binding: Binding, loc: Loc) -> None:
        """`op.execute(enable_rls(t))` of a helper imported from the project: expanded by the
        map with the helper's template (see `SqlTemplate`)."""
        imported = self.imports.names.get(name)
        args = [self._str(a, binding) for a in call.args]
        if imported is None or call.keywords or any(a is None for a in args):
            return
        self.ops.append(
            SqlOp(
                kind="execute_helper",
                table="",
                name=absolute(imported, self.path),
                args=tuple(a for a in args if a is not None),
                loc=loc,
            )
        )

    def _create_index(
        self, call: ast.Call, meth: str, args: list[ast.expr], table: str, binding: Binding
    ) -> None:
        """`op.create_index(name, table, ["org_id", sa.text("lower(email)")])`: the named
        columns, and an expression beside them (not a lost column list)."""
        items = elements(args[2]) or [args[2]]
        cols = [c for c in (self._str(i, binding) for i in items) if c is not None]
        loc = self.src.loc(call)
        index = IndexFact(
            name=self._str(args[0], binding),
            fields=tuple(cols),
            unique=meth != "create_index" or is_true(kwarg(call, "unique")),
            primary=meth == "create_primary_key",
            partial=kwarg(call, "postgresql_where") is not None,
            expression=len(cols) != len(items),
            loc=loc,
        )
        self.ops.append(SqlOp(kind="add_index", table=table, index=index, loc=loc))

    def _str(self, node: ast.expr | None, binding: Binding | None = None) -> str | None:
        """The static string value of an expression (constants, loop variables, helpers);
        Alembic's `op.f("ix_tools_name")` (a name the naming convention leaves alone) is its
        string."""
        if node is None:
            return None
        if isinstance(node, ast.Call) and last_name(node.func) == "f" and len(node.args) == 1:
            node = node.args[0]
        bound = binding or {}

        def resolve(name: str) -> ast.expr | str | None:
            return bound[name] if name in bound else self.constants.get(name)

        text = evaluate(node, resolve, functions=self.functions.get)
        return text.text if text is not None and not text.dynamic else None

    def _sql(self, sql: str, line: int, column: int) -> None:
        from tenantlint.frontends.sql import sql_to_ops

        ops, errors = sql_to_ops(sql, self.path, line, column, self.config)
        self.ops.extend(ops)
        self.errors.extend(e for e in errors if e not in self.errors)  # once, loops aside

    # --- Django ----------------------------------------------------------------------------

    def _django(self, cls: ast.ClassDef) -> None:
        self.is_migration = True
        app = app_label(self.path)
        name = self.path.rsplit("/", 1)[-1].removesuffix(".py")
        self.extra["migration_id"] = f"django:{app}.{name}"
        deps: list[str] = []
        for s in cls.body:
            if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
                continue
            target = s.targets[0].id
            if target == "dependencies":
                for dep in elements(s.value):
                    pair = literal_strs(dep)
                    if pair and len(pair) == 2 and not pair[1].startswith("__"):
                        deps.append(f"django:{pair[0]}.{pair[1]}")
            elif target == "operations":
                for op in elements(s.value):
                    if isinstance(op, ast.Call):
                        self._django_op(op, app)
        self.extra["migration_deps"] = ",".join(deps)

    def _django_op(self, call: ast.Call, app: str) -> None:
        """One operation; ops on a model carry `model_ref`, resolved to its table in replay."""
        kind = last_name(call.func) or ""
        loc = self.src.loc(call)
        args = positional(call)

        def arg(i: int, key: str) -> ast.expr | None:
            return kwarg(call, key) or (args[i] if len(args) > i else None)

        by_name = kind.endswith("Model") or kind in ("AlterModelTable", "AlterUniqueTogether")
        model_key = "name" if by_name else "model_name"
        model = (literal_str(arg(0, model_key)) or "?").lower()
        ref = f"{app}.{model}"
        table = f"{app}_{model}"  # Django's default; replay substitutes the created table

        if kind == "RunSQL":
            for text in self._sql_texts(arg(0, "sql")):
                self._sql(text, loc.line, loc.column)
        elif kind == "CreateModel":
            options = arg(2, "options")
            opts = {
                literal_str(k) or "": v
                for k, v in (
                    zip(options.keys, options.values, strict=True)
                    if isinstance(options, ast.Dict)
                    else []
                )
                if k is not None
            }
            table = literal_str(opts.get("db_table")) or table
            fields: list[FieldFact] = []
            for pair in elements(arg(1, "fields")):
                items = elements(pair)
                fname = literal_str(items[0]) if items else None
                if fname and len(items) > 1 and isinstance(items[1], ast.Call):
                    fields += self.models.django_field(fname, items[1], items[1])
            indexes = field_indexes(fields) + self.models.django_meta_indexes(opts, fields)
            bases = {last_name(b) for b in elements(arg(3, "bases"))}
            ent = Entity(
                name=table,
                table=table,
                source="sql",
                kind="table",
                # django-simple-history's copies of another model's rows: it manages them
                unmanaged="HistoricalChanges" in bases,
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
            if isinstance(field, ast.Call) and fname:
                for f in self.models.django_field(fname, field, field):
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
        elif kind == "AlterUniqueTogether":  # replaces the model's `unique_together`, all of it
            self.ops.append(
                SqlOp(kind="drop_index", table=table, name=UNIQUE_TOGETHER, model_ref=ref, loc=loc)
            )
            opts = {"unique_together": arg(1, "unique_together") or ast.Set(elts=[])}
            for idx in self.models.django_meta_indexes(opts, []):
                self.ops.append(
                    SqlOp(kind="add_index", table=table, index=idx, model_ref=ref, loc=loc)
                )
        elif kind in ("AddConstraint", "AddIndex"):
            inner = arg(1, "constraint" if kind == "AddConstraint" else "index")
            if isinstance(inner, ast.Call):
                key = "constraints" if kind == "AddConstraint" else "indexes"
                opts = {key: ast.List(elts=[inner])}
                for idx in self.models.django_meta_indexes(opts, []):
                    self.ops.append(
                        SqlOp(kind="add_index", table=table, index=idx, model_ref=ref, loc=loc)
                    )

    def _sql_texts(self, sql: ast.expr | None) -> list[str]:
        if sql is None:
            return []
        text = evaluate(sql, self.constants.get)
        if text is not None:
            return [text.text] if not text.dynamic else []
        out: list[str] = []
        for el in elements(sql):
            inner = elements(el)  # (sql, params) pairs
            out += self._sql_texts(inner[0] if inner else el)
        return out


def sql_templates(
    functions: dict[str, tuple[Params, ast.expr]], constants: dict[str, ast.expr]
) -> list[SqlTemplate]:
    """The module functions (`module_functions`) that return DDL built from their parameters."""
    out: list[SqlTemplate] = []
    for name, (params, returned) in functions.items():
        names = [p for p, _ in params]

        def resolve(n: str, names: list[str] = names) -> ast.expr | str | None:
            return "{{" + n + "}}" if n in names else constants.get(n)

        text = evaluate(returned, resolve)
        if text is not None and not text.dynamic and _DDL.search(text.text):
            out.append(SqlTemplate(function=name, params=tuple(names), text=text.text))
    return out
