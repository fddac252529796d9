"""Python ORM models → entities: SQLAlchemy (declarative 1.x/2.0, imperative `Table`), SQLModel,
and Django models. Mixins and abstract bases become `Entity(abstract=True)`; the tenancy map
merges their fields into the concrete models that list them in `bases`.

Django's default table name is `<app_label>_<model name lower>`; the app label is `Meta.app_label`
or, as Django derives it, the package holding `models.py` (or the `models/` package).
"""

from __future__ import annotations

import re

import libcst as cst

from tenantlint.facts import Entity, FieldFact, IndexFact, RelationRef
from tenantlint.frontends.py_util import (
    Imports,
    Locator,
    dotted,
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


class ModelExtractor:
    """Entities of one module."""

    def __init__(self, path: str, imports: Imports, locator: Locator) -> None:
        self.path = path
        self.imports = imports
        self.loc = locator
        self.django = imports.mentions("django")

    # --- entry points ----------------------------------------------------------------------

    def class_entity(self, cls: cst.ClassDef, stmt: cst.CSTNode) -> Entity | None:
        bases = [dotted(a.value) or "" for a in cls.bases if a.keyword is None]
        body = _body_statements(cls)
        if self.django and self._is_django(cls, bases, body):
            return self._django(cls, stmt, bases, body)
        table_kw = next(
            (a.value for a in cls.keywords if a.keyword is not None and a.keyword.value == "table"),
            None,
        )
        is_sqlmodel = any(b.split(".")[-1] == "SQLModel" for b in bases) or (
            self.imports.mentions("sqlmodel") and table_kw is not None
        )
        if is_sqlmodel or self._is_sqlalchemy(body):
            return self._sqlalchemy(cls, stmt, bases, body, is_sqlmodel, is_true(table_kw))
        return None

    def table_entity(self, call: cst.Call, stmt: cst.CSTNode) -> Entity | None:
        """`Table("name", metadata, Column(...), ...)` (imperative mapping)."""
        if not (self.imports.is_from(call.func, "sqlalchemy") or dotted(call.func) == "db.Table"):
            return None
        args = positional(call)
        name = literal_str(args[0]) if args else None
        if name is None:
            return None
        fields, indexes = self.sa_columns_and_constraints(args[2:], stmt)
        return Entity(
            name=name,
            table=name,
            source="sqlalchemy",
            kind="table",
            fields=tuple(fields),
            indexes=tuple(indexes),
            loc=self.loc.loc(call, stmt),
        )

    # --- SQLAlchemy / SQLModel -------------------------------------------------------------

    def _is_sqlalchemy(
        self, body: list[cst.BaseSmallStatement | cst.BaseCompoundStatement]
    ) -> bool:
        for s in body:
            target, value, annotation = _assignment(s)
            if target == "__tablename__":
                return True
            if isinstance(value, cst.Call) and self._callee(value) in _SA_CLASS_MARKERS:
                return True
            if "Mapped[" in (annotation or ""):
                return True
        return False

    def _sqlalchemy(
        self,
        cls: cst.ClassDef,
        stmt: cst.CSTNode,
        bases: list[str],
        body: list[cst.BaseSmallStatement | cst.BaseCompoundStatement],
        sqlmodel: bool,
        table_true: bool,
    ) -> Entity:
        name = cls.name.value
        table: str | None = None
        fields: list[FieldFact] = []
        indexes: list[IndexFact] = []
        for s in body:
            target, value, annotation = _assignment(s)
            if target is None:
                continue
            if target == "__tablename__":
                table = literal_str(value) or table
            elif target == "__table_args__" and value is not None:
                indexes += self._table_args(value, stmt)
            elif not target.startswith("__"):
                f = self._sa_field(target, value, annotation, s, stmt, sqlmodel)
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
            loc=self.loc.loc(cls, stmt, f"class {name}"),
        )

    def _sa_field(
        self,
        name: str,
        value: cst.BaseExpression | None,
        annotation: str | None,
        node: cst.CSTNode,
        stmt: cst.CSTNode,
        sqlmodel: bool,
    ) -> FieldFact | None:
        mapped = annotation is not None and "Mapped[" in annotation
        ann_optional = annotation is not None and _optional_annotation(annotation)
        call = value if isinstance(value, cst.Call) else None
        func = self._callee(call) if call else None
        if call is not None and func == "Field" and sqlmodel:
            sa_col = kwarg(call, "sa_column")
            if isinstance(sa_col, cst.Call):
                return self.sa_column(sa_col, node, stmt, name, ann_optional)
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
                loc=self.loc.loc(node, stmt),
            )
        if call is not None and func in ("Column", "mapped_column"):
            return self.sa_column(call, node, stmt, name, ann_optional if mapped else None)
        if call is not None and func in ("relationship", "Relationship"):
            return self._relationship(name, call, annotation, node, stmt)
        if call is None and (mapped or (sqlmodel and annotation is not None)):
            if "relationship" in (annotation or "") or "Mapped[list" in (annotation or ""):
                return None
            return FieldFact(
                name=name,
                column=name,
                type=_ann_type(annotation),
                optional=ann_optional,
                loc=self.loc.loc(node, stmt),
            )
        return None

    def _relationship(
        self,
        name: str,
        call: cst.Call,
        annotation: str | None,
        node: cst.CSTNode,
        stmt: cst.CSTNode,
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
            loc=self.loc.loc(node, stmt),
        )

    def sa_column(
        self,
        call: cst.Call,
        node: cst.CSTNode,
        stmt: cst.CSTNode,
        attr: str | None,
        ann_optional: bool | None,
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
            if isinstance(a, cst.Call) and last_name(a.func) == "ForeignKey":
                fk = _fk_ref(
                    literal_str(positional(a)[0]) if positional(a) else None, colname or name
                )
                if fk is None and positional(a):
                    target = dotted(positional(a)[0]) or ""
                    fk = RelationRef(target=target.rsplit(".", 1)[0], fields=(colname or name,))
            elif not type_name:
                type_name = last_name(a.func if isinstance(a, cst.Call) else a) or ""
        pk = is_true(kwarg(call, "primary_key"))
        nullable = kwarg(call, "nullable")
        if nullable is not None:
            optional = is_true(nullable)
        elif ann_optional is not None:  # 2.0: Mapped[Optional[int]] decides
            optional = ann_optional and not pk
        else:  # 1.x Column is nullable by default — only when it is SQLAlchemy's own Column
            optional = not pk and fk is None and self._real_column(call)
            optional = optional or (not pk and fk is not None and self._real_column(call))
        return FieldFact(
            name=name,
            column=colname or name,
            type=type_name,
            optional=optional,
            is_id=pk,
            unique=is_true(kwarg(call, "unique")),
            indexed=is_true(kwarg(call, "index")),
            generated_unique_default=self._generated(call),
            relation=None,  # the FK column carries the tenant; relations are not modelled here
            loc=self.loc.loc(node, stmt),
        )

    def _callee(self, call: cst.Call) -> str:
        """The called name through import aliases (`from .base import Column as C` → `Column`)."""
        return (self.imports.qualify(call.func) or "").rsplit(".", 1)[-1]

    def _real_column(self, call: cst.Call) -> bool:
        d = dotted(call.func) or ""
        return self.imports.is_from(call.func, "sqlalchemy") or d.endswith("db.Column")

    def _generated(self, call: cst.Call) -> bool:
        for key in ("default", "server_default", "default_factory"):
            v = kwarg(call, key)
            if v is not None and _GENERATED.search(self.loc.code(v)):
                return True
            if isinstance(v, cst.Name):  # `default=get_anchor`, a function of this module
                fn = next(
                    (
                        s
                        for s in self.loc.module.body
                        if isinstance(s, cst.FunctionDef) and s.name.value == v.value
                    ),
                    None,
                )
                if fn is not None and _GENERATED.search(self.loc.code(fn.body)):
                    return True
        return False

    def sa_columns_and_constraints(
        self, items: list[cst.BaseExpression], stmt: cst.CSTNode
    ) -> tuple[list[FieldFact], list[IndexFact]]:
        fields: list[FieldFact] = []
        indexes: list[IndexFact] = []
        for item in items:
            if not isinstance(item, cst.Call):
                continue
            if last_name(item.func) == "Column":
                fields.append(self.sa_column(item, item, stmt, None, None))
            else:
                idx = self._sa_constraint(item, stmt)
                if idx is not None:
                    indexes.append(idx)
        return fields, field_indexes(fields) + indexes

    def _table_args(self, value: cst.BaseExpression, stmt: cst.CSTNode) -> list[IndexFact]:
        items = value.elements if isinstance(value, (cst.Tuple, cst.List)) else []
        out = []
        for el in items:
            if isinstance(el.value, cst.Call):
                idx = self._sa_constraint(el.value, stmt)
                if idx is not None:
                    out.append(idx)
        return out

    def _sa_constraint(self, call: cst.Call, stmt: cst.CSTNode) -> IndexFact | None:
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
            loc=self.loc.loc(call, stmt),
        )

    # --- Django ----------------------------------------------------------------------------

    def _is_django(
        self,
        cls: cst.ClassDef,
        bases: list[str],
        body: list[cst.BaseSmallStatement | cst.BaseCompoundStatement],
    ) -> bool:
        if any(b in ("models.Model", "Model") or b.endswith(".models.Model") for b in bases):
            return True
        if any(
            b.split(".")[-1] in ("Form", "ModelForm", "Serializer", "ModelSerializer")
            for b in bases
        ):
            return False
        for s in body:
            _, value, _ = _assignment(s)
            if isinstance(value, cst.Call) and (dotted(value.func) or "").startswith("models."):
                return True
        return False

    def _django(
        self,
        cls: cst.ClassDef,
        stmt: cst.CSTNode,
        bases: list[str],
        body: list[cst.BaseSmallStatement | cst.BaseCompoundStatement],
    ) -> Entity:
        name = cls.name.value
        meta = next(
            (s for s in body if isinstance(s, cst.ClassDef) and s.name.value == "Meta"), None
        )
        options = _meta_options(meta) if meta else {}
        fields: list[FieldFact] = []
        for s in body:
            target, value, _ = _assignment(s)
            if target and isinstance(value, cst.Call):
                fields += self.django_field(target, value, s, stmt)
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
        indexes = self.django_meta_indexes(options, fields, stmt)
        abstract = is_true(options.get("abstract")) or is_true(options.get("proxy"))
        return Entity(
            name=name,
            table=table or f"{label}_{name.lower()}",
            source="django",
            abstract=abstract,
            bases=tuple(b for b in bases if b not in ("models.Model", "Model")),
            fields=tuple(fields),
            indexes=tuple(field_indexes(fields) + indexes),
            loc=self.loc.loc(cls, stmt, f"class {name}"),
        )

    def django_field(
        self, name: str, call: cst.Call, node: cst.CSTNode, stmt: cst.CSTNode
    ) -> list[FieldFact]:
        """A Django field; a ForeignKey gives its relation field and the `<name>_id` column."""
        kind = last_name(call.func) or ""
        if not kind.endswith(("Field", "Key")) or kind == "ManyToManyField":
            return []
        column = literal_str(kwarg(call, "db_column"))
        optional = is_true(kwarg(call, "null"))
        loc = self.loc.loc(node, stmt)
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
        self, options: dict[str, cst.BaseExpression], fields: list[FieldFact], stmt: cst.CSTNode
    ) -> list[IndexFact]:
        fk = {f.name: f.column for f in fields if f.relation is not None}

        def norm(names: list[str]) -> tuple[str, ...]:
            return tuple(fk.get(n, n) for n in names)

        out: list[IndexFact] = []
        ut = options.get("unique_together")
        if ut is not None:
            groups = (
                [ut]
                if literal_strs(ut)
                and all(isinstance(e.value, cst.SimpleString) for e in getattr(ut, "elements", []))
                else [e.value for e in getattr(ut, "elements", [])]
            )
            for g in groups:
                names = literal_strs(g)
                if names:
                    out.append(
                        IndexFact(fields=norm(names), unique=True, loc=self.loc.loc(g, stmt))
                    )
        for key in ("constraints", "indexes"):
            for el in getattr(options.get(key), "elements", []):
                call = el.value
                if not isinstance(call, cst.Call):
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
                        loc=self.loc.loc(call, stmt),
                    )
                )
        return out


