"""Python code → code facts: ORM queries (SQLAlchemy, Django), raw SQL, RLS-wrapper scopes,
HTTP handlers (FastAPI, Flask, Django, DRF), request-derived tenant ids, ORM clients, tenancy
flags and default-tenant fallbacks.

One libcst visitor walks each module once. Facts record evidence only (which keys a filter
constrains, which configured names appear); the rules decide with the tenancy map.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from tenantlint.config import Config
from tenantlint.facts import (
    ClientSite,
    FlagRead,
    Handler,
    Loc,
    Predicate,
    QuerySite,
    RawSqlSite,
    RequestTenant,
    SettingWrite,
    SqlStatement,
    TenantFallback,
)
from tenantlint.frontends.py_strings import SqlText, evaluate
from tenantlint.frontends.py_util import (
    Imports,
    Locator,
    Visitor,
    dotted,
    is_true,
    kwarg,
    last_name,
    literal_str,
    literal_strs,
    positional,
    walk,
)

_CAMEL = re.compile(r"^_?[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
_SA_BUILDERS = {"select": "read", "update": "update", "delete": "delete", "insert": "create"}
_SA_FILTERS = ("filter", "where", "filter_by", "get")
_DJ_CREATE = ("create", "get_or_create", "update_or_create", "bulk_create")
_DJ_FILTER = ("filter", "get", "get_or_create", "update_or_create", "first", "last")
_FILTER_STEPS = {*_SA_FILTERS, "having", *_DJ_FILTER, "exclude"}
_BUILTINS = {*dir(builtins), "cls"}
_DJ_SHORTCUTS = ("get_object_or_404", "get_list_or_404")
_DJ_SUFFIX = re.compile(r"__(exact|iexact|in)$")
_EXECUTE = ("execute", "executemany", "exec_driver_sql", "executescript")
_DB_RECEIVER = re.compile(r"(^|_)(cursor|cur|conn|connection|session|db|engine|tx|txn|c)$", re.I)
_HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_DRF_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")
_ROUTE_DECOS = (*_HTTP_METHODS, "route", "api_route", "websocket")
_REQUEST_SOURCES = (
    "json",
    "get_json",
    "args",
    "form",
    "values",
    "GET",
    "POST",
    "data",
    "query_params",
    "path_params",
    "view_args",
    "headers",
    "cookies",
    "match_info",
)
_TAINT_METHODS = ("get", "getlist", "pop", "strip", "lower")
_CONVERSIONS = ("int", "str", "UUID", "uuid.UUID", "float")
_OWN_ROWS = "the authenticated user's own rows"
_USER = re.compile(r"^(self\.)?(request\.user|current_user)(\.|$)")
_CAPABILITY = re.compile(r"(?i)token|secret|hash$")
_PERMISSION = re.compile(r"permission|authori[sz]|require_|check_access|has_access|can_", re.I)
_CLIENTS = (
    "sessionmaker",
    "async_sessionmaker",
    "scoped_session",
    "Session",
    "AsyncSession",
    "SQLAlchemy",
)


@dataclass
class FuncCtx:
    name: str
    node: cst.FunctionDef
    params: set[str]
    cls: ClassCtx | None = None
    rls: bool = False
    in_transaction: bool = False
    handler: Handler | None = None
    path_params: set[str] = field(default_factory=set)
    assigns: dict[str, cst.BaseExpression] = field(default_factory=dict)
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


@dataclass
class ClassCtx:
    name: str
    bases: list[str]
    names: set[str] = field(default_factory=set)
    view: bool = False
    has_get_queryset: bool = False


class CodeVisitor(Visitor):
    """Collects the code facts of one module; call `run()`."""

    def __init__(
        self, path: str, module: cst.Module, imports: Imports, locator: Locator, config: Config
    ) -> None:
        super().__init__()
        self.path = path
        self.module = module
        self.imports = imports
        self.locator = locator
        self.cfg = config
        self.tenant_fields = set(config.tenant_fields)
        self.stmt: cst.CSTNode = module
        self.funcs: list[FuncCtx] = []
        self.classes: list[ClassCtx] = []
        self.done_funcs: list[FuncCtx] = []
        self.consumed: set[int] = set()
        self.with_items: set[int] = set()
        self.nested_querysets: set[int] = set()  # `Prefetch(…, M.objects…)`, `queryset=M.objects…`
        self.anchor: cst.Call | None = None  # the query being read: sinks are located after it
        self.loose: set[int] = set()
        self.rls_depth = 0
        self.txn_depth = 0
        self.rls_callbacks: set[str] = set()
        self.constants: dict[str, cst.BaseExpression] = {}
        self.guard_args: set[str] = set()  # names a configured guard is applied to
        self.guarded_calls: set[int] = set()  # calls nested in a guard call's arguments
        self.client_sites: list[tuple[ClientSite, set[str]]] = []
        self.module_names: set[str] = set()
        self.before_request = False
        self.is_views_module = "views" in path.rsplit("/", 2)[-2:][0] or path.endswith("views.py")
        self.django = imports.mentions("django", "rest_framework")
        self.fastapi = imports.mentions("fastapi", "starlette")
        self.flask = imports.mentions("flask", "flask_restful", "flask_smorest")
        # outputs
        self.queries: list[QuerySite] = []
        self.raw_sql: list[RawSqlSite] = []
        self.settings: list[SettingWrite] = []
        self.handlers: list[Handler] = []
        self.request_tenants: list[RequestTenant] = []
        self.flags: list[FlagRead] = []
        self.fallbacks: list[TenantFallback] = []
        self.guard_defined = False

    # --- driver ------------------------------------------------------------------------------

    def run(self) -> None:
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        t = small.targets[0].target
                        if isinstance(t, cst.Name):
                            self.constants[t.value] = small.value
        for stmt in self.module.body:
            self.stmt = stmt
            self.walk_tree(stmt)
        self._finish()

    def loc(self, node: cst.CSTNode, first_line: str | None = None) -> Loc:
        return self.locator.loc(node, self.stmt, first_line)

    @property
    def func(self) -> FuncCtx | None:
        return self.funcs[-1] if self.funcs else None

    # --- scopes ------------------------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = [dotted(a.value) or "" for a in node.bases]
        methods = {
            s.name.value
            for s in (node.body.body if isinstance(node.body, cst.IndentedBlock) else [])
            if isinstance(s, cst.FunctionDef)
        }
        short = [b.rsplit(".", 1)[-1] for b in bases]
        view = any(
            b.endswith(("View", "ViewSet", "APIView", "Resource", "MethodView")) for b in short
        )
        self.classes.append(
            ClassCtx(node.name.value, bases, set(short), view, "get_queryset" in methods)
        )

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        ps = node.params
        star = [p for p in (ps.star_arg, ps.star_kwarg) if isinstance(p, cst.Param)]
        params = {p.name.value for p in (*ps.params, *ps.posonly_params, *ps.kwonly_params, *star)}
        cls = self.classes[-1] if self.classes and not self.funcs else None
        name = f"{cls.name}.{node.name.value}" if cls else node.name.value
        ctx = FuncCtx(name=name, node=node, params=params, cls=cls)
        parent = self.func
        ctx.rls = (parent.rls if parent else False) or node.name.value in self.cfg.rls_wrappers
        ctx.in_transaction = parent.in_transaction if parent else False
        for deco in node.decorators:
            d = deco.decorator
            target = d.func if isinstance(d, cst.Call) else d
            short = last_name(target) or ""
            if short in self.cfg.rls_wrappers:
                ctx.rls = True
            if short == "atomic":
                ctx.in_transaction = True
            if short == "before_request":
                self.before_request = True
        if node.name.value in self.cfg.guards:
            self.guard_defined = True
        ctx.handler = self._handler(node, ctx, cls)
        self.funcs.append(ctx)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        ctx = self.funcs.pop()
        self._check_then_act(ctx)
        self.done_funcs.append(ctx)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            call = item.item
            self.with_items.add(id(call))
            target = call.func if isinstance(call, cst.Call) else call
            short = last_name(target) or ""
            if short in self.cfg.rls_wrappers:
                self.rls_depth += 1
                if isinstance(call, cst.Call):
                    self._wrapper_args(call)
            if short in ("begin", "atomic", "begin_nested", "transaction"):
                self.txn_depth += 1

    def leave_With(self, original_node: cst.With) -> None:
        for item in original_node.items:
            call = item.item
            short = last_name(call.func if isinstance(call, cst.Call) else call) or ""
            if short in self.cfg.rls_wrappers:
                self.rls_depth -= 1
            if short in ("begin", "atomic", "begin_nested", "transaction"):
                self.txn_depth -= 1

    def _in_rls(self) -> bool:
        f = self.func
        return self.rls_depth > 0 or (f is not None and f.rls)

    # --- names, assignments, conditions ------------------------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        self._seen(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._seen(node.attr.value)

    def _seen(self, name: str) -> None:
        if self.funcs:
            self.funcs[-1].names.add(name)
        elif self.classes:
            self.classes[-1].names.add(name)
        else:
            self.module_names.add(name)

    def visit_Assign(self, node: cst.Assign) -> None:
        f = self.func
        for t in node.targets:
            target = t.target
            if isinstance(target, cst.Name):
                if f is not None:
                    f.assigns[target.value] = node.value
                    src = self._taint(node.value)
                    if src:
                        f.tainted[target.value] = src
                elif self.classes and target.value == "queryset":
                    self._drf_queryset(node.value)
                self._fallback(target.value, node.value)
            elif isinstance(target, cst.Attribute) and f is not None:
                owner = dotted(target.value)
                if owner:
                    f.attr_sets.setdefault(owner, set()).add(target.attr.value)
            elif isinstance(target, (cst.Tuple, cst.List)) and f is not None:
                for el in target.elements:
                    if isinstance(el.value, cst.Name):
                        f.assigns.pop(el.value.value, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            if self.func is not None:
                self.func.assigns[node.target.value] = node.value
            self._fallback(node.target.value, node.value)
            if self.classes and not self.funcs and node.target.value in self.cfg.tenancy_flags:
                self.flags.append(
                    FlagRead(
                        loc=self.loc(node),
                        flag=node.target.value,
                        problem="settings field with a default value",
                    )
                )

    def visit_Return(self, node: cst.Return) -> None:
        f = self.func
        if f is not None and node.value is not None and _tenantish(f.name, self.tenant_fields):
            self._fallback(f.name.rsplit(".", 1)[-1], node.value)

    def visit_If(self, node: cst.If) -> None:
        self._bool_context(node.test)
        self._authorise(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._bool_context(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._bool_context(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._authorise(node.test)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        self._bool_context(node.left)
        self._bool_context(node.right)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._bool_context(node.expression)

    def _bool_context(self, expr: cst.BaseExpression) -> None:
        if (isinstance(expr, cst.Call) and self._flag_name(expr) is not None) or (
            isinstance(expr, cst.Subscript) and self._environ_subscript(expr) is not None
        ):
            self.loose.add(id(expr))

    def _authorise(self, test: cst.BaseExpression) -> None:
        """`if row.tenant_id != tenant: raise` — the function checks `row`'s tenant."""
        f = self.func
        if f is None:
            return
        for n in walk(test):
            if isinstance(n, cst.Attribute) and n.attr.value in self.tenant_fields:
                owner = dotted(n.value)
                if owner:
                    f.guard_names.add(owner)
            elif isinstance(n, cst.Attribute) and _CAPABILITY.search(n.attr.value):
                f.capability = True  # `if invite.token != token`: the request holds a capability

    # --- calls -------------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        f = self.func
        name = last_name(node.func) or ""
        for a in node.args:
            if isinstance(a.value, cst.Call) and (
                name == "Prefetch" or (a.keyword is not None and a.keyword.value == "queryset")
            ):
                self.nested_querysets.add(id(a.value))
        if f is not None:
            if isinstance(node.func, cst.Name) or (
                isinstance(node.func, cst.Attribute) and dotted(node.func.value) in ("self", "cls")
            ):
                f.calls.add(name)
            if _PERMISSION.search(name):
                f.guard_names.update(dotted(a.value) or "" for a in node.args)
        if name in self.cfg.guards:
            self.guard_defined = True
            self.guard_args.update(d for a in node.args if (d := dotted(a.value)) is not None)
            self.guarded_calls.update(id(n) for a in node.args for n in walk(a.value))
        if name in self.cfg.rls_wrappers and id(node) not in self.with_items:
            self._wrapper_args(node)
            for a in node.args:
                if isinstance(a.value, cst.Name):
                    self.rls_callbacks.add(a.value.value)
            if any(isinstance(a.value, cst.Lambda) for a in node.args):
                self.rls_depth += 1
                self.consumed.add(-id(node))
        if name in _CLIENTS:
            self._client(node, name)
        if name == "bool" and node.args:
            self._bool_context(node.args[0].value)
        flag = self._flag_name(node)
        if flag is not None:
            self._flag(node, flag)
        if id(node) in self.consumed:
            return
        if self._query(node) or self._raw(node) or self._constructor_save(node):
            return

    def leave_Call(self, original_node: cst.Call) -> None:
        if -id(original_node) in self.consumed:
            self.rls_depth -= 1

    def visit_Subscript(self, node: cst.Subscript) -> None:
        flag = self._environ_subscript(node)
        if flag is not None:
            problem = "read with loose truthiness" if id(node) in self.loose else None
            self.flags.append(FlagRead(loc=self.loc(node), flag=flag, problem=problem))

    # --- ORM queries -------------------------------------------------------------------------

    def _query(self, call: cst.Call) -> bool:
        self.anchor = call
        root, steps = _unroll(call)
        if not steps and isinstance(root, cst.Call):
            steps = []
        model: str | None = None
        action = "read"
        filters: list[tuple[str, cst.Call]] = []
        if isinstance(call.func, cst.Name) and call.func.value in _DJ_SHORTCUTS:
            args = positional(call)
            if self.imports.is_from(call.func, "django", "rest_framework") and args:
                model = _model_ref(args[0]) if isinstance(args[0], cst.Name) else None
                if model is not None:
                    lookup = self._kw_predicate(call, model)
                    self._site(call, "django", model, call.func.value, "read", lookup, None, [])
                    return True
            return False
        # Django: M.objects.<chain>
        if isinstance(root, cst.Attribute) and steps and self.django:
            owner, mgr = last_name(root.value) or "", root.attr.value
            if _CAMEL.match(owner) and (mgr.endswith("objects") or mgr in self.cfg.scope_helpers):
                return self._django_chain(call, owner, mgr, steps)
        # Flask-SQLAlchemy: M.query.<chain>
        if isinstance(root, cst.Attribute) and root.attr.value == "query" and steps:
            owner = last_name(root.value) or ""
            if owner == "cls" and self.classes:
                owner = self.classes[-1].name
            if _CAMEL.match(owner):
                model, filters = owner, steps
        if model is None:
            for i, (meth, c) in enumerate(steps):
                args = positional(c)
                if meth == "query" and args and _model_ref(args[0]):
                    model, filters = _model_ref(args[0]), steps[i + 1 :]
                    break
                receiver = last_name(c.func.value) if isinstance(c.func, cst.Attribute) else None
                if (
                    meth == "get"
                    and len(args) == 2
                    and _model_ref(args[0])
                    and i == len(steps) - 1
                    and _DB_RECEIVER.search(receiver or "")
                ):
                    get = Predicate(keys=("id",))
                    self._site(
                        call, "sqlalchemy", _model_ref(args[0]) or "", "get", "read", get, None, []
                    )
                    self._consume(steps)
                    return True
        if model is None and isinstance(root, cst.Call) and isinstance(root.func, cst.Name):
            kind = root.func.value
            if kind in _SA_BUILDERS and self.imports.is_from(root.func, "sqlalchemy", "sqlmodel"):
                args = positional(root)
                ref = _model_ref(args[0]) if args else None
                if ref is None:
                    return False
                model, filters, action = ref, steps, _SA_BUILDERS[kind]
                self.consumed.add(id(root))
        if model is None:
            return False
        self._consume(steps)
        ops = [m for m, _ in filters]
        if "update" in ops and action == "read":
            action = "update"
        elif "delete" in ops and action == "read":
            action = "delete"
        where = self._sa_where(filters, model)
        data = None
        if action == "create":
            values = [c for m, c in filters if m == "values"]
            data = self._kw_predicate(values[0], model) if values else Predicate(unknown=True)
            where = None
        op = ops[-1] if ops else "query"
        self._site(call, "sqlalchemy", model, op, action, where, data, filters)
        return True

    def _consume(self, steps: list[tuple[str, cst.Call]]) -> None:
        self.consumed.update(id(c) for _, c in steps)

    def _sa_where(self, steps: list[tuple[str, cst.Call]], model: str) -> Predicate | None:
        keys: set[str] = set()
        helpers: set[str] = set()
        unknown = False
        seen = False
        for meth, c in steps:
            if meth in self.cfg.scope_helpers:
                helpers.add(meth)
                seen = True
            elif meth == "filter_by":
                seen = True
                p = self._kw_predicate(c, model)
                keys.update(p.keys)
                unknown = unknown or p.unknown
            elif meth in ("filter", "where", "having"):
                seen = True
                for a in c.args:
                    k, h, u = self._sa_expr(a.value, model, star=bool(a.star))
                    keys |= k
                    helpers |= h
                    unknown = unknown or u
            elif meth == "get":
                seen = True
                keys.add("id")
            elif meth == "options":
                if any(
                    last_name(n.func) == "with_loader_criteria"
                    for n in walk(c)
                    if isinstance(n, cst.Call)
                ):
                    helpers.add("with_loader_criteria")
                    seen = True
            else:
                for n in walk(c):
                    if isinstance(n, cst.Call) and last_name(n.func) in self.cfg.scope_helpers:
                        helpers.add(last_name(n.func) or "")
                        seen = True
        if not seen:
            return None
        return Predicate(keys=tuple(sorted(keys)), helpers=tuple(sorted(helpers)), unknown=unknown)

    def _sa_expr(
        self, e: cst.BaseExpression, model: str, star: bool = False
    ) -> tuple[set[str], set[str], bool]:
        """(keys, helpers, unknown) of one SQLAlchemy criterion."""
        if star or isinstance(e, cst.Name):
            return set(), set(), True
        if isinstance(e, cst.Comparison):
            keys: set[str] = set()
            for side in (e.left, *(t.comparator for t in e.comparisons)):
                k = self._column_key(side, model)
                if k:
                    keys.add(k)
                    self._sink(
                        e, k, [t.comparator for t in e.comparisons] + [e.left], "where-clause"
                    )
            return keys, set(), False
        if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, (cst.BitAnd, cst.BitOr)):
            lk, lh, lu = self._sa_expr(e.left, model)
            rk, rh, ru = self._sa_expr(e.right, model)
            if isinstance(e.operator, cst.BitOr):
                return lk & rk, lh & rh, lu or ru
            return lk | rk, lh | rh, lu or ru
        if isinstance(e, cst.Call):
            fname = last_name(e.func) or ""
            if fname in self.cfg.scope_helpers:
                return set(), {fname}, False
            if fname in ("and_", "or_"):
                parts = [self._sa_expr(a.value, model, bool(a.star)) for a in e.args]
                if not parts:
                    return set(), set(), False
                if fname == "and_":
                    return (
                        set().union(*(p[0] for p in parts)),
                        set().union(*(p[1] for p in parts)),
                        any(p[2] for p in parts),
                    )
                ks, hs = parts[0][0], parts[0][1]
                for p in parts[1:]:
                    ks, hs = ks & p[0], hs & p[1]
                return ks, hs, any(p[2] for p in parts)
            if isinstance(e.func, cst.Attribute) and fname in (
                "in_",
                "is_",
                "like",
                "ilike",
                "any",
                "has",
                "contains",
            ):
                k = self._column_key(e.func.value, model)
                if k and fname in ("in_", "is_"):
                    return {k}, set(), False
                return set(), set(), False
            if fname == "text":
                return set(), set(), True
            return set(), set(), True
        return set(), set(), False

    def _column_key(self, node: cst.BaseExpression, model: str) -> str | None:
        d = dotted(node)
        if d is None or "." not in d:
            return None
        owner, _, col = d.rpartition(".")
        owner_short = owner.rsplit(".", 1)[-1]
        if owner_short in (model, "cls"):
            return col
        if _CAMEL.match(owner_short) or owner_short.endswith("_alias"):
            return f"{owner_short}.{col}"
        return None

    def _kw_predicate(self, call: cst.Call, model: str, sink: str = "where-clause") -> Predicate:
        keys: set[str] = set()
        unknown = False
        for a in call.args:
            if a.keyword is not None:
                key = _DJ_SUFFIX.sub("", a.keyword.value)
                keys.add(key)
                self._sink(a.value, key, [a.value], sink)
            elif a.star == "**" and isinstance(a.value, cst.Dict):
                for el in a.value.elements:
                    k = literal_str(el.key) if isinstance(el, cst.DictElement) else None
                    if k:
                        keys.add(k)
                    else:
                        unknown = True
            elif isinstance(a.value, cst.Dict):
                for el in a.value.elements:
                    k = (
                        literal_str(el.key)
                        if isinstance(el, cst.DictElement)
                        else last_name(getattr(el, "key", None))
                    )
                    if k:
                        keys.add(k.rsplit(".", 1)[-1])
                    else:
                        unknown = True
            elif a.star or isinstance(a.value, cst.Name):
                unknown = True
            elif isinstance(a.value, (cst.Call, cst.BinaryOperation)):
                qkeys, _, u = self._q_expr(a.value)
                keys |= qkeys
                unknown = unknown or u
        return Predicate(keys=tuple(sorted(keys)), unknown=unknown)

    def _q_expr(self, e: cst.BaseExpression) -> tuple[set[str], set[str], bool]:
        """Keys of Django `Q(...)` objects combined with `&` / `|`."""
        if isinstance(e, cst.Call) and last_name(e.func) == "Q":
            return (
                {_DJ_SUFFIX.sub("", a.keyword.value) for a in e.args if a.keyword},
                set(),
                any(a.star for a in e.args),
            )
        if isinstance(e, cst.Call) and last_name(e.func) in self.cfg.scope_helpers:
            return set(), {last_name(e.func) or ""}, False
        if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, (cst.BitAnd, cst.BitOr)):
            lk, lh, lu = self._q_expr(e.left)
            rk, rh, ru = self._q_expr(e.right)
            if isinstance(e.operator, cst.BitOr):
                return lk & rk, lh & rh, lu or ru
            return lk | rk, lh | rh, lu or ru
        return set(), set(), True

    def _django_chain(
        self, call: cst.Call, model: str, mgr: str, steps: list[tuple[str, cst.Call]]
    ) -> bool:
        self._consume(steps)
        ops = [m for m, _ in steps]
        if {"none", "bulk_update"} & set(ops):  # no rows read / instances already loaded
            return True
        if "raw" in ops:
            raw_call = steps[ops.index("raw")][1]
            args = positional(raw_call)
            if args:
                self._raw_site(raw_call, f"{model}.objects.raw", args[0])
            return True
        keys: set[str] = set()
        helpers: set[str] = {mgr} if mgr in self.cfg.scope_helpers else set()
        unknown = False
        filtered = bool(helpers)
        data: Predicate | None = None
        for meth, c in steps:
            if meth in self.cfg.scope_helpers:
                helpers.add(meth)
                filtered = True
            elif meth in _DJ_FILTER:
                if c.args:
                    filtered = True
                p = self._kw_predicate(c, model)
                keys.update(k for k in p.keys if k != "defaults")
                unknown = unknown or p.unknown
            elif meth == "extra":
                extra_where = kwarg(c, "where")
                if extra_where is not None:
                    self._raw_site(c, "extra", extra_where)
        action = "read"
        op = ops[-1]
        for meth, c in steps:
            if meth in _DJ_CREATE:
                action = "upsert" if meth in ("get_or_create", "update_or_create") else "create"
                op = meth
                data = self._create_data(c, model, meth)
            elif meth in ("update", "delete") and action == "read":
                action, op = meth, meth
        where = (
            Predicate(keys=tuple(sorted(keys)), helpers=tuple(sorted(helpers)), unknown=unknown)
            if filtered
            else None
        )
        if action == "create":
            where = None
        self._site(call, "django", model, op, action, where, data, steps)
        return True

    def _create_data(self, c: cst.Call, model: str, meth: str) -> Predicate:
        if meth == "bulk_create":
            args = positional(c)
            items = [e.value for e in getattr(args[0], "elements", [])] if args else []
            preds = [
                self._kw_predicate(i, model, "create data")
                for i in items
                if isinstance(i, cst.Call)
            ]
            if not preds or len(preds) != len(items):
                return Predicate(unknown=True)
            common = set(preds[0].keys).intersection(*(p.keys for p in preds[1:]))
            return Predicate(keys=tuple(sorted(common)), unknown=any(p.unknown for p in preds))
        p = self._kw_predicate(c, model, "create data")
        keys = set(p.keys) - {"defaults"}
        defaults = kwarg(c, "defaults")
        if isinstance(defaults, cst.Dict):
            keys |= {k for el in defaults.elements if (k := literal_str(getattr(el, "key", None)))}
        elif defaults is not None:
            return Predicate(keys=tuple(sorted(keys)), unknown=True)
        return Predicate(keys=tuple(sorted(keys)), unknown=p.unknown)

    def _drf_queryset(self, value: cst.BaseExpression) -> None:
        """`queryset = M.objects…` on a view class: the site, guarded when `get_queryset` overrides it."""
        if not isinstance(value, cst.Call):
            return
        before = len(self.queries)
        self._query(value)
        self.consumed.update(id(n) for n in walk(value) if isinstance(n, cst.Call))
        cls = self.classes[-1]
        if cls.has_get_queryset:
            self.queries[before:] = [
                q.model_copy(update={"guarded_by": "get_queryset override"})
                for q in self.queries[before:]
            ]

    def _constructor_save(self, call: cst.Call) -> bool:
        """`session.add(M(...))`, `obj = M(...); session.add(obj)` / `obj.save()` → a create site."""
        f = self.func
        if not isinstance(call.func, cst.Attribute):
            return False
        meth = call.func.attr.value
        targets: list[tuple[cst.Call, str | None]] = []
        if meth in ("add", "add_all") and _DB_RECEIVER.search(last_name(call.func.value) or ""):
            args = positional(call)
            values = (
                [e.value for e in getattr(args[0], "elements", [])]
                if args and meth == "add_all"
                else args[:1]
            )
            for v in values:
                bound = f.assigns.get(v.value) if isinstance(v, cst.Name) and f else None
                if isinstance(v, cst.Call):
                    targets.append((v, None))
                elif isinstance(bound, cst.Call) and isinstance(v, cst.Name):
                    targets.append((bound, v.value))
        elif (
            meth == "save"
            and not call.args
            and isinstance(call.func.value, cst.Name)
            and f is not None
        ):
            saved = call.func.value.value
            bound = f.assigns.get(saved)
            if isinstance(bound, cst.Call):
                targets.append((bound, saved))
        found = False
        for ctor, var in targets:
            ctor_model = last_name(ctor.func)
            if not _CAMEL.match(ctor_model or ""):  # a class called, not `M.objects.get(…)`
                continue
            if ctor_model is None or id(ctor) in self.consumed:
                continue
            self.consumed.add(id(ctor))
            self.anchor = ctor
            data = self._kw_predicate(ctor, ctor_model, "create data")
            extra = f.attr_sets.get(var, set()) if f is not None and var else set()
            data = data.model_copy(update={"keys": tuple(sorted(set(data.keys) | extra))})
            orm = "django" if meth == "save" else "sqlalchemy"
            self._site(
                ctor, orm, ctor_model, "save" if meth == "save" else "add", "create", None, data, []
            )
            found = True
        return found

    def _site(
        self,
        call: cst.Call,
        orm: str,
        model: str,
        op: str,
        action: str,
        where: Predicate | None,
        data: Predicate | None,
        steps: list[tuple[str, cst.Call]],
    ) -> None:
        f = self.func
        pass_through = False
        if f is not None and where is not None and where.unknown:
            pass_through = any(
                isinstance(n, cst.Name) and n.value in f.params and n.value not in ("self", "cls")
                for _, c in steps
                for a in c.args
                for n in walk(a.value)
            )
        values = [a.value for m, c in steps if m in _FILTER_STEPS for a in c.args]
        if not steps and where is not None:  # `get_object_or_404(M, pk=pk)`
            values = [a.value for a in call.args[1:]]
        if f is not None and where is not None and not where.unknown and f.handler is None:
            pass_through = self._from_params(f, values)
        site = QuerySite(
            loc=self.loc(call),
            orm=orm,
            model=model,
            operation=op,
            action=action,
            where=where,
            data=data,
            rls_scoped=self._in_rls(),
            guarded_by=self._derived(call, steps),
            pass_through=pass_through,
            function=f.name if f else None,
        )
        if f is not None:
            if where is not None and any(_CAPABILITY.search(k) for k in where.keys):
                f.capability = True  # looked up by an unguessable token (PRECISION 3)
            if where is not None and self._has_tenant_key(where.keys):
                chains = _value_chains(values, set(self.imports.names))
                f.membership = f.membership or any(_USER.match(c) for c in chains)
            f.sites.append(site)
            f.site_values.append(_free_names(values) - set(self.imports.names) - _BUILTINS)
        self.queries.append(site)

    def _derived(self, call: cst.Call, steps: list[tuple[str, cst.Call]]) -> str | None:
        """Rows selected through rows already scoped: a Django `Prefetch`/`queryset=` of a
        parent query, a subquery correlated with `OuterRef`, or (PRECISION 1 through a
        relation) an object this function obtained with tenant evidence
        (`group = get_by_id_and_org(id, current_org)`)."""
        if id(call) in self.nested_querysets:
            return "prefetch of a parent query"
        filter_values = [a.value for m, c in steps if m in _FILTER_STEPS for a in c.args]
        heads = _value_chains(filter_values, set(self.imports.names))
        if heads and all(".instance." in h or h.endswith(".instance") for h in heads):
            return "re-read of the instance just saved"
        if any(_USER.match(h) for h in heads):  # filters are ANDed: the user's rows only
            return _OWN_ROWS
        if any(
            isinstance(a.value, cst.Call) and last_name(a.value.func) == "OuterRef"
            for _, c in steps
            for a in c.args
        ):
            return "correlated subquery"
        f = self.func
        if f is None:
            return None
        evidence = set(self.cfg.tenant_resolvers) | set(self.cfg.scope_helpers)
        for _, c in steps:
            for a in c.args:
                for n in walk(a.value):
                    bound = f.assigns.get(n.value) if isinstance(n, cst.Name) else None
                    if bound is not None and any(
                        isinstance(m, cst.Name)
                        and (m.value in evidence or m.value.split("__")[0] in self.tenant_fields)
                        for m in walk(bound)
                    ):
                        return "scoped-parent"
        return None

    def _from_params(self, f: FuncCtx, values: list[cst.BaseExpression]) -> bool:
        """PRECISION 5, for values: a model-layer function (not a handler) whose filter uses only
        what its caller passed in (`get_by_id(cls, _id)`, `… == self`): scoped at the call sites."""
        free = _free_names(values) - set(self.imports.names) - (_BUILTINS - f.params)
        if not free:
            return False
        for name in free:
            bound = f.assigns.get(name)
            if name in f.params:
                continue
            extra = _free_names([bound]) - set(self.imports.names) if bound is not None else {name}
            if not extra or not extra <= f.params:
                return False
        return True

    def _check_then_act(self, ctx: FuncCtx) -> None:
        """PRECISION 1 and 2: a by-id access to a row the function already found with tenant
        evidence (`task = …filter(tenant_id=…)…; …filter(id=task.id).update()`), or a read whose
        row has its tenant column compared / is passed to a permission check."""
        proven: dict[str, set[str]] = {}  # model → variables holding a row found with evidence
        proven_ids: set[str] = set()  # variables a query constrained together with the tenant
        checked = {s.model for var in ctx.guard_names for s in self._held(ctx, var.split(".")[0])}
        for site, values in zip(ctx.sites, ctx.site_values, strict=True):
            guard = None
            evidence = site.where is not None and (
                site.where.helpers or self._has_tenant_key(site.where.keys)
            )
            by_id = site.where is not None and set(site.where.keys or ("?",)) <= {"id", "pk"}
            if (
                by_id
                and not evidence
                and any(
                    re.search(rf"\b{re.escape(v)}\b", site.loc.snippet)
                    for v in proven.get(site.model, ())
                )
            ):
                guard = "check-then-act"
            elif not evidence and values and values <= proven_ids:
                guard = "check-then-act"  # `…get(pk=project_id, workspace__slug=slug)` proved it
            elif site.model in checked and site.action == "read" and not evidence:
                guard = "fetch-then-authorise"
            if evidence:
                proven_ids |= values
                holders = {v for v in ctx.assigns if site in self._held(ctx, v)}
                proven.setdefault(site.model, set()).update(holders)
            if guard:
                i = self.queries.index(site)
                self.queries[i] = site.model_copy(update={"guarded_by": guard})

    def _held(self, ctx: FuncCtx, var: str) -> list[QuerySite]:
        """The query sites whose result the function assigned to `var`."""
        bound = ctx.assigns.get(var)
        if bound is None:
            return []
        code = re.sub(r"\s+", " ", self.locator.code(bound))
        return [s for s in ctx.sites if s.loc.snippet and s.loc.snippet in code]

    def _has_tenant_key(self, keys: tuple[str, ...]) -> bool:
        return any(seg in self.tenant_fields for k in keys for seg in re.split(r"__|\.", k))

    # --- raw SQL -----------------------------------------------------------------------------

    def _raw(self, call: cst.Call) -> bool:
        func = call.func
        name = last_name(func) or ""
        if isinstance(func, cst.Attribute) and name in _EXECUTE:
            receiver = dotted(func.value) or last_name(func.value) or ""
            if receiver == "op" and self.imports.is_from(cst.Name("op"), "alembic"):
                return False
            args = positional(call)
            if not args:
                return False
            api = f"{receiver.rsplit('.', 1)[-1] or 'db'}.{name}"
            return self._raw_site(
                call, api, args[0], require_db=not _DB_RECEIVER.search(receiver.rsplit(".", 1)[-1])
            )
        if name == "text" and self.imports.is_from(func, "sqlalchemy", "sqlmodel"):
            args = positional(call)
            return bool(args) and self._raw_site(call, "text", args[0])
        if name == "RawSQL" and self.imports.is_from(func, "django"):
            args = positional(call)
            return bool(args) and self._raw_site(call, "RawSQL", args[0])
        if name == "SQL" and self.imports.is_from(func, "psycopg", "psycopg2"):
            args = positional(call)
            return bool(args) and self._raw_site(call, "sql.SQL", args[0])
        if name == "set_config" and (dotted(func) or "").endswith("func.set_config"):
            args = positional(call)
            setting = literal_str(args[0]) if args else None
            if setting:
                local = (
                    True
                    if len(args) > 2 and is_true(args[2])
                    else (None if len(args) < 3 else False)
                )
                self._setting(
                    SettingWrite(setting=setting.lower(), local=local, loc=self.loc(call))
                )
        return False

    def _resolve(self, name: str) -> cst.BaseExpression | str | None:
        f = self.func
        if f is not None and name in f.assigns:
            return f.assigns[name]
        return self.constants.get(name)

    def _raw_site(
        self,
        call: cst.Call,
        api: str,
        arg: cst.BaseExpression,
        require_db: bool = False,
    ) -> bool:
        expr = arg
        for _ in range(4):  # unwrap text(…).bindparams(…), names bound to text(…) / sql.SQL(…)
            if isinstance(expr, cst.Name):
                bound = self._resolve(expr.value)
                if isinstance(bound, cst.BaseExpression):
                    expr = bound
                    continue
                break
            if (
                isinstance(expr, cst.Call)
                and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value in ("bindparams", "columns", "params")
            ):
                expr = expr.func.value
                continue
            if (
                isinstance(expr, cst.Call)
                and last_name(expr.func) in ("text", "SQL")
                and positional(expr)
            ):
                self.consumed.add(id(expr))
                expr = positional(expr)[0]
                continue
            if (  # psycopg's `sql.SQL("… {}").format(sql.Identifier(t))` composes safely
                isinstance(expr, cst.Call)
                and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value == "format"
            ):
                inner = expr.func.value
                if (
                    isinstance(inner, cst.Call)
                    and last_name(inner.func) == "SQL"
                    and positional(inner)
                ):
                    self.consumed.add(id(inner))
                    expr = positional(inner)[0]
                    continue
            break
        if isinstance(expr, cst.Call) and (
            _model_ref_chain(expr)
            or last_name(expr.func) in ("select", "update", "delete", "insert")
        ):
            return False  # an ORM statement, reported as a query site
        text: SqlText | None = evaluate(expr, self._resolve)
        if text is None and require_db:
            return False
        f = self.func
        if f is not None:
            f.raw = True
        loc = self.loc(call)
        parsed = False
        statements: tuple[SqlStatement, ...] = ()
        if text is not None:
            from tenantlint.sqlanalysis import analyse_sql

            parsed, statements = analyse_sql(text.text)
            for st in statements:
                if f is not None:
                    f.tables.update(use.table for use in st.tables)
                for sw in st.settings_written:
                    self._setting(sw.model_copy(update={"loc": loc}))
        self.raw_sql.append(
            RawSqlSite(
                loc=loc,
                api=api,
                sql=text.text if text else None,
                parsed=parsed,
                statements=statements,
                injection=bool(text and text.dynamic),
                rls_scoped=self._in_rls(),
                pass_through=bool(
                    f is not None
                    and f.handler is None
                    and len(call.args) > 1
                    and self._from_params(f, [a.value for a in call.args[1:]])
                ),
                function=f.name if f else None,
            )
        )
        return True

    def _setting(self, sw: SettingWrite) -> None:
        f = self.func
        in_wrapper = self._in_rls() or (
            f is not None and f.name.rsplit(".", 1)[-1] in self.cfg.rls_wrappers
        )
        in_txn = True if (self.txn_depth > 0 or (f is not None and f.in_transaction)) else None
        self.settings.append(
            sw.model_copy(
                update={
                    "in_wrapper": in_wrapper,
                    "in_transaction": in_txn,
                    "function": f.name if f else None,
                }
            )
        )

    # --- handlers and tenant context ----------------------------------------------------------

    def _handler(self, node: cst.FunctionDef, ctx: FuncCtx, cls: ClassCtx | None) -> Handler | None:
        fname = node.name.value
        route: str | None = None
        methods: tuple[str, ...] = ()
        framework: str | None = None
        for deco in node.decorators:
            d = deco.decorator
            if not isinstance(d, cst.Call) or not isinstance(d.func, cst.Attribute):
                if last_name(d.func if isinstance(d, cst.Call) else d) == "api_view":
                    framework = "drf"
                continue
            meth = d.func.attr.value
            if meth not in _ROUTE_DECOS:
                if meth == "api_view" or last_name(d.func) == "api_view":
                    framework = "drf"
                continue
            args = positional(d)
            route = literal_str(args[0]) if args else literal_str(kwarg(d, "path"))
            if route is None and not (self.fastapi or self.flask):
                continue
            framework = "fastapi" if self.fastapi else "flask" if self.flask else "http"
            if meth in _HTTP_METHODS:
                methods = (meth.upper(),)
            else:
                m = kwarg(d, "methods")
                methods = tuple(s.upper() for s in (literal_strs(m) or []))
        if (
            cls is not None
            and cls.view
            and not self.funcs
            and (fname in _HTTP_METHODS or fname in _DRF_ACTIONS)
        ):
            framework = (
                "flask"
                if self.flask and not self.django
                else "drf"
                if self.imports.mentions("rest_framework")
                else "django"
            )
            methods = (fname.upper(),) if fname in _HTTP_METHODS else ()
        elif (
            framework is None
            and self.django
            and self.is_views_module
            and not self.funcs
            and cls is None
        ):
            params = [p.name.value for p in node.params.params]
            if params and params[0] == "request":
                framework = "django"
        if framework is None:
            return None
        if route:
            ctx.path_params = {p for p in re.findall(r"[{<](?:\w+:)?(\w+)[}>]", route)}
        elif framework in ("django", "drf"):
            ctx.path_params = {p.name.value for p in node.params.params} - {"self", "request"}
        return Handler(
            loc=self.loc(node, f"def {fname}"),
            framework=framework,
            name=ctx.name,
            route=route,
            methods=methods,
        )

    def _taint(self, expr: cst.BaseExpression) -> str | None:
        """The request source an expression reads the tenant id from, if any."""
        f = self.func
        if f is None or not (
            f.tainted
            or f.path_params
            or f.params & {"request", "req"}
            or (f.cls and f.cls.view)
            or (self.flask and f.handler is not None)  # Flask's request is a global
        ):
            return None
        return self._source(f, expr, expr)

    def _source(
        self, f: FuncCtx, node: cst.BaseExpression, whole: cst.BaseExpression
    ) -> str | None:
        """Follow the value itself (subscripts, `.get()`, conversions, `await`, `or`), not what
        it is passed to: `Serializer(data=request.data).data` is the serializer's output."""
        if isinstance(node, cst.Attribute) and node.attr.value in _REQUEST_SOURCES:
            owner = dotted(node.value) or ""
            if owner in ("request", "self.request", "req", "flask.request"):
                if node.attr.value in ("headers", "cookies") and self._trusted_header(whole):
                    return None
                return f"{owner}.{node.attr.value}"
        if isinstance(node, cst.Name):
            if node.value in f.tainted:
                return f.tainted[node.value]
            if node.value in f.path_params and node.value in self.tenant_fields:
                return "path parameter"
            return None
        inner: list[cst.BaseExpression] = []
        if isinstance(node, (cst.Subscript, cst.Attribute)):
            inner = [node.value]
        elif isinstance(node, cst.Await):
            inner = [node.expression]
        elif isinstance(node, (cst.BooleanOperation, cst.BinaryOperation)):
            inner = [node.left, node.right]
        elif isinstance(node, cst.IfExp):
            inner = [node.body, node.orelse]
        elif isinstance(node, cst.Call):
            name = last_name(node.func) or ""
            if isinstance(node.func, cst.Attribute) and name in _REQUEST_SOURCES:
                inner = [node.func]  # `request.json()`, `request.get_json()`
            elif isinstance(node.func, cst.Attribute) and name in _TAINT_METHODS:
                inner = [node.func.value]
            elif name in _CONVERSIONS and node.args:
                inner = [node.args[0].value]
        for part in inner:
            src = self._source(f, part, whole)
            if src:
                return src
        return None

    def _trusted_header(self, expr: cst.BaseExpression) -> bool:
        return any(
            (s := literal_str(n)) is not None and s in self.cfg.trusted_tenant_headers
            for n in walk(expr)
        )

    def _sink(
        self, node: cst.BaseExpression, key: str, values: list[cst.BaseExpression], sink: str
    ) -> None:
        if re.split(r"__|\.", key)[0] not in self.tenant_fields:
            return
        for v in values:
            src = self._taint(v)
            if src:
                if self.anchor is not None:
                    self.loc(self.anchor)  # moves the locator's cursor to the query
                self.request_tenants.append(RequestTenant(loc=self.loc(v), source=src, sink=sink))
                return

    def _wrapper_args(self, call: cst.Call) -> None:
        for a in call.args:
            src = self._taint(a.value)
            if src:
                self.request_tenants.append(
                    RequestTenant(
                        loc=self.loc(a.value), source=src, sink=f"{last_name(call.func)} argument"
                    )
                )

    # --- clients, flags, fallbacks ------------------------------------------------------------

    def _client(self, call: cst.Call, name: str) -> None:
        if not self.imports.is_from(call.func, "sqlalchemy", "sqlmodel", "flask_sqlalchemy"):
            return
        guarded = id(call) in self.guarded_calls
        site = ClientSite(loc=self.loc(call), kind=name, guarded=guarded)
        self.client_sites.append((site, set(_assign_targets(self.stmt, call))))

    def _flag_name(self, call: cst.Call) -> str | None:
        q = self.imports.qualify(call.func) or ""
        if q not in ("os.getenv", "os.environ.get", "os.environ.setdefault"):
            return None
        args = positional(call)
        flag = literal_str(args[0]) if args else None
        return flag if flag in self.cfg.tenancy_flags else None

    def _environ_subscript(self, node: cst.Subscript) -> str | None:
        if self.imports.qualify(node.value) != "os.environ" or len(node.slice) != 1:
            return None
        el = node.slice[0].slice
        key = literal_str(el.value) if isinstance(el, cst.Index) else None
        return key if key in self.cfg.tenancy_flags else None

    def _flag(self, call: cst.Call, flag: str) -> None:
        args = positional(call)
        problem = None
        if len(args) > 1 or kwarg(call, "default") is not None:
            default = args[1] if len(args) > 1 else kwarg(call, "default")
            problem = (
                f"read with a fallback default ({self.locator.code(default).strip()})"
                if default is not None
                else None
            )
        elif id(call) in self.loose:
            problem = "read with loose truthiness (any non-empty value, even 'false', enables it)"
        self.flags.append(FlagRead(loc=self.loc(call), flag=flag, problem=problem))

    def _fallback(self, target: str, value: cst.BaseExpression) -> None:
        """`tenant = x.get("tenant", "default")`, `tenant = t or DEFAULT_TENANT`, …"""
        tenantish = _tenantish(target, self.tenant_fields)
        for n in _fallback_candidates(value):
            default: cst.BaseExpression | None = None
            if (
                isinstance(n, cst.Call)
                and last_name(n.func) in ("get", "getattr", "getenv")
                and len(positional(n)) >= 2
            ):
                args = positional(n)
                key_arg = args[1] if last_name(n.func) == "getattr" else args[0]
                key = literal_str(key_arg) or ""
                if tenantish or _tenantish(key, self.tenant_fields):
                    default = (
                        args[2]
                        if last_name(n.func) == "getattr" and len(args) > 2
                        else (args[1] if last_name(n.func) != "getattr" else None)
                    )
            elif (
                isinstance(n, cst.BooleanOperation) and isinstance(n.operator, cst.Or) and tenantish
            ):
                default = n.right
            if default is not None and _default_value(default):
                self.fallbacks.append(
                    TenantFallback(
                        loc=self.loc(n),
                        description=f"falls back to {self.locator.code(default).strip()}",
                    )
                )
                return

    # --- finish ------------------------------------------------------------------------------

    def _finish(self) -> None:
        by_name = {f.name: f for f in self.done_funcs}
        short = {f.name.rsplit(".", 1)[-1]: f for f in self.done_funcs}
        if self.rls_callbacks:
            for i, q in enumerate(self.queries):
                if q.function and q.function.rsplit(".", 1)[-1] in self.rls_callbacks:
                    self.queries[i] = q.model_copy(update={"rls_scoped": True})
            for i, r in enumerate(self.raw_sql):
                if r.function and r.function.rsplit(".", 1)[-1] in self.rls_callbacks:
                    self.raw_sql[i] = r.model_copy(update={"rls_scoped": True})
        context_names = set(self.cfg.tenant_resolvers) | set(self.cfg.guards)
        module_context = (self.before_request and bool(self.module_names & context_names)) or any(
            f.name.rsplit(".", 1)[-1] in ("before_request",)
            for f in self.done_funcs
            if f.names & context_names
        )
        for f in self.done_funcs:
            if f.handler is None:
                continue
            models: set[str] = set()
            raw = False
            names: set[str] = set()
            membership = capability = False
            todo, seen = [f], {f.name}
            while todo:
                cur = todo.pop()
                models.update(s.model for s in cur.sites if s.guarded_by != _OWN_ROWS)
                models.update(cur.tables)
                raw = raw or cur.raw
                membership = membership or cur.membership
                capability = capability or cur.capability
                names |= cur.names
                for c in cur.calls:
                    callee = by_name.get(f"{f.cls.name}.{c}" if f.cls else c) or short.get(c)
                    if callee is not None and callee.name not in seen:
                        seen.add(callee.name)
                        todo.append(callee)
            if f.cls is not None:
                names |= f.cls.names
            ctx_hit = sorted(names & context_names)
            context = ctx_hit[0] if ctx_hit else ("before_request" if module_context else None)
            if context is None and membership:
                context = "membership check"  # a query on the tenant filtered by request.user
            if context is None and capability:
                context = "capability token"
            self.handlers.append(
                f.handler.model_copy(
                    update={
                        "tenant_context": context,
                        "models": tuple(sorted(models)),
                        "raw_sql": raw,
                    }
                )
            )

    def clients(self) -> list[ClientSite]:
        out = []
        for site, names in self.client_sites:
            if names & self.guard_args:
                site = site.model_copy(update={"guarded": True})
            out.append(site)
        return out


