"""Python ORM models → entities: SQLAlchemy (declarative 1.x/2.0, imperative `Table`), SQLModel,
and Django models. Mixins and abstract bases become `Entity(abstract=True)`; the tenancy map
merges their fields into the concrete models that list them in `bases`.

Django's default table name is `<app_label>_<model name lower>`; the app label is `Meta.app_label`
or, as Django derives it, the package holding `models.py` (or the `models/` package).
"""

from __future__ import annotations

import ast
import re

from tenantlint.config import Config
from tenantlint.facts import Entity, FieldFact, IndexFact, RelationRef
from tenantlint.frontends.python.util import (
    Imports,
    ModuleReader,
    Source,
    dotted,
    elements,
    is_false,
    is_true,
    kwarg,
    last_name,
    literal_str,
    literal_strs,
    positional,
    walk,
)

_GENERATED = re.compile(r"uuid|cuid|ulid|gen_random|token|secrets\.|nanoid", re.I)
_SA_CLASS_MARKERS = ("Column", "mapped_column", "relationship")
_DJANGO_REL = ("ForeignKey", "OneToOneField")
_TABLE_CALLS = ("Table", "sa.Table", "sqlalchemy.Table", "db.Table")


def app_label(path: str) -> str:
    """Django's app label for a models module: the package of `models.py` / of `models/`."""
    parts = path.split("/")
    if len(parts) >= 2 and parts[-2] == "models":
        return parts[-3] if len(parts) >= 3 else "app"
    if len(parts) >= 3 and parts[-2] == "migrations":
        return parts[-3]
    return parts[-2] if len(parts) >= 2 else "app"


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


# the name Django's `unique_together` constraints go by: `AlterUniqueTogether` replaces them all
UNIQUE_TOGETHER = "unique_together"


