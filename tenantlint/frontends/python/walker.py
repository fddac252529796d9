"""The function-context walker of the Python code facts: the state one walk of a module keeps
(the enclosing class and function, what each function assigns, reads, calls and queries), and
the questions every concern asks of it. The concerns are layered on top, one module each:
flags → taint → handlers → raw_sql → queries, joined in `code.CodeVisitor`.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

from tenantlint.config import Config
from tenantlint.facts import (
    ClientSite,
    FlagRead,
    Handler,
    Loc,
    QuerySite,
    RawSqlSite,
    RequestTenant,
    SettingWrite,
    TenantFallback,
)
from tenantlint.frontends.python.util import (
    Imports,
    ModuleReader,
    Source,
    Visitor,
    absolute,
    dotted,
    module_name,
    walk,
)

CAMEL = re.compile(r"^_?[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
BUILTINS = {*dir(builtins), "cls"}
DB_RECEIVER = re.compile(r"(^|_)(cursor|cur|conn|connection|session|db|engine|tx|txn|c)$", re.I)

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class ClassCtx:
    name: str
    bases: list[str]
    names: set[str] = field(default_factory=set)
    view: bool = False
    has_get_queryset: bool = False
    permission_refs: set[str] = field(default_factory=set)  # its DRF `permission_classes`


@dataclass
class FuncCtx:
    name: str
    node: FunctionNode
    params: set[str]
    top: str  # the module-level function or class it belongs to
    cls: ClassCtx | None = None
    rls: bool = False
    in_transaction: bool = False
    handler: Handler | None = None
    path_params: set[str] = field(default_factory=set)
    assigns: dict[str, ast.expr] = field(default_factory=dict)
    attr_sets: dict[str, set[str]] = field(default_factory=dict)
    tainted: dict[str, str] = field(default_factory=dict)  # var → request source
    names: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    sites: list[QuerySite] = field(default_factory=list)
    site_values: list[set[str]] = field(default_factory=list)  # variables each site filters by
    raw: bool = False
    tables: set[str] = field(default_factory=set)  # tables its raw SQL touches
    membership: bool = False  # checks the user's membership of the tenant (member=request.user)
    capability: bool = False  # compares a row's token with the request's (PRECISION 3)
    guard_names: set[str] = field(default_factory=set)  # `x` in `if x.tenant_id != …` / perm(x)

    @property
    def request_input(self) -> bool:
        """A serializer's `validate_<field>(value)` / `validate(attrs)`: its parameters are the
        request's data, not a caller's checked values."""
        return (
            self.cls is not None
            and any(b.endswith("Serializer") for b in self.cls.bases)
            and self.node.name.startswith("validate")
        )


class Walker(ModuleReader, Visitor):
    """The state of one module's walk; the layers above add the concerns."""

    def __init__(
        self, path: str, module: ast.Module, imports: Imports, source: Source, config: Config
    ) -> None:
        super().__init__(path, module, imports, source, config)
        self.tenant_fields = set(config.tenant_fields)
        self.stmt: ast.stmt | None = None  # the top-level statement being walked
        self.funcs: list[FuncCtx] = []
        self.classes: list[ClassCtx] = []
        self.done_funcs: list[FuncCtx] = []
        self.consumed: set[int] = set()
        self.with_items: set[int] = set()
        self.nested_querysets: set[int] = set()  # `Prefetch(…, M.objects…)`, `queryset=M.objects…`
        self.loose: set[int] = set()
        self.rls_depth = 0
        self.txn_depth = 0
        self.rls_callbacks: set[str] = set()
        self.constants: dict[str, ast.expr] = {}
        self.guard_args: set[str] = set()  # names a configured guard is applied to
        self.guarded_calls: set[int] = set()  # calls nested in a guard call's arguments
        self.client_sites: list[tuple[ClientSite, set[str]]] = []
        self.module_names: set[str] = set()
        self.scope_names = self.module_names  # the names the innermost scope mentions
        self.before_request = False
        self.is_views_module = "views" in path.rsplit("/", 2)[-2:][0] or path.endswith("views.py")
        self.django = imports.mentions("django", "rest_framework")
        self.fastapi = imports.mentions("fastapi", "starlette")
        self.flask = imports.mentions("flask", "flask_restful", "flask_smorest")
        # outputs
        self.queries: list[QuerySite] = []
        self.site_of: dict[int, QuerySite] = {}  # id of a query's call node → its site
        self.call_of: dict[int, int] = {}  # id of a site → id of its call node
        self.raw_sql: list[RawSqlSite] = []
        self.settings: list[SettingWrite] = []
        self.handlers: list[Handler] = []
        self.request_tenants: list[RequestTenant] = []
        self.flags: list[FlagRead] = []
        self.fallbacks: list[TenantFallback] = []
        self.guard_defined = False

    def loc(self, node: ast.AST) -> Loc:
        return self.src.loc(node)

    @property
    def func(self) -> FuncCtx | None:
        return self.funcs[-1] if self.funcs else None

    def rescope(self) -> None:
        """Point `scope_names` at the names of the innermost function, class or the module."""
        if self.funcs:
            self.scope_names = self.funcs[-1].names
        elif self.classes:
            self.scope_names = self.classes[-1].names
        else:
            self.scope_names = self.module_names

    def ref(self, node: ast.expr) -> str | None:
        """The dotted name a Name/Attribute refers to: through the imports, else this module's."""
        name = dotted(node)
        if name is None:
            return None
        if name.split(".")[0] in self.imports.names:
            return absolute(self.imports.qualify(node) or name, self.path)
        return f"{module_name(self.path)}.{name}"

    def in_rls(self) -> bool:
        f = self.func
        return self.rls_depth > 0 or (f is not None and f.rls)

    def has_tenant_key(self, keys: tuple[str, ...]) -> bool:
        return any(seg in self.tenant_fields for k in keys for seg in re.split(r"__|\.", k))

    def from_params(self, f: FuncCtx, values: list[ast.expr]) -> bool:
        """PRECISION 5, for values: a model-layer function (not a handler) whose filter uses only
        what its caller passed in (`get_by_id(cls, _id)`, `… == self`): scoped at the call sites."""
        imported = set(self.imports.names)
        free = free_names(values) - imported - (BUILTINS - f.params)
        if not free:
            return False
        for name in free:
            bound = f.assigns.get(name)
            if name in f.params:
                continue
            extra = free_names([bound]) - imported if bound is not None else {name}
            if not extra or not extra <= f.params:
                return False
        return True

    def forwarded(self, f: FuncCtx, values: list[ast.expr]) -> tuple[str, ...]:
        """The parameters of `f` (not `self`/`cls`) the values read, directly or through a
        local assigned from them (not from a call: a query's rows are its own evidence)."""
        out: set[str] = set()
        for name in free_names(values):
            bound = f.assigns.get(name)
            follow = bound is not None and not isinstance(bound, (ast.Call, ast.Await))
            for n in {name, *free_names([bound])} if follow and bound else {name}:
                if n in f.params and n not in ("self", "cls"):
                    out.add(n)
        return tuple(sorted(out))


def free_names(values: list[ast.expr]) -> set[str]:
    """The variables the expressions read (heads of attribute chains; no models, keywords)."""
    out: set[str] = set()
    for value in values:
        for n in walk(value):
            if isinstance(n, (ast.Lambda, ast.ListComp, ast.GeneratorExp)):
                return {"<scope>"}  # names bound inside: not worth resolving
            if isinstance(n, ast.Name) and not CAMEL.match(n.id):
                out.add(n.id)
    return out


def value_chains(values: list[ast.expr], imported: set[str]) -> set[str]:
    """The outermost `a.b.c` chains the values read, models and imported names aside
    (`Group.id.in_(self.current_user.group_ids)` → {"self.current_user.group_ids"})."""
    out: set[str] = set()
    inside: set[int] = set()
    for value in values:
        for n in walk(value):
            if id(n) in inside or not isinstance(n, (ast.Name, ast.Attribute)):
                continue
            chain = dotted(n)
            if chain is None:
                continue
            inside.update(id(m) for m in walk(n))
            head = chain.split(".")[0]
            if not CAMEL.match(head) and head not in imported and head not in BUILTINS:
                out.add(chain)
    return out