# --- helpers -----------------------------------------------------------------------------------


def _value_chains(values: list[cst.BaseExpression], imported: set[str]) -> set[str]:
    """The outermost `a.b.c` chains the values read, models and imported names aside
    (`Group.id.in_(self.current_user.group_ids)` → {"self.current_user.group_ids"})."""
    out: set[str] = set()
    inside: set[int] = set()
    for value in values:
        for n in walk(value):
            if id(n) in inside or not isinstance(n, (cst.Name, cst.Attribute)):
                continue
            chain = dotted(n)
            if chain is None:
                continue
            inside.update(id(m) for m in walk(n))
            head = chain.split(".")[0]
            if not _CAMEL.match(head) and head not in imported and head not in _BUILTINS:
                out.add(chain)
    return out


def _free_names(values: list[cst.BaseExpression]) -> set[str]:
    """The variables the expressions read (heads of attribute chains; no models, keywords)."""
    skip: set[int] = set()
    out: set[str] = set()
    for value in values:
        for n in walk(value):
            if isinstance(n, cst.Attribute):
                skip.add(id(n.attr))
            elif isinstance(n, cst.Arg) and n.keyword is not None:
                skip.add(id(n.keyword))
            elif isinstance(n, (cst.Lambda, cst.ListComp, cst.GeneratorExp)):
                return {"<scope>"}  # names bound inside: not worth resolving
            elif isinstance(n, cst.Name) and id(n) not in skip and not _CAMEL.match(n.value):
                out.add(n.value)
    return out