class ModelExtractor(ModuleReader):
    """Entities of one module."""

    def __init__(
        self, path: str, module: ast.Module, imports: Imports, source: Source, config: Config
    ) -> None:
        super().__init__(path, module, imports, source, config)
        self.django = imports.mentions("django")

    def entities(self) -> list[Entity]:
        """Every model class and `Table(...)` of the module's top level."""
        out: list[Entity] = []
        for stmt in self.module.body:
            ent: Entity | None = None
            if isinstance(stmt, ast.ClassDef):
                ent = self.class_entity(stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr)):
                value = stmt.value
                if isinstance(value, ast.Call) and dotted(value.func) in _TABLE_CALLS:
                    ent = self.table_entity(value)
            if ent is not None:
                out.append(ent)
        return out

    def class_entity(self, cls: ast.ClassDef) -> Entity | None:
        bases = [dotted(b) or "" for b in cls.bases]
        body = cls.body
        if self.django and self._is_django(bases, body):
            return self._django(cls, bases, body)
        table_kw = next((k.value for k in cls.keywords if k.arg == "table"), None)
        is_sqlmodel = any(b.split(".")[-1] == "SQLModel" for b in bases) or (
            self.imports.mentions("sqlmodel") and table_kw is not None
        )
        if is_sqlmodel or self._is_sqlalchemy(body):
            return self._sqlalchemy(cls, bases, body, is_sqlmodel, is_true(table_kw))
        return None

    def table_entity(self, call: ast.Call) -> Entity | None:
        """`Table("name", metadata, Column(...), ...)` (imperative mapping)."""
        if not (self.imports.is_from(call.func, "sqlalchemy") or dotted(call.func) == "db.Table"):
            return None
        args = positional(call)
        name = literal_str(args[0]) if args else None
        if name is None:
            return None
        fields, indexes = self.sa_columns_and_constraints(args[2:])
        return Entity(
            name=name,
            table=name,
            source="sqlalchemy",
            kind="table",
            fields=tuple(fields),
            indexes=tuple(indexes),
            loc=self.src.loc(call),
        )

    # --- SQLAlchemy / SQLModel -------------------------------------------------------------

    def _is_sqlalchemy(self, body: list[ast.stmt]) -> bool:
        for s in body:
            target, value, annotation = self._assignment(s)
            if target == "__tablename__":
                return True
            if isinstance(value, ast.Call) and self._callee(value) in _SA_CLASS_MARKERS:
                return True
            if "Mapped[" in (annotation or ""):
                return True
        return False

    def _sqlalchemy(
        self,
        cls: ast.ClassDef,
        bases: list[str],
        body: list[ast.stmt],
        sqlmodel: bool,
        table_true: bool,
    ) -> Entity:
        name = cls.name
        table: str | None = None
        fields: list[FieldFact] = []
        indexes: list[IndexFact] = []
        for s in body:
            target, value, annotation = self._assignment(s)
            if target is None:
                continue
            if target == "__tablename__":
                table = literal_str(value) or table
            elif target == "__table_args__" and value is not None:
                indexes += self._table_args(value)
            elif not target.startswith("__"):
                f = self._sa_field(target, value, annotation, s, sqlmodel)
                if f is not None:
                    fields.append(f)
        abstract = table is None and not (sqlmodel and table_true)
        if sqlmodel and table is None:
            table = name.lower()
        return Entity(
            name=name,
            table=table or snake(name),
            source="sqlmodel" if sqlmodel else "sqlalchemy",
            abstract=abstract and not _declares_tablename_attr(cls),
            bases=tuple(bases),
            fields=tuple(fields),
            indexes=tuple(field_indexes(fields) + indexes),
            loc=self.src.header_loc(cls),
        )

    def _sa_field(
        self,
        name: str,
        value: ast.expr | None,
        annotation: str | None,
        node: ast.AST,
        sqlmodel: bool,
    ) -> FieldFact | None:
        mapped = annotation is not None and "Mapped[" in annotation
        ann_optional = annotation is not None and _optional_annotation(annotation)
        call = value if isinstance(value, ast.Call) else None
        func = self._callee(call) if call else None
        if call is not None and func == "Field" and sqlmodel:
            sa_col = kwarg(call, "sa_column")
            if isinstance(sa_col, ast.Call):
                return self.sa_column(sa_col, node, name, ann_optional)
            nullable = kwarg(call, "nullable")
            pk = is_true(kwarg(call, "primary_key"))
            return FieldFact(
                name=name,
                column=name,
                type=_ann_type(annotation),
                optional=(ann_optional and not pk) if nullable is None else is_true(nullable),
                is_id=pk,
                unique=is_true(kwarg(call, "unique")),
                indexed=is_true(kwarg(call, "index")),
                generated_unique_default=self._generated(call),
                relation=_fk_ref(literal_str(kwarg(call, "foreign_key")), name),
                loc=self.src.loc(node),
            )
        if call is not None and func in ("Column", "mapped_column"):
            return self.sa_column(call, node, name, ann_optional if mapped else None)
        if call is not None and func in ("relationship", "Relationship"):
            return self._relationship(name, call, annotation, node)
        if call is None and (mapped or (sqlmodel and annotation is not None)):
            if "relationship" in (annotation or "") or "Mapped[list" in (annotation or ""):
                return None
            return FieldFact(
                name=name,
                column=name,
                type=_ann_type(annotation),
                optional=ann_optional,
                loc=self.src.loc(node),
            )
        return None

    def _relationship(
        self, name: str, call: ast.Call, annotation: str | None, node: ast.AST
    ) -> FieldFact | None:
        """`org = relationship(Organization)`: a relation field, so `filter(M.org == org)` and
        `M(org=org)` are recognised as scoping through the relation."""
        args = positional(call)
        target = (literal_str(args[0]) or last_name(args[0])) if args else None
        if target is None and annotation:
            target = re.sub(r"^(Mapped\[)?(Optional\[)?|[\]\"']", "", annotation).split("|")[0]
        if not target:
            return None
        many = "list[" in (annotation or "").lower() or is_true(kwarg(call, "uselist"))
        return FieldFact(
            name=name,
            column=name,
            type=target.strip(),
            is_list=many,
            relation=RelationRef(target=target.strip()),
            loc=self.src.loc(node),
        )

    def sa_column(
        self, call: ast.Call, node: ast.AST, attr: str | None, ann_optional: bool | None
    ) -> FieldFact:
        """A `Column(...)` / `mapped_column(...)` / `sa.Column("name", ...)` → field."""
        args = positional(call)
        colname = literal_str(args[0]) if args else None
        if colname is not None:
            args = args[1:]
        name = attr or colname or "?"
        type_name = ""
        fk: RelationRef | None = None
        for a in args:
            if isinstance(a, ast.Call) and last_name(a.func) == "ForeignKey":
                target_args = positional(a)
                fk = _fk_ref(literal_str(target_args[0]) if target_args else None, colname or name)
                if fk is None and target_args:
                    target = dotted(target_args[0]) or ""
                    fk = RelationRef(target=target.rsplit(".", 1)[0], fields=(colname or name,))
            elif not type_name:
                type_name = last_name(a.func if isinstance(a, ast.Call) else a) or ""
        pk = is_true(kwarg(call, "primary_key"))
        nullable = kwarg(call, "nullable")
        if nullable is not None:
            optional = is_true(nullable)
        elif ann_optional is not None:  # 2.0: Mapped[Optional[int]] decides
            optional = ann_optional and not pk
        else:  # 1.x Column is nullable by default — only when it is SQLAlchemy's own Column
            optional = not pk and self._real_column(call)
        return FieldFact(
            name=name,
            column=colname or name,
            type=type_name,
            optional=optional,
            is_id=pk,
            unique=is_true(kwarg(call, "unique")),
            indexed=is_true(kwarg(call, "index")),
            generated_unique_default=self._generated(call),
            relation=fk,
            loc=self.src.loc(node),
        )

    def _callee(self, call: ast.Call) -> str:
        """The called name through import aliases (`from .base import Column as C` → `Column`)."""
        return (self.imports.qualify(call.func) or "").rsplit(".", 1)[-1]

    def _real_column(self, call: ast.Call) -> bool:
        d = dotted(call.func) or ""
        return self.imports.is_from(call.func, "sqlalchemy") or d.endswith("db.Column")

    def _generated(self, call: ast.Call) -> bool:
        for key in ("default", "server_default", "default_factory"):
            v = kwarg(call, key)
            if v is not None and _GENERATED.search(self.src.code(v)):
                return True
            if isinstance(v, ast.Name):  # `default=get_anchor`, a function of this module
                fn = next(
                    (
                        s
                        for s in self.module.body
                        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == v.id
                    ),
                    None,
                )
                if fn is not None and any(_GENERATED.search(self.src.code(s)) for s in fn.body):
                    return True
        return False

    def sa_columns_and_constraints(
        self, items: list[ast.expr]
    ) -> tuple[list[FieldFact], list[IndexFact]]:
        fields: list[FieldFact] = []
        indexes: list[IndexFact] = []
        for item in items:
            if not isinstance(item, ast.Call):
                continue
            if last_name(item.func) == "Column":
                fields.append(self.sa_column(item, item, None, None))
            else:
                idx = self._sa_constraint(item)
                if idx is not None:
                    indexes.append(idx)
        return fields, field_indexes(fields) + indexes

    def _table_args(self, value: ast.expr) -> list[IndexFact]:
        out = []
        for el in elements(value) if isinstance(value, (ast.Tuple, ast.List)) else []:
            if isinstance(el, ast.Call):
                idx = self._sa_constraint(el)
                if idx is not None:
                    out.append(idx)
        return out

    def _sa_constraint(self, call: ast.Call) -> IndexFact | None:
        kind = last_name(call.func)
        args = positional(call)
        if kind == "Index":
            name = literal_str(args[0]) if args else None
            cols = [_col_name(a) for a in args[1:]]
            unique = is_true(kwarg(call, "unique"))
        elif kind in ("UniqueConstraint", "PrimaryKeyConstraint"):
            name = literal_str(kwarg(call, "name"))
            cols = [_col_name(a) for a in args]
            unique = True
        else:
            return None
        where = kwarg(call, "postgresql_where") or kwarg(call, "sqlite_where")
        return IndexFact(
            name=name,
            fields=tuple(c or "?" for c in cols),
            unique=unique,
            primary=kind == "PrimaryKeyConstraint",
            partial=where is not None,
            expression=any(c is None for c in cols),
            loc=self.src.loc(call),
        )

    # --- Django ----------------------------------------------------------------------------

    def _is_django(self, bases: list[str], body: list[ast.stmt]) -> bool:
        if any(b in ("models.Model", "Model") or b.endswith(".models.Model") for b in bases):
            return True
        if any(
            b.split(".")[-1] in ("Form", "ModelForm", "Serializer", "ModelSerializer")
            for b in bases
        ):
            return False
        for s in body:
            _, value, _ = self._assignment(s)
            if isinstance(value, ast.Call) and (dotted(value.func) or "").startswith("models."):
                return True
        return False

    def _django(self, cls: ast.ClassDef, bases: list[str], body: list[ast.stmt]) -> Entity:
        name = cls.name
        meta = next((s for s in body if isinstance(s, ast.ClassDef) and s.name == "Meta"), None)
        options = self._meta_options(meta) if meta else {}
        fields: list[FieldFact] = []
        for s in body:
            target, value, _ = self._assignment(s)
            if target and isinstance(value, ast.Call):
                fields += self.django_field(target, value, s)
        auto = _saved_attributes(body)
        if auto:
            fields = [
                f.model_copy(update={"auto_set": True})
                if f.name in auto or f.column in auto or f.column.removesuffix("_id") in auto
                else f
                for f in fields
            ]
        table = literal_str(options.get("db_table"))
        label = literal_str(options.get("app_label")) or app_label(self.path)
        indexes = self.django_meta_indexes(options, fields)
        abstract = is_true(options.get("abstract")) or is_true(options.get("proxy"))
        return Entity(
            name=name,
            table=table or f"{label}_{name.lower()}",
            source="django",
            abstract=abstract,
            bases=tuple(b for b in bases if b not in ("models.Model", "Model")),
            fields=tuple(fields),
            indexes=tuple(field_indexes(fields) + indexes),
            loc=self.src.header_loc(cls),
        )

    def django_field(self, name: str, call: ast.Call, node: ast.AST) -> list[FieldFact]:
        """A Django field; a ForeignKey gives its relation field and the `<name>_id` column."""
        kind = last_name(call.func) or ""
        if not kind.endswith(("Field", "Key")) or kind == "ManyToManyField":
            return []
        column = literal_str(kwarg(call, "db_column"))
        optional = is_true(kwarg(call, "null"))
        loc = self.src.loc(node)
        pk = is_true(kwarg(call, "primary_key"))
        unique = is_true(kwarg(call, "unique")) or kind == "OneToOneField" or pk
        if kind in _DJANGO_REL:
            args = positional(call)
            target = kwarg(call, "to") or (args[0] if args else None)
            target_name = literal_str(target) or last_name(target) or "?"
            col = column or f"{name}_id"
            indexed = not is_false(kwarg(call, "db_index"))
            rel = RelationRef(
                target=target_name.rsplit(".", 1)[-1], fields=(col,), references=("id",)
            )
            return [
                FieldFact(
                    name=name,
                    column=col,
                    type=target_name,
                    optional=optional,
                    unique=unique,
                    indexed=indexed,
                    relation=rel,
                    loc=loc,
                ),
                FieldFact(
                    name=col,
                    column=col,
                    type="ForeignKey",
                    optional=optional,
                    unique=unique,
                    indexed=indexed,
                    loc=loc,
                ),
            ]
        return [
            FieldFact(
                name=name,
                column=column or name,
                type=kind,
                optional=optional,
                is_id=pk,
                unique=unique,
                indexed=is_true(kwarg(call, "db_index")),
                generated_unique_default=self._generated(call),
                loc=loc,
            )
        ]

    def django_meta_indexes(
        self, options: dict[str, ast.expr], fields: list[FieldFact]
    ) -> list[IndexFact]:
        fk = {f.name: f.column for f in fields if f.relation is not None}

        def norm(names: list[str]) -> tuple[str, ...]:
            return tuple(fk.get(n, n) for n in names)

        out: list[IndexFact] = []
        ut = options.get("unique_together")
        if ut is not None:
            flat = literal_strs(ut) and all(literal_str(e) is not None for e in elements(ut))
            for g in [ut] if flat else elements(ut):
                names = literal_strs(g)
                if names:
                    out.append(
                        IndexFact(
                            name=UNIQUE_TOGETHER,
                            fields=norm(names),
                            unique=True,
                            loc=self.src.loc(g),
                        )
                    )
        for key in ("constraints", "indexes"):
            for call in elements(options.get(key)):
                if not isinstance(call, ast.Call):
                    continue
                kind = last_name(call.func)
                names = literal_strs(kwarg(call, "fields")) or []
                exprs = [a for a in positional(call) if literal_str(a) is None]
                if kind not in ("UniqueConstraint", "Index") or not (names or exprs):
                    continue
                out.append(
                    IndexFact(
                        name=literal_str(kwarg(call, "name")),
                        fields=norm(names),
                        unique=kind == "UniqueConstraint",
                        partial=kwarg(call, "condition") is not None,
                        expression=bool(exprs),
                        loc=self.src.loc(call),
                    )
                )
        return out

    # --- helpers -----------------------------------------------------------------------------

    def _assignment(self, s: ast.AST) -> tuple[str | None, ast.expr | None, str | None]:
        """(target, value, annotation code) of `x = v` / `x: T = v` / `x: T`."""
        if isinstance(s, ast.Assign) and len(s.targets) == 1:
            t = s.targets[0]
            return (t.id if isinstance(t, ast.Name) else None), s.value, None
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name):
            return s.target.id, s.value, self.src.code(s.annotation)
        if (  # `@declared_attr def organization(cls) -> Mapped[Org]: return relationship(…)`
            isinstance(s, ast.FunctionDef)
            and s.name != "__tablename__"
            and any(last_name(d) == "declared_attr" for d in s.decorator_list)
            and isinstance(s.body[-1], ast.Return)
            and isinstance(s.body[-1].value, ast.Call)
        ):
            returns = self.src.code(s.returns) if s.returns is not None else None
            return s.name, s.body[-1].value, returns
        return None, None, None

    def _meta_options(self, meta: ast.ClassDef) -> dict[str, ast.expr]:
        out: dict[str, ast.expr] = {}
        for s in meta.body:
            target, value, _ = self._assignment(s)
            if target and value is not None:
                out[target] = value
        return out