# --- helpers -------------------------------------------------------------------------------


def _body_statements(
    cls: cst.ClassDef,
) -> list[cst.BaseSmallStatement | cst.BaseCompoundStatement]:
    out: list[cst.BaseSmallStatement | cst.BaseCompoundStatement] = []
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else [cls.body]
    for s in body:
        if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            out.extend(s.body)
        elif isinstance(s, cst.BaseCompoundStatement):
            out.append(s)
    return out


def _assignment(
    s: cst.CSTNode,
) -> tuple[str | None, cst.BaseExpression | None, str | None]:
    """(target, value, annotation code) of `x = v` / `x: T = v` / `x: T`."""
    if isinstance(s, cst.Assign) and len(s.targets) == 1:
        t = s.targets[0].target
        return (t.value if isinstance(t, cst.Name) else None), s.value, None
    if isinstance(s, cst.AnnAssign) and isinstance(s.target, cst.Name):
        ann = cst.Module(body=[]).code_for_node(s.annotation.annotation)
        return s.target.value, s.value, ann
    return None, None, None


def _declares_tablename_attr(cls: cst.ClassDef) -> bool:
    """A `@declared_attr def __tablename__` makes the class (and its subclasses) mapped."""
    for s in _body_statements(cls):
        if isinstance(s, cst.FunctionDef) and s.name.value == "__tablename__":
            return True
    return False


def _saved_attributes(body: list[cst.BaseSmallStatement | cst.BaseCompoundStatement]) -> set[str]:
    """`self.x` attributes a `save()` override assigns before saving (`self.workspace = …`)."""
    out: set[str] = set()
    for s in body:
        if isinstance(s, cst.FunctionDef) and s.name.value == "save":
            for n in walk(s):
                target = n.target if isinstance(n, cst.AssignTarget) else None
                if isinstance(target, cst.Attribute) and dotted(target.value) == "self":
                    out.add(target.attr.value)
    return out


def _meta_options(meta: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    out: dict[str, cst.BaseExpression] = {}
    for s in _body_statements(meta):
        target, value, _ = _assignment(s)
        if target and value is not None:
            out[target] = value
    return out


def _optional_annotation(ann: str) -> bool:
    inner = ann.replace(" ", "")
    return "Optional[" in inner or "|None" in inner or "None|" in inner


def _ann_type(ann: str | None) -> str:
    if not ann:
        return ""
    inner = ann.replace("Mapped[", "").replace("Optional[", "").rstrip("]")
    return inner.split("|")[0].strip()


def _col_name(node: cst.BaseExpression) -> str | None:
    s = literal_str(node)
    if s is not None:
        return s
    return last_name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None


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