def _unroll(call: cst.Call) -> tuple[cst.BaseExpression, list[tuple[str, cst.Call]]]:
    """`a.b(x).c(y)` → (`a`, [("b", call), ("c", call)])."""
    steps: list[tuple[str, cst.Call]] = []
    node: cst.BaseExpression = call
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        steps.append((node.func.attr.value, node))
        node = node.func.value
    steps.reverse()
    return node, steps


def _model_ref(node: cst.BaseExpression) -> str | None:
    """`User`, `models.User` or `User.id` → `User` (a CamelCase class name), else None."""
    d = dotted(node)
    if d is None:
        return None
    parts = d.split(".")
    for p in reversed(parts):
        if _CAMEL.match(p):
            return p
    return None


def _model_ref_chain(call: cst.Call) -> bool:
    root, _ = _unroll(call)
    return isinstance(root, cst.Call) and last_name(root.func) in _SA_BUILDERS


def _tenantish(name: str, tenant_fields: set[str]) -> bool:
    low = name.lower()
    if "tenant" in low:
        return True
    stems = {re.sub(r"(_id|id)$", "", f.lower()).rstrip("_") for f in tenant_fields}
    return any(
        stem and (low == stem or low.startswith(stem + "_") or low == f"current_{stem}")
        for stem in stems
    )