def _declares_tablename_attr(cls: ast.ClassDef) -> bool:
    """A `@declared_attr def __tablename__` makes the class (and its subclasses) mapped."""
    return any(
        isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "__tablename__"
        for s in cls.body
    )


def _saved_attributes(body: list[ast.stmt]) -> set[str]:
    """`self.x` attributes a `save()` override assigns before saving (`self.workspace = …`)."""
    out: set[str] = set()
    for s in body:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "save":
            for n in walk(s):
                if isinstance(n, ast.Assign):
                    for target in n.targets:
                        if isinstance(target, ast.Attribute) and dotted(target.value) == "self":
                            out.add(target.attr)
    return out


def _optional_annotation(ann: str) -> bool:
    inner = ann.replace(" ", "")
    return "Optional[" in inner or "|None" in inner or "None|" in inner


def _ann_type(ann: str | None) -> str:
    if not ann:
        return ""
    inner = ann.replace("Mapped[", "").replace("Optional[", "").rstrip("]")
    return inner.split("|")[0].strip()


def _col_name(node: ast.expr) -> str | None:
    s = literal_str(node)
    if s is not None:
        return s
    return last_name(node) if isinstance(node, (ast.Name, ast.Attribute)) else None


def _fk_ref(target: str | None, column: str) -> RelationRef | None:
    if not target:
        return None
    table, _, col = target.rpartition(".")
    return RelationRef(target=table or target, fields=(column,), references=(col,) if table else ())


def field_indexes(fields: list[FieldFact]) -> list[IndexFact]:
    """The primary key and single-column unique constraints that fields declare inline. A
    one-to-one relation's column is left out: unique by construction, like Prisma's 1:1 FKs."""
    one_to_one = {f.column for f in fields if f.relation is not None and f.unique}
    return [
        IndexFact(fields=(f.name,), unique=True, primary=f.is_id, loc=f.loc)
        for f in fields
        if (f.unique or f.is_id) and f.relation is None and f.column not in one_to_one
    ]
