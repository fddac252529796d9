"""The tenancy map: facts of every file joined into one picture of the project.

One entity per table (ORM declaration and SQL migrations merged), migrations replayed to their
final state, every entity classified as tenant root, tenant-scoped, global or unscoped. This is
the only place where cross-file knowledge lives; rules read it and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from tenantlint.callgraph import CallGraph, best_match, short_name, within
from tenantlint.config import Config
from tenantlint.facts import ContextProvider, Entity, FieldFact, FileFacts, IndexFact
from tenantlint.replay import TableState, expand_helpers, replay

Classification = Literal["root", "scoped", "via-parent", "global", "unscoped"]
_PARENT_DEPTH = 5  # `Ping → Check → Project`: how many links a child may be from its tenant


@dataclass
class EntityInfo:
    """One table of the project, as every source that declares it sees it."""

    decl: Entity  # the declaration people edit: the ORM model when there is one, else the SQL
    fields: list[FieldFact]  # including inherited ones
    indexes: list[IndexFact]  # the declaration's, plus indexes only the migrations create
    classification: Classification
    tenant_field: FieldFact | None
    sql: TableState | None = None  # the replayed migrations' (or live catalog's) view of it
    sources: list[Entity] = field(default_factory=list)
    # via-parent: the relation field whose required foreign key leads to the tenant-scoped parent
    parent: str | None = None

    @property
    def name(self) -> str:
        return self.decl.name

    @property
    def table(self) -> str:
        return self.decl.table

    def column_of(self, name: str) -> str:
        """The column behind a field name (or the name itself when it is already a column)."""
        for f in self.fields:
            if f.name == name:
                return f.column
        return name

    def includes_tenant(self, names: tuple[str, ...]) -> bool:
        """Whether a list of field or column names contains the tenant column."""
        t = self.tenant_field
        return t is not None and any(n in (t.name, t.column) for n in names)

    def field(self, name: str) -> FieldFact | None:
        for f in self.fields:
            if f.name == name or f.column == name:
                return f
        return None


class TenancyMap:
    """Built once per run from the facts of every file under the root."""

    def __init__(self, config: Config, files: dict[str, FileFacts]) -> None:
        self.config = config
        self.files = files
        declared = {e.table: e for f in files.values() for e in f.entities if not e.abstract}
        migrations = expand_helpers(list(files.values()), config)
        self.tables: dict[str, TableState] = replay(migrations, declared)
        self.entities: list[EntityInfo] = self._build_entities()
        self._index: dict[str, EntityInfo] = {}
        for info in self.entities:
            for key in (info.name, info.table, _lower_first(info.name)):
                self._index.setdefault(key, info)
        self._classify_children()
        self._providers: dict[str, list[ContextProvider]] | None = None
        self._calls: CallGraph | None = None
        self.rls_in_use = self._rls_in_use()
        # the SQL dialect of the project, from its Prisma datasource (None: PostgreSQL)
        self.sql_dialect = next(
            (f.datasource_provider for f in files.values() if f.datasource_provider), None
        )

    # --- lookups -------------------------------------------------------------------------

    def entity(self, ref: str) -> EntityInfo | None:
        """Resolve a model name, table name, Prisma delegate (`teamMember`) or `schema.table`."""
        ref = ref.strip('"`')
        found = self._index.get(ref) or self._index.get(ref.rsplit(".", 1)[-1])
        return found or self._index.get(ref.lower())

    def is_tenant_scoped(self, ref: str) -> bool:
        info = self.entity(ref)
        return info is not None and info.classification == "scoped"

    def provides_context(self, ref: str) -> bool:
        """Whether a wrapper a handler names (`plane.app.permissions.allow_permission`) is one
        of the project's context providers. The import may go through a package that
        re-exports it (`app/permissions/__init__.py` from `.base`), and the module path may sit
        under a source folder (`apps/api/plane/…`): matched by name, then by the importing
        module's path standing, in order, within the provider's."""
        return self._provider(ref) is not None

    def context_keys(self, ref: str) -> tuple[str, ...]:
        """The request keys the context provider `ref` reads and checks (none if it is not one)."""
        provider = self._provider(ref)
        return provider.keys if provider is not None else ()

    def _provider(self, ref: str) -> ContextProvider | None:
        if self._providers is None:
            self._providers = {}
            for f in self.files.values():
                for p in f.context_providers:
                    self._providers.setdefault(short_name(p.name), []).append(p)
        candidates = self._providers.get(short_name(ref), [])
        if "#" in ref:  # TypeScript: `lib/auth#withWorkspace`, an alias resolved by path suffix
            best = best_match(ref, [p.name for p in candidates])
            return next((p for p in candidates if p.name == best), None)
        module = ref.rpartition(".")[0]
        wanted = module.split(".") if module else []
        return next(
            (
                p
                for p in candidates
                if "#" not in p.name and within(wanted, p.name.rpartition(".")[0].split("."))
            ),
            None,
        )

    @cached_property
    def wrapper_setting(self) -> str | None:
        """The session setting the RLS wrapper writes, the first the files show (found once:
        every RLS finding's help names it)."""
        return next(
            (w.setting for f in self.files.values() for w in f.settings if w.in_wrapper), None
        )

    @property
    def calls(self) -> CallGraph:
        """The project's call graph (built on first use)."""
        if self._calls is None:
            self._calls = CallGraph(self.files.values())
        return self._calls

    def is_tenant_field(self, name: str) -> bool:
        return name in self.config.tenant_fields

    def iter_files(self) -> Iterator[FileFacts]:
        yield from self.files.values()

    # --- construction --------------------------------------------------------------------

    def _build_entities(self) -> list[EntityInfo]:
        declared: dict[str, list[Entity]] = {}
        for facts in self.files.values():
            for ent in facts.entities:
                declared.setdefault(ent.table, []).append(ent)
        abstract = {e.name: e for ents in declared.values() for e in ents if e.abstract}
        infos: list[EntityInfo] = []
        for table, ents in declared.items():
            concrete = [e for e in ents if not e.abstract]
            if not concrete:
                continue
            decl = concrete[0]
            state = self.tables.get(table)
            infos.append(self._info(decl, concrete, state, abstract))
        for table, state in self.tables.items():
            if table not in declared:
                infos.append(self._info(state.entity, [state.entity], state, abstract))
        return infos

    def _info(
        self,
        decl: Entity,
        sources: list[Entity],
        state: TableState | None,
        abstract: dict[str, Entity],
    ) -> EntityInfo:
        fields = list(decl.fields) + _inherited(decl, abstract)
        indexes = list(decl.indexes) + _inherited_indexes(decl, abstract)
        if state is not None and state.entity is not decl:
            indexes += _sql_only_indexes(fields, indexes, state.entity.indexes)
        tenant = next(
            (
                f
                for f in fields
                if (f.name in self.config.tenant_fields or f.column in self.config.tenant_fields)
                # a Prisma relation field is not the column; an SQL/Django FK column is
                and (f.relation is None or f.column in f.relation.fields)
            ),
            None,
        )
        return EntityInfo(
            decl=decl,
            fields=fields,
            indexes=indexes,
            classification=self._classify(decl, tenant),
            tenant_field=tenant,
            sql=state,
            sources=sources,
        )

    def _classify(self, decl: Entity, tenant: FieldFact | None) -> Classification:
        names = {decl.name, decl.table}
        if names & set(self.config.tenant_models):
            return "root"
        if names & set(self.config.global_models) or decl.unmanaged:
            return "global"  # declared shared, or a table the ORM does not manage
        return "scoped" if tenant is not None else "unscoped"

    def _classify_children(self) -> None:
        """Models with no tenant column whose required foreign key leads to a tenant-scoped
        model (`InvoiceLine → Invoice.teamId`) are scoped via that parent, transitively."""
        for _ in range(_PARENT_DEPTH):
            found = [
                (info, parent)
                for info in self.entities
                if info.classification == "unscoped"
                and (parent := self._required_parent(info)) is not None
            ]
            for info, parent in found:
                info.classification, info.parent = "via-parent", parent
            if not found:
                return

    def _required_parent(self, info: EntityInfo) -> str | None:
        """The relation field to a tenant-scoped parent: a required one first, else a nullable
        one that names its parent (`recipe_id` → Recipe: a SQLAlchemy `ForeignKey` column is
        nullable unless told otherwise) or belongs to a link table (all its columns keys). A
        nullable key that names something else (`User.avatar_asset`) is no parent."""
        link = all(f.is_id or f.relation is not None or _is_fk_column(info, f) for f in info.fields)
        optional = None
        for f in info.fields:
            rel = f.relation
            target = self.entity(rel.target) if rel is not None else None
            if rel is None or target is None or target is info:
                continue
            if target.classification not in ("scoped", "via-parent"):
                continue
            if f.is_list or (info.decl.source == "prisma" and not rel.fields):
                continue  # the other side of a relation (`invites Invite[]`): no key here
            columns = [info.field(c) for c in rel.fields or (f.column,)]
            if columns and all(c is not None and not c.optional for c in columns):
                return f.name
            named = _lower_first(f.name).removesuffix("_id").removesuffix("Id").replace("_", "")
            if link or named in (target.name.lower(), target.table.lower().rstrip("s")):
                optional = optional or f.name
        return optional

    def _rls_in_use(self) -> bool:
        if self.config.rls != "auto":
            return self.config.rls == "required"
        if any(state.rls_enabled or state.policies for state in self.tables.values()):
            return True
        return any(op.kind == "enable_rls" for f in self.files.values() for op in f.sql_ops) or any(
            s.in_wrapper for f in self.files.values() for s in f.settings
        )


def _is_fk_column(info: EntityInfo, f: FieldFact) -> bool:
    """The column a relation field of the entity stores (`recipe_id` of `recipe`)."""
    return any(r.relation is not None and f.column in r.relation.fields for r in info.fields)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _bases(
    decl: Entity, abstract: dict[str, Entity], seen: set[str] | None = None
) -> Iterator[Entity]:
    seen = seen if seen is not None else set()
    for base in decl.bases:
        short = base.rsplit(".", 1)[-1]
        parent = abstract.get(base) or abstract.get(short)
        if parent is not None and parent.name not in seen:
            seen.add(parent.name)
            yield parent
            yield from _bases(parent, abstract, seen)


def _inherited(decl: Entity, abstract: dict[str, Entity]) -> list[FieldFact]:
    own = {f.name for f in decl.fields}
    out: list[FieldFact] = []
    for parent in _bases(decl, abstract):
        for f in parent.fields:
            if f.name not in own:
                own.add(f.name)
                out.append(f)
    return out


def _inherited_indexes(decl: Entity, abstract: dict[str, Entity]) -> list[IndexFact]:
    return [i for parent in _bases(decl, abstract) for i in parent.indexes]


def _sql_only_indexes(
    fields: list[FieldFact], indexes: list[IndexFact], sql_indexes: tuple[IndexFact, ...]
) -> list[IndexFact]:
    """Indexes the migrations create that the ORM declaration does not (made by hand).

    Compared by column set, so the SQL that an ORM generates for its own declarations merges in."""
    col = {f.name: f.column for f in fields}
    declared = {frozenset(col.get(n, n) for n in i.fields) for i in indexes}
    declared |= {frozenset({f.column}) for f in fields if f.unique or f.is_id}
    # Django migrations name fields (`("issue", "actor")`), not columns: map them the same way
    return [i for i in sql_indexes if frozenset(col.get(n, n) for n in i.fields) not in declared]
