"""Facts: what front ends extract from one file, plain and serialisable (cacheable per file).

Front ends know syntax and the configured *names* (tenant fields, wrappers, helpers); they do not
know which models are tenant-scoped — that is cross-file knowledge, and lives in the tenancy map.
So facts record *evidence* (which keys a `where` constrains, which tables a SQL string touches) and
the rules decide, with the map, whether the evidence is enough.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Fact(BaseModel):
    """Base for every fact: immutable value objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Loc(Fact):
    """A source range; 1-based lines and columns, `end_column` exclusive. `snippet` is the
    normalised source text of the node: it feeds the finding fingerprint (line-shift stable)."""

    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0
    snippet: str = ""


class Comment(Fact):
    """A comment as the language's tokenizer sees it (suppressions are read from these)."""

    line: int
    column: int
    text: str
    standalone: bool  # nothing but the comment on its line → it also covers the next line


class ParseError(Fact):
    loc: Loc
    message: str


# --- schema: entities (ORM models, SQL tables, live catalog tables) --------------------------


class RelationRef(Fact):
    """A foreign key: `fields` of this entity reference `references` of `target`."""

    target: str  # model name or table name, as written
    fields: tuple[str, ...] = ()
    references: tuple[str, ...] = ()


class FieldFact(Fact):
    name: str  # attribute / field name
    column: str  # database column name (`@map`, `db_column`, `Column("x")`)
    type: str = ""
    optional: bool = False  # nullable
    is_list: bool = False
    is_id: bool = False
    unique: bool = False
    indexed: bool = False  # single-column index (`index=True`, `db_index`, Django FK)
    generated_unique_default: bool = False  # uuid()/cuid()/gen_random_uuid()/uuid.uuid4 …
    relation: RelationRef | None = None  # set on the relation field (Prisma) or FK column
    # the model sets it itself on every save (Django `save()` assigning `self.workspace = …`)
    auto_set: bool = False
    loc: Loc


class IndexFact(Fact):
    """A primary key, unique constraint, unique index or plain index. `fields` are field names
    for ORM entities and column names for SQL/catalog entities."""

    name: str | None = None
    fields: tuple[str, ...]
    unique: bool = False
    primary: bool = False
    partial: bool = False  # `WHERE …` on the index
    expression: bool = False  # an expression, not a plain column, is part of the key
    loc: Loc


EntitySource = Literal["prisma", "sqlalchemy", "sqlmodel", "django", "sql", "db"]


class Entity(Fact):
    name: str  # model name (SQL/catalog: the table name)
    table: str  # database table name, unqualified
    schema_name: str | None = None
    source: EntitySource
    kind: Literal["model", "view", "table"] = "model"
    abstract: bool = False  # abstract base / mixin: contributes fields, never reported itself
    # the ORM neither queries nor migrates it (Prisma `@@ignore`: a library's own table)
    unmanaged: bool = False
    bases: tuple[str, ...] = ()  # base class names, for inheritance across modules (Python)
    fields: tuple[FieldFact, ...] = ()
    indexes: tuple[IndexFact, ...] = ()
    loc: Loc


# --- SQL DDL: migration operations, replayed in migration order by the tenancy map -----------


class PolicyFact(Fact):
    name: str
    table: str
    permissive: bool = True
    command: Literal["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"] = "ALL"
    roles: tuple[str, ...] = ()
    using: str | None = None  # expression text
    with_check: str | None = None
    # (column, setting) pairs the expression ties together: `tenant_id = current_setting('app.t')`
    using_ties: tuple[tuple[str, str], ...] = ()
    check_ties: tuple[tuple[str, str], ...] = ()
    settings_read: tuple[str, ...] = ()  # every current_setting('x') the policy reads
    # roles its USING requires the session to be (`auth.role() = 'service_role'`, `current_user = …`)
    session_roles: tuple[str, ...] = ()
    loc: Loc


SqlOpKind = Literal[
    "create_table",
    "drop_table",
    "rename_table",
    "add_column",
    "drop_column",
    "rename_column",
    "set_not_null",
    "drop_not_null",
    "add_index",  # unique/primary constraints and indexes
    "drop_index",
    "rename_index",  # indexes and constraints: ALTER INDEX/ALTER TABLE … RENAME
    "drop_constraint",
    "enable_rls",
    "disable_rls",
    "force_rls",
    "no_force_rls",
    "create_policy",
    "alter_policy",
    "drop_policy",
    # `op.execute(enable_rls("notes"))` of a helper imported from another module: `name` is the
    # helper's dotted name, `args` its static arguments; the map expands it with the helper's
    # `SqlTemplate` before replay (a front end never reads another file)
    "execute_helper",
]


