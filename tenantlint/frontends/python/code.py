"""Python code → code facts, in one walk of each module: the scopes (classes, functions, `with`
blocks), assignments and conditions, and each call handed to the concern that reads it
(queries, raw SQL, flags, clients, handlers).

Facts record evidence only (which keys a filter constrains, which configured names appear); the
rules decide with the tenancy map.
"""

from __future__ import annotations

import ast
import re

from tenantlint.facts import FlagRead
from tenantlint.frontends.python.calls import Calls
from tenantlint.frontends.python.flags import is_tenantish
from tenantlint.frontends.python.queries import CAPABILITY
from tenantlint.frontends.python.util import dotted, elements, last_name, walk
from tenantlint.frontends.python.walker import ClassCtx, FuncCtx, FunctionNode

_TXN = ("begin", "atomic", "begin_nested", "transaction")
_VIEW_BASES = ("View", "ViewSet", "APIView", "Resource", "MethodView")
_CLIENTS = (
    "sessionmaker",
    "async_sessionmaker",
    "scoped_session",
    "Session",
    "AsyncSession",
    "SQLAlchemy",
)
_PERMISSION = re.compile(r"permission|authori[sz]|require_|check_access|has_access|can_", re.I)


class CodeVisitor(Calls):
    """Collects the code facts of one module; call `run()`."""

    def run(self) -> None:
        for stmt in self.module.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                t = stmt.targets[0]
                if isinstance(t, ast.Name):
                    self.constants[t.id] = stmt.value
        for stmt in self.module.body:
            self.stmt = stmt
            self.walk_tree(stmt)
        self._rls_callbacks()
        self.finish_handlers()

    def _rls_callbacks(self) -> None:
        """Functions passed to the RLS wrapper by name run inside it."""
        if not self.rls_callbacks:
            return
        for i, q in enumerate(self.queries):
            if q.function and q.function.rsplit(".", 1)[-1] in self.rls_callbacks:
                self.queries[i] = q.model_copy(update={"rls_scoped": True})
        for i, r in enumerate(self.raw_sql):
            if r.function and r.function.rsplit(".", 1)[-1] in self.rls_callbacks:
                self.raw_sql[i] = r.model_copy(update={"rls_scoped": True})

    # --- scopes ------------------------------------------------------------------------------

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [dotted(b) or "" for b in node.bases]
        methods = {
            s.name for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        short = [b.rsplit(".", 1)[-1] for b in bases]
        view = any(b.endswith(_VIEW_BASES) for b in short)
        cls = ClassCtx(node.name, bases, set(short), view, "get_queryset" in methods)
        for s in node.body:
            if isinstance(s, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "permission_classes" for t in s.targets
            ):
                cls.permission_refs |= {r for e in elements(s.value) if (r := self.ref(e))}
            elif isinstance(s, ast.FunctionDef) and s.name == "get_permissions":
                # `return [IsAuthenticated(), ProjectPermission()]`, per action or not
                cls.permission_refs |= {
                    r for n in walk(s) if isinstance(n, ast.Call) and (r := self.ref(n.func))
                }
        self.classes.append(cls)
        self.rescope()
        self.scope_names.add(node.name)

    def leave_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.pop()
        self.rescope()

    def visit_FunctionDef(self, node: FunctionNode) -> None:
        a = node.args
        params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
        params |= {p.arg for p in (a.vararg, a.kwarg) if p is not None}
        cls = self.classes[-1] if self.classes and not self.funcs else None
        name = f"{cls.name}.{node.name}" if cls else node.name
        parent = self.func
        top = parent.top if parent else (self.classes[0].name if self.classes else node.name)
        ctx = FuncCtx(name=name, node=node, params=params, top=top, cls=cls)
        ctx.rls = (parent.rls if parent else False) or node.name in self.config.rls_wrappers
        ctx.in_transaction = parent.in_transaction if parent else False
        for d in node.decorator_list:
            short = last_name(d.func if isinstance(d, ast.Call) else d) or ""
            if short in self.config.rls_wrappers:
                ctx.rls = True
            if short == "atomic":
                ctx.in_transaction = True
            if short == "before_request":
                self.before_request = True
        if node.name in self.config.guards:
            self.guard_defined = True
        ctx.handler = self.handler(node, ctx, cls)
        self.funcs.append(ctx)
        self.rescope()
        self.scope_names.add(node.name)

    def leave_FunctionDef(self, node: FunctionNode) -> None:
        ctx = self.funcs.pop()
        self.rescope()
        self.statement_flow(ctx)
        self.check_then_act(ctx)
        self.done_funcs.append(ctx)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            call = item.context_expr
            self.with_items.add(id(call))
            short = last_name(call.func if isinstance(call, ast.Call) else call) or ""
            if short in self.config.rls_wrappers:
                self.rls_depth += 1
                if isinstance(call, ast.Call):
                    self.wrapper_args(call)
            if short in _TXN:
                self.txn_depth += 1

    def leave_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            call = item.context_expr
            short = last_name(call.func if isinstance(call, ast.Call) else call) or ""
            if short in self.config.rls_wrappers:
                self.rls_depth -= 1
            if short in _TXN:
                self.txn_depth -= 1

    # --- names, assignments, conditions ------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        self.scope_names.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.scope_names.add(node.attr)

    def visit_arg(self, node: ast.arg) -> None:
        self.scope_names.add(node.arg)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg:
            self.scope_names.add(node.arg)

    def visit_alias(self, node: ast.alias) -> None:
        for part in node.name.split("."):
            self.scope_names.add(part)
        if node.asname:
            self.scope_names.add(node.asname)

    def visit_Assign(self, node: ast.Assign) -> None:
        f = self.func
        for target in node.targets:
            if isinstance(target, ast.Name):
                if f is not None:
                    f.assigns[target.id] = node.value
                    src = self.taint(node.value)
                    if src:
                        f.tainted[target.id] = src
                elif self.classes and target.id == "queryset":
                    self.drf_queryset(node.value)
                self.fallback(target.id, node.value)
            elif isinstance(target, ast.Attribute) and f is not None:
                owner = dotted(target.value)
                if owner:
                    f.attr_sets.setdefault(owner, set()).add(target.attr)
            elif isinstance(target, (ast.Tuple, ast.List)) and f is not None:
                for el in target.elts:
                    if isinstance(el, ast.Name):
                        f.assigns.pop(el.id, None)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name) and node.value is not None:
            if self.func is not None:
                self.func.assigns[node.target.id] = node.value
            self.fallback(node.target.id, node.value)
            if self.classes and not self.funcs and node.target.id in self.config.tenancy_flags:
                self.flags.append(
                    FlagRead(
                        loc=self.loc(node),
                        flag=node.target.id,
                        problem="settings field with a default value",
                    )
                )

    def visit_Return(self, node: ast.Return) -> None:
        f = self.func
        if f is not None and node.value is not None and is_tenantish(f.name, self.tenant_fields):
            self.fallback(f.name.rsplit(".", 1)[-1], node.value)

    def visit_If(self, node: ast.If) -> None:
        self._bool_context(node.test)
        self._authorise(node.test)

    def visit_While(self, node: ast.While) -> None:
        self._bool_context(node.test)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._bool_context(node.test)

    def visit_Assert(self, node: ast.Assert) -> None:
        self._authorise(node.test)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for value in node.values:
            self._bool_context(value)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._bool_context(node.operand)

    def _bool_context(self, expr: ast.expr) -> None:
        if (isinstance(expr, ast.Call) and self.flag_name(expr) is not None) or (
            isinstance(expr, ast.Subscript) and self.environ_subscript(expr) is not None
        ):
            self.loose.add(id(expr))

    def _authorise(self, test: ast.expr) -> None:
        """`if row.tenant_id != tenant: raise` — the function checks `row`'s tenant."""
        f = self.func
        if f is None:
            return
        for n in walk(test):
            if isinstance(n, ast.Attribute) and n.attr in self.tenant_fields:
                owner = dotted(n.value)
                if owner:
                    f.guard_names.add(owner)
            elif isinstance(n, ast.Attribute) and CAPABILITY.search(n.attr):
                f.capability = True  # `if invite.token != token`: the request holds a capability

    # --- calls -------------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        f = self.func
        name = last_name(node.func) or ""
        for a in node.args:
            if isinstance(a, ast.Call) and name == "Prefetch":
                self.nested_querysets.add(id(a))
        for k in node.keywords:
            if isinstance(k.value, ast.Call) and (name == "Prefetch" or k.arg == "queryset"):
                self.nested_querysets.add(id(k.value))
        values = [*node.args, *(k.value for k in node.keywords)]
        self.record_call(node)
        if f is not None:
            if isinstance(node.func, ast.Name) or (
                isinstance(node.func, ast.Attribute) and dotted(node.func.value) in ("self", "cls")
            ):
                f.calls.add(name)
            if _PERMISSION.search(name):
                f.guard_names.update(dotted(v) or "" for v in values)
                # `user_has_issue_permission(request.user.id, project_id=…)`: the user's right
                # to the tenant's row is checked
                f.membership |= any(
                    (d := dotted(n)) is not None
                    and d.startswith(("request.user", "self.request.user"))
                    for v in values
                    for n in walk(v)
                )
        if name in self.config.guards:
            self.guard_defined = True
            self.guard_args.update(d for v in values if (d := dotted(v)) is not None)
            self.guarded_calls.update(id(n) for v in values for n in walk(v))
        if name in self.config.rls_wrappers and id(node) not in self.with_items:
            self.wrapper_args(node)
            for v in values:
                if isinstance(v, ast.Name):
                    self.rls_callbacks.add(v.id)
            if any(isinstance(v, ast.Lambda) for v in values):
                self.rls_depth += 1
                self.consumed.add(-id(node))
        if name in _CLIENTS:
            self.client(node, name)
        if name == "bool" and node.args:
            self._bool_context(node.args[0])
        flag = self.flag_name(node)
        if flag is not None:
            self.flag(node, flag)
        if id(node) in self.consumed:
            return
        if self.query(node) or self.raw(node):
            return
        self.constructor_save(node)

    def leave_Call(self, node: ast.Call) -> None:
        if -id(node) in self.consumed:
            self.rls_depth -= 1

    def visit_Subscript(self, node: ast.Subscript) -> None:
        flag = self.environ_subscript(node)
        if flag is not None:
            problem = "read with loose truthiness" if id(node) in self.loose else None
            self.flags.append(FlagRead(loc=self.loc(node), flag=flag, problem=problem))