def _fallback_candidates(value: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The value, and what it falls back to: `a.get(k, b.get(k2, d))`, `a or b or c`."""
    todo = [value]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, cst.Call) and len(node.args) >= 2:
            todo.append(node.args[-1].value)
        elif isinstance(node, cst.BooleanOperation):
            todo.extend((node.left, node.right))
        elif isinstance(node, cst.Await):
            todo.append(node.expression)


def _default_value(node: cst.BaseExpression) -> bool:
    """A concrete default tenant: a non-empty literal or a DEFAULT_* name."""
    s = literal_str(node)
    if s is not None:
        return s.lower() not in ("", "true", "false", "0", "1", "yes", "no", "on", "off", "none")
    if isinstance(node, cst.Integer):
        return node.value != "0"
    d = dotted(node) or ""
    return "default" in d.lower()


def _assign_targets(stmt: cst.CSTNode, call: cst.Call) -> list[str]:
    """Names a top-level `X = <call>` assigns (to tie a client to guard calls on it)."""
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if (
                isinstance(small, (cst.Assign, cst.AnnAssign))
                and small.value is not None
                and any(n is call for n in walk(small.value))
            ):
                targets = small.targets if isinstance(small, cst.Assign) else [small]
                return [d for t in targets if (d := dotted(t.target)) is not None]
    return []