class SqlOp(Fact):
    """One DDL effect. Only the attributes its `kind` needs are set."""

    kind: SqlOpKind
    table: str  # unqualified table name
    schema_name: str | None = None
    entity: Entity | None = None  # create_table
    field: FieldFact | None = None  # add_column
    name: str | None = None  # column/index/constraint/policy name; old name on renames
    new_name: str | None = None  # rename_*
    index: IndexFact | None = None  # add_index
    policy: PolicyFact | None = None  # create_policy / alter_policy (the resulting policy)
    if_exists: bool = False
    # Django migrations name models, not tables (`DeleteModel("issue")`): the model ("app.model")
    # whose table this op means; replay resolves it to the table its CreateModel made.
    model_ref: str | None = None
    args: tuple[str, ...] = ()  # execute_helper
    loc: Loc


class SqlTemplate(Fact):
    """A module function that returns SQL built from its parameters
    (`def enable_rls(t): return f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"`), for the migrations
    of other modules that execute it. Each parameter stands in `text` as `{{name}}`."""

    function: str
    params: tuple[str, ...]
    text: str


class SettingWrite(Fact):
    """A write of a session setting (the RLS wrapper's `set_config('app.tenant', id, true)`)."""

    setting: str
    local: bool | None  # transaction-local (`SET LOCAL`, `set_config(…, true)`); None: unknown
    in_transaction: bool | None = None  # run inside a transaction; None: unknown
    in_wrapper: bool = False  # inside a configured RLS wrapper (or its definition)
    function: str | None = None
    loc: Loc


# --- code: ORM queries, raw SQL, handlers, clients, flags -------------------------------------


class Predicate(Fact):
    """What a query's filter (or a create's data) constrains, as evidence.

    `keys` are field paths as written: `id`, `teamId`, `project.teamId` (relation filter),
    `teamId_userId` (Prisma compound unique), `workspace__slug` (Django lookup).
    """

    keys: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()  # configured scope helpers that contribute to it
    unknown: bool = False  # part of it could not be resolved statically


QueryAction = Literal["read", "update", "delete", "create", "upsert"]


class QuerySite(Fact):
    loc: Loc
    orm: Literal["prisma", "sqlalchemy", "django"]
    model: str  # as referenced: Prisma delegate (`user`), class name, or table name
    operation: str  # findUnique, filter, get, create …
    action: QueryAction
    where: Predicate | None = None  # None: no filter at all
    data: Predicate | None = None  # create/upsert: keys set
    rls_scoped: bool = False  # inside an RLS wrapper, or on a client the wrapper returned
    bypass_rls: bool = False  # on a client that deliberately bypasses RLS
    guarded_by: str | None = None  # precision pattern that makes it safe: check-then-act, …
    pass_through: bool = False  # forwards a caller's criteria: unverified, not a finding
    function: str | None = None
    # the enclosing function's parameters its filter reads (no tenant key): judged at its callers
    params: tuple[str, ...] = ()


class TableUse(Fact):
    """A table a SQL statement touches, and the columns its predicates equate to a value."""

    table: str
    alias: str | None = None
    predicate_columns: tuple[str, ...] = ()
    access: Literal["read", "write", "ddl", "other"] = "read"


class SqlStatement(Fact):
    kind: Literal["read", "write", "ddl", "other", "unknown"]
    tables: tuple[TableUse, ...] = ()
    settings_written: tuple[SettingWrite, ...] = ()


class RawSqlSite(Fact):
    loc: Loc
    api: str  # $queryRaw, $queryRawUnsafe, text, cursor.execute, pool.query …
    sql: str | None = None  # text with interpolations replaced by placeholders; None: unknown
    parsed: bool = False  # the analyser understood every statement
    statements: tuple[SqlStatement, ...] = ()
    injection: bool = False  # interpolated/concatenated into an API that does not bind values
    rls_scoped: bool = False
    function: str | None = None
    fragment: bool = False  # builds a fragment (`Prisma.raw(x)`) that is executed elsewhere
    # a model-layer function binds only its caller's values (`{"id": self.id}`): unverified
    pass_through: bool = False


class Handler(Fact):
    """An HTTP entry point (route handler, server action, view)."""

    loc: Loc
    framework: str  # next-app, next-pages, server-action, express, fastapi, flask, django, drf
    name: str
    route: str | None = None
    methods: tuple[str, ...] = ()
    tenant_context: str | None = None  # evidence of context: resolver call, guard, middleware
    models: tuple[str, ...] = ()  # models it queries, directly or via same-module functions
    raw_sql: bool = False  # it runs raw SQL, directly or via same-module functions
    auth_hint: str | None = None  # an authentication-like call that is not a configured resolver
    # what wraps it, as dotted names through the imports (decorators, DRF `permission_classes`,
    # FastAPI `Depends(…)`): the map resolves them to other modules' `context_providers`
    context_refs: tuple[str, ...] = ()


class RequestTenant(Fact):
    """A tenant id taken from the request and used to scope data or enter the RLS wrapper."""

    loc: Loc
    source: str  # req.body, searchParams.get, request.args …
    sink: str  # where it flows: where-clause, create data, withTenantRLS argument …


