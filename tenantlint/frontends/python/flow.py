"""Statement values that flow through a function (PRECISION 14): a SQLAlchemy statement bound to
a name and narrowed later (`stmt = select(Note)`, then `stmt = stmt.where(…)` in each branch of
an `if`) is judged by the criteria every path adds, not by the bare `select(…)`.

Paths are followed over the structured statements: both branches of an `if` must add a
criterion for it to count after the `if`; a loop's body may not run; a reassignment of the name
to anything else ends the statement's story.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from tenantlint.facts import Predicate, QuerySite
from tenantlint.frontends.python.queries import Queries, unroll
from tenantlint.frontends.python.walker import FuncCtx

_NARROW = ("where", "filter", "filter_by", "having")


@dataclass
class _Criteria:
    """What every path so far added to the statement."""

    keys: set[str] = field(default_factory=set)
    helpers: set[str] = field(default_factory=set)
    unknown: bool = False
    ended: bool = False  # the name was bound to something else

    def meet(self, other: _Criteria) -> _Criteria:
        return _Criteria(
            self.keys & other.keys,
            self.helpers & other.helpers,
            self.unknown or other.unknown,
            self.ended and other.ended,
        )


class Flow(Queries):
    """Narrowing of statement variables, once the function is walked."""

    def statement_flow(self, ctx: FuncCtx) -> None:
        for body, i, name, site in self._bound_sites(ctx.node.body):
            got = self._walk(body[i + 1 :], name, site.model, _Criteria())
            if not (got.keys or got.helpers or got.unknown):
                continue
            old = site.where or Predicate()
            where = Predicate(
                keys=tuple(sorted({*old.keys, *got.keys})),
                helpers=tuple(sorted({*old.helpers, *got.helpers})),
                unknown=old.unknown or got.unknown,
            )
            new = site.model_copy(update={"where": where})
            self.queries[self.queries.index(site)] = new
            if site in ctx.sites:
                ctx.sites[ctx.sites.index(site)] = new

    def _bound_sites(
        self, body: list[ast.stmt]
    ) -> list[tuple[list[ast.stmt], int, str, QuerySite]]:
        """(block, index, name, site) of each `name = <query>` in the blocks of a function."""
        out = []
        for i, stmt in enumerate(body):
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and (site := self.site_of.get(id(stmt.value))) is not None
                and site.action in ("read", "update", "delete")
            ):
                out.append((body, i, stmt.targets[0].id, site))
            for inner in _blocks(stmt):
                out += self._bound_sites(inner)
        return out

    def _walk(self, stmts: list[ast.stmt], name: str, model: str, got: _Criteria) -> _Criteria:
        for stmt in stmts:
            if got.ended:
                return got
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in stmt.targets
            ):
                got = self._narrowed(stmt.value, name, model, got)
            elif isinstance(stmt, ast.If):
                then = self._walk(stmt.body, name, model, _copy(got))
                other = self._walk(stmt.orelse, name, model, _copy(got))
                got = then.meet(other)
            elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.Try)):
                got = self._walk(stmt.body, name, model, got)
            # a loop's body may not run: what it adds is not guaranteed after it
        return got

    def _narrowed(self, value: ast.expr, name: str, model: str, got: _Criteria) -> _Criteria:
        if not isinstance(value, ast.Call):
            return _Criteria(got.keys, got.helpers, got.unknown, ended=True)
        root, steps = unroll(value)
        if not (isinstance(root, ast.Name) and root.id == name):
            return _Criteria(got.keys, got.helpers, got.unknown, ended=True)
        pred = self._sa_where([s for s in steps if s[0] in _NARROW], model)
        if pred is None:
            return got
        return _Criteria(got.keys | set(pred.keys), got.helpers | set(pred.helpers),
                         got.unknown or pred.unknown)  # fmt: skip


def _copy(c: _Criteria) -> _Criteria:
    return _Criteria(set(c.keys), set(c.helpers), c.unknown, c.ended)


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement blocks inside a statement (not nested functions or classes)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    out = []
    for key in ("body", "orelse", "finalbody"):
        block = getattr(stmt, key, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            out.append(block)
    for handler in getattr(stmt, "handlers", []):
        out.append(handler.body)
    return out
