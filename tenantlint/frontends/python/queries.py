"""ORM queries: SQLAlchemy (`session.query(M)…`, `select(M).where(…)`, Flask-SQLAlchemy
`M.query…`, `session.get(M, id)`, `session.add(M(…))`) and Django (`M.objects…`,
`get_object_or_404`, `obj.save()`), each a `QuerySite` with the keys its filter or create data
constrains, and the precision patterns that make an id-only access safe (check-then-act,
fetch-then-authorise, rows derived from scoped rows)."""

from __future__ import annotations

import ast
import re

from tenantlint.facts import Predicate, QuerySite
from tenantlint.frontends.python.handlers import OWN_ROWS
from tenantlint.frontends.python.raw_sql import SA_BUILDERS, RawSql
from tenantlint.frontends.python.util import (
    Arg,
    arguments,
    dotted,
    kwarg,
    last_name,
    literal_str,
    names_in,
    positional,
    read_key,
    walk,
)
from tenantlint.frontends.python.walker import (
    BUILTINS,
    CAMEL,
    DB_RECEIVER,
    FuncCtx,
    free_names,
    value_chains,
)

_SA_FILTERS = ("filter", "where", "filter_by", "get")
_DJ_CREATE = ("create", "get_or_create", "update_or_create", "bulk_create")
_DJ_FILTER = ("filter", "get", "get_or_create", "update_or_create", "first", "last")
_FILTER_STEPS = {*_SA_FILTERS, "having", *_DJ_FILTER, "exclude"}
_DJ_SHORTCUTS = ("get_object_or_404", "get_list_or_404")
_DJ_SUFFIX = re.compile(r"__(exact|iexact|in)$")
_USER = re.compile(r"^(self\.)?(request\.user|current_user)(\.|$)")
CAPABILITY = re.compile(r"(?i)token|secret|hash$")
_SUBQUERY = {"exists", "scalar_subquery", "correlate", "lateral"}
_COLUMN_TESTS = ("in_", "is_", "like", "ilike", "any", "has", "contains")

Steps = list[tuple[str, ast.Call]]
Keys = tuple[set[str], set[str], bool]  # (keys, helpers, unknown) of a criterion


def _url_kwargs(values: list[ast.expr]) -> set[str]:
    """The URL parameters a DRF view reads by name: `self.kwargs["github_pk"]`,
    `self.kwargs.get("project_pk")`."""
    reads = (read_key(n) for v in values for n in walk(v))
    return {r[1] for r in reads if r is not None and last_name(r[0]) == "kwargs"}