class ClientSite(Fact):
    """An ORM client construction (`new PrismaClient()`, `sessionmaker(...)`)."""

    loc: Loc
    kind: str
    guarded: bool  # the configured guard is applied to it
    binding: str | None = None  # the variable it is assigned to (`prisma` in `const prisma = …`)


class FlagRead(Fact):
    """A read of a configured tenancy flag; `problem` says how it fails open, if it does."""

    loc: Loc
    flag: str
    problem: str | None = None


class TenantFallback(Fact):
    """Tenant resolution that falls back to a default tenant instead of failing."""

    loc: Loc
    description: str


class Unverified(Fact):
    """A site where the evidence runs out: listed in the audit report, never a finding."""

    loc: Loc
    kind: str
    reason: str


class ContextProvider(Fact):
    """A function or class that establishes the tenant context for what it wraps."""

    name: str  # dotted: `plane.app.permissions.allow_permission`
    keys: tuple[str, ...] = ()  # the request keys it reads (`kwargs["project_id"]`): checked


# --- the call graph: what functions do with their parameters, judged at their entry points --


class Param(Fact):
    """A parameter as callers pass it: by position, by keyword, or as a key of an object
    argument (`getDoc({ id })` binds `id` to key `id` of argument 0)."""

    name: str
    index: int
    key: str | None = None


class FunctionSummary(Fact):
    """A function as its callers see it: the queries whose missing tenant predicate its
    parameters decide (`sinks`), and whether it is a request entry point. Every module-level
    function that queries or calls a project function has one (reachability needs them)."""

    name: str  # as callees name it: Python `pkg.mod.Class.meth`, TypeScript `lib/docs#getDoc`
    label: str  # as `QuerySite.function` names it
    params: tuple[Param, ...] = ()
    handler: bool = False
    sinks: tuple[QuerySite, ...] = ()
    loc: Loc


class CallArg(Fact):
    """What one argument of a call site carries: a request value, or a caller's parameter."""

    index: int  # position; -1 for a keyword argument
    key: str | None = None  # keyword name, or the key in an object argument
    source: str | None = None  # the request source it reads
    param: str | None = None  # the calling function's parameter it forwards
    name: str | None = None  # the request key it is read under (a path parameter's name)


class CallSite(Fact):
    """A call of a project function (as far as the imports tell), with the arguments that
    carry a request value or a parameter of the caller."""

    loc: Loc
    callee: str  # resolved through the imports as far as the file tells (`FunctionSummary.name`)
    function: str | None = None  # the calling function (`FunctionSummary.label`)
    args: tuple[CallArg, ...] = ()
    checked: bool = False  # the caller authorises the result (`if doc.teamId !== team.id`)
    entry: bool = False  # the caller is a request entry point (handler, view, action, procedure)


class FileFacts(Fact):
    """Everything one front end learned from one file."""

    path: str
    frontend: str
    comments: tuple[Comment, ...] = ()
    parse_errors: tuple[ParseError, ...] = ()
    entities: tuple[Entity, ...] = ()
    migration: bool = False  # its sql_ops are replayed in migration order
    migration_key: tuple[str, ...] = ()  # sort key among migrations (defaults to the path)
    sql_ops: tuple[SqlOp, ...] = ()
    settings: tuple[SettingWrite, ...] = ()
    queries: tuple[QuerySite, ...] = ()
    raw_sql: tuple[RawSqlSite, ...] = ()
    handlers: tuple[Handler, ...] = ()
    request_tenants: tuple[RequestTenant, ...] = ()
    clients: tuple[ClientSite, ...] = ()
    guard_defined: bool = False  # the file defines or applies a configured guard
    guard_targets: tuple[
        str, ...
    ] = ()  # names the file passes to a guard: `registerTenantGuard(db)`
    flags: tuple[FlagRead, ...] = ()
    fallbacks: tuple[TenantFallback, ...] = ()
    unverified: tuple[Unverified, ...] = ()
    sql_templates: tuple[SqlTemplate, ...] = ()
    # this module's functions and classes that establish the tenant context (a decorator or
    # permission class that checks membership or calls a resolver): PRECISION 12
    context_providers: tuple[ContextProvider, ...] = ()
    functions: tuple[FunctionSummary, ...] = ()
    calls: tuple[CallSite, ...] = ()
    datasource_provider: str | None = None  # Prisma datasource `provider` (sql dialect hint)
    extra: dict[str, str] = Field(default_factory=dict)


# The facts rules read across files: a run that reports on some paths needs only these from the
# others (a pre-commit run loads them alone from the cache). Everything else is read only for
# the file that holds it. tests/test_one_file_runs.py checks that this stays true.
CONTEXT_FIELDS = frozenset(
    {
        "path",
        "frontend",
        "entities",
        "migration",
        "migration_key",
        "sql_ops",
        "sql_templates",
        "context_providers",
        "functions",
        "calls",
        "settings",
        "guard_defined",
        "guard_targets",
        "datasource_provider",
        "extra",
    }
)