class Queries(RawSql):
    """ORM query sites."""

    def query(self, call: ast.Call) -> bool:
        root, steps = unroll(call)
        model: str | None = None
        action = "read"
        filters: Steps = []
        if isinstance(call.func, ast.Name) and call.func.id in _DJ_SHORTCUTS:
            args = positional(call)
            if self.imports.is_from(call.func, "django", "rest_framework") and args:
                model = _model_ref(args[0]) if isinstance(args[0], ast.Name) else None
                if model is not None:
                    lookup = self._kw_predicate(call, model)
                    self._site(call, "django", model, call.func.id, "read", lookup, None, [])
                    return True
            return False
        # Django: M.objects.<chain>
        if isinstance(root, ast.Attribute) and steps and self.django:
            owner, mgr = last_name(root.value) or "", root.attr
            if CAMEL.match(owner) and (mgr.endswith("objects") or mgr in self.config.scope_helpers):
                return self._django_chain(call, owner, mgr, steps)
        # Flask-SQLAlchemy: M.query.<chain>
        if isinstance(root, ast.Attribute) and root.attr == "query" and steps:
            owner = last_name(root.value) or ""
            if owner == "cls" and self.classes:
                owner = self.classes[-1].name
            if CAMEL.match(owner):
                model, filters = owner, steps
        if model is None:
            for i, (meth, c) in enumerate(steps):
                args = positional(c)
                if meth == "query" and args and _model_ref(args[0]):
                    model, filters = _model_ref(args[0]), steps[i + 1 :]
                    break
                receiver = last_name(c.func.value) if isinstance(c.func, ast.Attribute) else None
                ref = _model_ref(args[0]) if len(args) == 2 else None
                if (
                    meth == "get"
                    and ref
                    and i == len(steps) - 1
                    and DB_RECEIVER.search(receiver or "")
                ):
                    get = Predicate(keys=("id",))
                    self._site(call, "sqlalchemy", ref, "get", "read", get, None, [])
                    self._consume(steps)
                    return True
        if model is None and isinstance(root, ast.Call) and isinstance(root.func, ast.Name):
            kind = root.func.id
            if kind in SA_BUILDERS and self.imports.is_from(root.func, "sqlalchemy", "sqlmodel"):
                args = positional(root)
                ref = _model_ref(args[0]) if args else None
                if ref is None:
                    return False
                model, filters, action = ref, steps, SA_BUILDERS[kind]
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

    def _consume(self, steps: Steps) -> None:
        self.consumed.update(id(c) for _, c in steps)

    def _sa_where(self, steps: Steps, model: str) -> Predicate | None:
        keys: set[str] = set()
        helpers: set[str] = set()
        unknown = False
        seen = False
        for meth, c in steps:
            if meth in self.config.scope_helpers:
                helpers.add(meth)
                seen = True
            elif meth == "filter_by":
                seen = True
                p = self._kw_predicate(c, model)
                keys.update(p.keys)
                unknown = unknown or p.unknown
            elif meth in ("filter", "where", "having"):
                seen = True
                for a in arguments(c):
                    k, h, u = self._sa_expr(a.value, model, star=bool(a.star))
                    keys |= k
                    helpers |= h
                    unknown = unknown or u
            elif meth == "get":
                seen = True
                keys.add("id")
            elif meth == "options":
                if any(
                    isinstance(n, ast.Call) and last_name(n.func) == "with_loader_criteria"
                    for n in walk(c)
                ):
                    helpers.add("with_loader_criteria")
                    seen = True
            else:
                for n in walk(c):
                    if isinstance(n, ast.Call) and last_name(n.func) in self.config.scope_helpers:
                        helpers.add(last_name(n.func) or "")
                        seen = True
        if not seen:
            return None
        return Predicate(keys=tuple(sorted(keys)), helpers=tuple(sorted(helpers)), unknown=unknown)

    def _sa_expr(self, e: ast.expr, model: str, star: bool = False) -> Keys:
        """(keys, helpers, unknown) of one SQLAlchemy criterion."""
        if star or isinstance(e, ast.Name):
            return set(), set(), True
        if isinstance(e, ast.Compare):
            keys: set[str] = set()
            sides = [e.left, *e.comparators]
            for side in sides:
                k = self._column_key(side, model)
                if k:
                    keys.add(k)
                    self.sink(k, [*e.comparators, e.left], "where-clause")
            return keys, set(), False
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.BitAnd, ast.BitOr)):
            return _combine(
                [self._sa_expr(e.left, model), self._sa_expr(e.right, model)],
                isinstance(e.op, ast.BitOr),
            )
        if isinstance(e, ast.Call):
            fname = last_name(e.func) or ""
            if fname in self.config.scope_helpers:
                return set(), {fname}, False
            if fname in ("and_", "or_"):
                parts = [self._sa_expr(a.value, model, bool(a.star)) for a in arguments(e)]
                if not parts:
                    return set(), set(), False
                return _combine(parts, fname == "or_")
            if isinstance(e.func, ast.Attribute) and fname in _COLUMN_TESTS:
                k = self._column_key(e.func.value, model)
                if k and fname in ("in_", "is_"):
                    return {k}, set(), False
                return set(), set(), False
            return set(), set(), True
        return set(), set(), False

    def _column_key(self, node: ast.expr, model: str) -> str | None:
        d = dotted(node)
        if d is None or "." not in d:
            return None
        owner, _, col = d.rpartition(".")
        owner_short = owner.rsplit(".", 1)[-1]
        if owner_short in (model, "cls"):
            return col
        if CAMEL.match(owner_short) or owner_short.endswith("_alias"):
            return f"{owner_short}.{col}"
        return None

    def _kw_predicate(self, call: ast.Call, model: str, sink: str = "where-clause") -> Predicate:
        keys: set[str] = set()
        unknown = False
        for a in arguments(call):
            if a.keyword is not None:
                key = _DJ_SUFFIX.sub("", a.keyword)
                keys.add(key)
                self.sink(key, [a.value], sink)
            elif isinstance(a.value, ast.Dict) and a.star in ("**", ""):
                for k in a.value.keys:
                    name = literal_str(k)
                    if name:
                        keys.add(name if a.star else name.rsplit(".", 1)[-1])
                    else:
                        unknown = True
            elif a.star or isinstance(a.value, ast.Name):
                unknown = True
            elif isinstance(a.value, (ast.Call, ast.BinOp)):
                qkeys, _, u = self._q_expr(a.value)
                keys |= qkeys
                unknown = unknown or u
        return Predicate(keys=tuple(sorted(keys)), unknown=unknown)

    def _q_expr(self, e: ast.expr) -> Keys:
        """Keys of Django `Q(...)` objects combined with `&` / `|`."""
        if isinstance(e, ast.Call) and last_name(e.func) == "Q":
            args = arguments(e)
            return (
                {_DJ_SUFFIX.sub("", a.keyword) for a in args if a.keyword},
                set(),
                any(a.star for a in args),
            )
        if isinstance(e, ast.Call) and last_name(e.func) in self.config.scope_helpers:
            return set(), {last_name(e.func) or ""}, False
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.BitAnd, ast.BitOr)):
            return _combine(
                [self._q_expr(e.left), self._q_expr(e.right)], isinstance(e.op, ast.BitOr)
            )
        return set(), set(), True

    def _django_chain(self, call: ast.Call, model: str, mgr: str, steps: Steps) -> bool:
        self._consume(steps)
        ops = [m for m, _ in steps]
        if {"none", "bulk_update"} & set(ops):  # no rows read / instances already loaded
            return True
        if "raw" in ops:
            raw_call = steps[ops.index("raw")][1]
            args = positional(raw_call)
            if args:
                self.raw_site(raw_call, f"{model}.objects.raw", args[0])
            return True
        keys: set[str] = set()
        helpers: set[str] = {mgr} if mgr in self.config.scope_helpers else set()
        unknown = False
        filtered = bool(helpers)
        data: Predicate | None = None
        for meth, c in steps:
            if meth in self.config.scope_helpers:
                helpers.add(meth)
                filtered = True
            elif meth in _DJ_FILTER:
                if c.args or c.keywords:
                    filtered = True
                p = self._kw_predicate(c, model)
                keys.update(k for k in p.keys if k != "defaults")
                unknown = unknown or p.unknown
            elif meth == "extra":
                extra_where = kwarg(c, "where")
                if extra_where is not None:
                    self.raw_site(c, "extra", extra_where)
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

    def _create_data(self, c: ast.Call, model: str, meth: str) -> Predicate:
        if meth == "bulk_create":
            args = positional(c)
            items = list(getattr(args[0], "elts", [])) if args else []
            preds = [
                self._kw_predicate(i, model, "create data")
                for i in items
                if isinstance(i, ast.Call)
            ]
            if not preds or len(preds) != len(items):
                return Predicate(unknown=True)
            common = set(preds[0].keys).intersection(*(p.keys for p in preds[1:]))
            return Predicate(keys=tuple(sorted(common)), unknown=any(p.unknown for p in preds))
        p = self._kw_predicate(c, model, "create data")
        keys = set(p.keys) - {"defaults"}
        defaults = kwarg(c, "defaults")
        if isinstance(defaults, ast.Dict):
            keys |= {k for key in defaults.keys if (k := literal_str(key))}
        elif defaults is not None:
            return Predicate(keys=tuple(sorted(keys)), unknown=True)
        return Predicate(keys=tuple(sorted(keys)), unknown=p.unknown)

    def drf_queryset(self, value: ast.expr) -> None:
        """`queryset = M.objects…` on a view class: the site, guarded when `get_queryset` overrides it."""
        if not isinstance(value, ast.Call):
            return
        before = len(self.queries)
        self.query(value)
        self.consumed.update(id(n) for n in walk(value) if isinstance(n, ast.Call))
        cls = self.classes[-1]
        if cls.has_get_queryset:
            self.queries[before:] = [
                q.model_copy(update={"guarded_by": "get_queryset override"})
                for q in self.queries[before:]
            ]

    def constructor_save(self, call: ast.Call) -> bool:
        """`session.add(M(...))`, `obj = M(...); session.add(obj)` / `obj.save()` → a create site."""
        f = self.func
        if not isinstance(call.func, ast.Attribute):
            return False
        meth = call.func.attr
        targets: list[tuple[ast.Call, str | None]] = []
        if meth in ("add", "add_all") and DB_RECEIVER.search(last_name(call.func.value) or ""):
            args = positional(call)
            values = list(getattr(args[0], "elts", [])) if args and meth == "add_all" else args[:1]
            for v in values:
                bound = f.assigns.get(v.id) if isinstance(v, ast.Name) and f else None
                if isinstance(v, ast.Call):
                    targets.append((v, None))
                elif isinstance(bound, ast.Call) and isinstance(v, ast.Name):
                    targets.append((bound, v.id))
        elif (
            meth == "save"
            and not call.args
            and not call.keywords
            and isinstance(call.func.value, ast.Name)
            and f is not None
        ):
            saved = call.func.value.id
            bound = f.assigns.get(saved)
            if isinstance(bound, ast.Call):
                targets.append((bound, saved))
        found = False
        for ctor, var in targets:
            ctor_model = last_name(ctor.func)
            if ctor_model is None or not CAMEL.match(ctor_model) or id(ctor) in self.consumed:
                continue  # a class called, not `M.objects.get(…)`
            self.consumed.add(id(ctor))
            data = self._kw_predicate(ctor, ctor_model, "create data")
            extra = f.attr_sets.get(var, set()) if f is not None and var else set()
            data = data.model_copy(update={"keys": tuple(sorted(set(data.keys) | extra))})
            orm = "django" if meth == "save" else "sqlalchemy"
            op = "save" if meth == "save" else "add"
            self._site(ctor, orm, ctor_model, op, "create", None, data, [])
            found = True
        return found

    def _params(
        self, f: FuncCtx | None, values: list[ast.expr], pass_through: bool
    ) -> tuple[str, ...]:
        """The parameters the filter reads: the caller's (judged at the call sites), or a
        handler's path parameters (checked by its wrappers when they read them)."""
        if f is None or not (pass_through or f.handler is not None):
            return ()
        found = self.forwarded(f, values)
        if f.handler is None:
            return found
        return tuple(sorted({*(p for p in found if p in f.path_params), *_url_kwargs(values)}))

    def _site(
        self,
        call: ast.Call,
        orm: str,
        model: str,
        op: str,
        action: str,
        where: Predicate | None,
        data: Predicate | None,
        steps: Steps,
    ) -> None:
        f = self.func
        pass_through = False
        if f is not None and where is not None and where.unknown:
            pass_through = any(
                n in f.params and n not in ("self", "cls")
                for _, c in steps
                for a in arguments(c)
                for n in names_in(a.value)
            )
        values = [a.value for m, c in steps if m in _FILTER_STEPS for a in arguments(c)]
        if not steps and where is not None:  # `get_object_or_404(M, pk=pk)`
            values = [a.value for a in arguments(call)[1:]]
        if (
            f is not None
            and where is not None
            and not where.unknown
            and f.handler is None
            and not f.request_input
        ):
            pass_through = self.from_params(f, values)
        site = QuerySite(
            loc=self.loc(call),
            orm=orm,
            model=model,
            operation=op,
            action=action,
            where=where,
            data=data,
            rls_scoped=self.in_rls(),
            guarded_by=self._derived(call, model, steps),
            pass_through=pass_through,
            function=f.name if f else None,
            params=self._params(f, values, pass_through),
        )
        if f is not None:
            imported = set(self.imports.names)
            if where is not None and any(CAPABILITY.search(k) for k in where.keys):
                f.capability = True  # looked up by an unguessable token (PRECISION 3)
            # the user's membership of the tenant, or of a row of it (`members=request.user`)
            if where is not None and (
                self.has_tenant_key(where.keys) or any("member" in k for k in where.keys)
            ):
                chains = value_chains(values, imported)
                f.membership = f.membership or any(_USER.match(c) for c in chains)
            f.sites.append(site)
            f.site_values.append(free_names(values) - imported - BUILTINS)
        self.queries.append(site)
        self.site_of[id(call)] = site
        self.call_of[id(site)] = id(call)

    def _derived(self, call: ast.Call, model: str, steps: Steps) -> str | None:
        """Rows selected through rows already scoped: a Django `Prefetch`/`queryset=` of a
        parent query, a subquery correlated with `OuterRef` or with the outer query's columns
        (`select(Product.id).where(Product.id == CheckoutLink.product_id).exists()`: the outer
        query is judged on its own), or (PRECISION 1 through a relation) an object this
        function obtained with tenant evidence (`group = get_by_id_and_org(id, current_org)`)."""
        if id(call) in self.nested_querysets:
            return "prefetch of a parent query"
        if {m for m, _ in steps} & _SUBQUERY and self._correlated(model, steps):
            return "correlated subquery"
        args: list[Arg] = [a for _, c in steps for a in arguments(c)]
        filter_values = [a.value for m, c in steps if m in _FILTER_STEPS for a in arguments(c)]
        heads = value_chains(filter_values, set(self.imports.names))
        if heads and all(".instance." in h or h.endswith(".instance") for h in heads):
            return "re-read of the instance just saved"
        if any(_USER.match(h) for h in heads):  # filters are ANDed: the user's rows only
            return OWN_ROWS
        if any(
            isinstance(a.value, ast.Call) and last_name(a.value.func) == "OuterRef" for a in args
        ):
            return "correlated subquery"
        f = self.func
        if f is None:
            return None
        evidence = set(self.config.tenant_resolvers) | set(self.config.scope_helpers)
        for a in args:
            for n in names_in(a.value):
                bound = f.assigns.get(n)
                if bound is not None and any(
                    m in evidence or m.split("__")[0] in self.tenant_fields for m in names_in(bound)
                ):
                    return "scoped-parent"
        return None

    def _correlated(self, model: str, steps: Steps) -> bool:
        """Whether a filter compares this model's column with another model's column."""
        for m, c in steps:
            if m not in _FILTER_STEPS:
                continue
            for a in arguments(c):
                for n in walk(a.value):
                    if not isinstance(n, ast.Compare):
                        continue
                    owners = {
                        (d or "").rsplit(".", 2)[-2] if "." in (d or "") else ""
                        for side in (n.left, *n.comparators)
                        for d in [dotted(side)]
                    }
                    if model in owners and any(o != model and CAMEL.match(o) for o in owners):
                        return True
        return False

    def check_then_act(self, ctx: FuncCtx) -> None:
        """PRECISION 1 and 2: a by-id access to a row the function already found with tenant
        evidence (`task = …filter(tenant_id=…)…; …filter(id=task.id).update()`), or a read whose
        row has its tenant column compared / is passed to a permission check."""
        # the scoped lookups so far, each with the statement path it runs on: it proves a later
        # site only on the paths where it ran (a check in one branch covers no other, PRECISION 14)
        proofs: list[tuple[Path, set[str], str, set[str]]] = []
        # statement paths only where a proof could be followed by another site
        evidence_at = [
            i
            for i, s in enumerate(ctx.sites)
            if s.where is not None and (s.where.helpers or self.has_tenant_key(s.where.keys))
        ]
        later = bool(evidence_at) and evidence_at[0] < len(ctx.sites) - 1
        paths = _statement_paths(ctx.node) if later else {}
        call_of = self.call_of
        checked = {s.model for var in ctx.guard_names for s in self._held(ctx, var.split(".")[0])}
        for site, values in zip(ctx.sites, ctx.site_values, strict=True):
            here = paths.get(call_of.get(id(site), -1))
            before = [p for p in proofs if here is None or _dominates(p[0], here)]
            proven: dict[str, set[str]] = {}  # model → variables holding a row found with evidence
            for _, _, model, holders in before:
                proven.setdefault(model, set()).update(holders)
            proven_ids = {v for _, ids, _, _ in before for v in ids}
            if here is not None:  # or proved in both branches of an `if` before it
                proven_ids |= _both_branches([p[:2] for p in proofs if p not in before], here)
            guard = None
            evidence = site.where is not None and (
                site.where.helpers or self.has_tenant_key(site.where.keys)
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
                holders = {v for v in ctx.assigns if site in self._held(ctx, v)}
                proofs.append((here or (), values, site.model, holders))
            if guard:
                i = self.queries.index(site)
                self.queries[i] = site.model_copy(update={"guarded_by": guard})

    def _held(self, ctx: FuncCtx, var: str) -> list[QuerySite]:
        """The query sites whose result the function assigned to `var`."""
        bound = ctx.assigns.get(var)
        if bound is None:
            return []
        code = re.sub(r"\s+", " ", self.src.code(bound))
        return [s for s in ctx.sites if s.loc.snippet and s.loc.snippet in code]


Path = tuple[tuple[int, int], ...]  # (block, index) of each statement from the function down


def _statement_paths(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[int, Path]:
    """The statement path of every node of a function (nested functions and classes aside)."""
    out: dict[int, Path] = {}

    def block(stmts: list[ast.stmt], path: Path) -> None:
        for i, stmt in enumerate(stmts):
            here = (*path, (id(stmts), i))
            inner: list[list[ast.stmt]] = []
            todo: list[ast.AST] = [stmt]
            while todo:
                node = todo.pop()
                out[id(node)] = here
                for name, value in ast.iter_fields(node):
                    if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                        if node is stmt and name in ("body", "orelse", "finalbody"):
                            inner.append(value)
                        continue
                    if (
                        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                        and node is not stmt
                    ):
                        continue
                    kids = value if isinstance(value, list) else [value]
                    todo += [k for k in kids if isinstance(k, ast.AST)]
            for handler in getattr(stmt, "handlers", []):
                inner.append(handler.body)
            for stmts_ in inner:
                block(stmts_, here)

    block(fn.body, ())
    return out


def _both_branches(proofs: list[tuple[Path, set[str]]], site: Path) -> set[str]:
    """The values proved in the `body` and in the `orelse` of one `if` that comes before the
    site in a block enclosing it (each path through the `if` proved them)."""
    groups: dict[Path, dict[int, set[str]]] = {}
    for path, ids in proofs:
        d = next((i for i, (a, b) in enumerate(zip(path, site, strict=False)) if a != b), None)
        if d is None or d + 1 >= len(path) or path[d][0] != site[d][0] or path[d][1] > site[d][1]:
            continue
        branch = groups.setdefault(path[: d + 1], {})
        branch.setdefault(path[d + 1][0], set()).update(ids)
    out: set[str] = set()
    for branch in groups.values():
        if len(branch) == 2:  # the `if`'s two blocks (a loop or `with` has one)
            first, second = branch.values()
            out |= first & second
    return out


def _dominates(proof: Path, site: Path) -> bool:
    """Whether a statement at `proof` runs on every path to one at `site`: it sits in a block
    enclosing the site's, at or before the statement that leads there."""
    n = len(proof)
    if n == 0 or n > len(site):
        return n == 0
    return (
        proof[:-1] == site[: n - 1]
        and proof[-1][0] == site[n - 1][0]
        and proof[-1][1] <= site[n - 1][1]
    )


def _combine(parts: list[Keys], any_of: bool) -> Keys:
    """Criteria joined by AND (every key counts) or by OR (only the keys of every branch)."""
    keys, helpers = set(parts[0][0]), set(parts[0][1])
    for k, h, _ in parts[1:]:
        if any_of:
            keys, helpers = keys & k, helpers & h
        else:
            keys, helpers = keys | k, helpers | h
    return keys, helpers, any(p[2] for p in parts)


def unroll(call: ast.Call) -> tuple[ast.expr, Steps]:
    """`a.b(x).c(y)` → (`a`, [("b", call), ("c", call)])."""
    steps: Steps = []
    node: ast.expr = call
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        steps.append((node.func.attr, node))
        node = node.func.value
    steps.reverse()
    return node, steps


def _model_ref(node: ast.expr) -> str | None:
    """`User`, `models.User` or `User.id` → `User` (a CamelCase class name), else None."""
    d = dotted(node)
    if d is None:
        return None
    for p in reversed(d.split(".")):
        if CAMEL.match(p):
            return p
    return None
