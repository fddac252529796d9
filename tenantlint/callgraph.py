"""The project's call graph: which entry points reach a function's parameter-driven queries.

Front ends summarise each function (`FunctionSummary`: the queries whose filter its parameters
decide) and each call that passes a request value or a parameter on (`CallSite`). This layer
resolves calls across modules and walks from a query's function up to the entry points, the
design of Pysa's and CodeQL's summaries, small:

- a caller that passes a request value (a route parameter, the body, the query string) for a
  parameter the query filters by reaches it: a finding at that call, with the chain;
- a caller that forwards its own parameter is followed to its callers, up to `MAX_DEPTH` calls
  and `MAX_CALLERS` call sites per function;
- a caller that passes anything else (a value it computed, looked up or checked) scopes it;
- a call whose result the caller authorises (`if doc.teamId !== team.id`) scopes it.

Names are resolved as far as the files tell: Python by dotted module name, the importing name
standing in order within the defining one (`plane.app.views.f` finds `apps/api/plane/app/
views.py`); TypeScript by module path, relative imports resolved by the front end and aliases
(`@/lib/x`, `~/lib/x`, workspace packages `@acme/lib/x`) by the longest path suffix that names
exactly one module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tenantlint.facts import CallArg, CallSite, FileFacts, FunctionSummary, Param

MAX_DEPTH = 4  # calls between an entry point and the query's function
MAX_CALLERS = 64  # call sites followed per function


@dataclass(frozen=True)
class Reached:
    """An entry point's call that passes a request value down to a query's parameter."""

    path: str  # the file of the call
    call: CallSite
    source: str  # the request source of the value
    name: str | None  # the request key it is read under (a path parameter's name)
    chain: tuple[str, ...]  # the functions called, from the entry point's callee to the query's


def within(wanted: list[str], module: list[str]) -> bool:
    """Whether `wanted` is a contiguous run of `module` (`plane.app.views` within
    `apps.api.plane.app.views.base`): imports through a re-exporting package or a source folder."""
    n = len(wanted)
    return any(module[i : i + n] == wanted for i in range(len(module) - n + 1))


class CallGraph:
    """Built once per run from every file's summaries and call sites (context facts)."""

    def __init__(self, files: Iterable[FileFacts]) -> None:
        self._functions: dict[str, FunctionSummary] = {}
        self._by_label: dict[tuple[str, str], FunctionSummary] = {}
        self._by_name: dict[str, list[str]] = {}  # short name → summary names
        self.paths: dict[str, str] = {}  # summary name → its file
        calls: list[tuple[str, CallSite]] = []
        for f in files:
            for fn in f.functions:
                self._functions[fn.name] = fn
                self._by_label[(f.path, fn.label)] = fn
                self._by_name.setdefault(short_name(fn.name), []).append(fn.name)
                self.paths[fn.name] = f.path
            calls += [(f.path, c) for c in f.calls]
        self._resolved: dict[str, str | None] = {}
        self._callers: dict[str, list[tuple[str, CallSite]]] = {}
        for path, call in calls:
            target = self.resolve(call.callee)
            if target is not None:
                self._callers.setdefault(target, []).append((path, call))

    def summary(self, path: str, label: str | None) -> FunctionSummary | None:
        return None if label is None else self._by_label.get((path, label))

    def has_callers(self, fn: FunctionSummary) -> bool:
        """Whether any analysed file calls the function."""
        return fn.name in self._callers

    def entry_chain(self, fn: FunctionSummary) -> tuple[CallSite, tuple[str, ...]] | None:
        """An entry point's call that reaches `fn` (through at most `MAX_DEPTH` calls), and the
        functions called from it down to `fn`; None when no request handler reaches it."""
        todo: list[tuple[FunctionSummary, tuple[str, ...]]] = [(fn, (fn.label,))]
        seen = {fn.name}
        while todo:
            current, chain = todo.pop(0)
            for path, call in self._callers.get(current.name, [])[:MAX_CALLERS]:
                if call.entry:
                    return call, chain
                caller = self.summary(path, call.function)
                if caller is not None and caller.name not in seen and len(chain) < MAX_DEPTH:
                    seen.add(caller.name)
                    todo.append((caller, (caller.label, *chain)))
        return None

    def resolve(self, callee: str) -> str | None:
        """The summary a callee name means, if exactly one matches."""
        if callee in self._resolved:
            return self._resolved[callee]
        found = callee if callee in self._functions else None
        if found is None:
            candidates = self._by_name.get(short_name(callee), [])
            found = best_match(callee, candidates)
        self._resolved[callee] = found
        return found

    def reach(self, fn: FunctionSummary, params: Iterable[str]) -> list[Reached]:
        """The entry points' calls that pass a request value for one of `params` of `fn`,
        directly or through callers that forward their own parameters."""
        out: list[Reached] = []
        seen: set[tuple[str, frozenset[str]]] = set()
        todo: list[tuple[FunctionSummary, frozenset[str], tuple[str, ...]]] = [
            (fn, frozenset(params), (fn.label,))
        ]
        while todo:
            current, wanted, chain = todo.pop()
            if (current.name, wanted) in seen:
                continue
            seen.add((current.name, wanted))
            for path, call in self._callers.get(current.name, [])[:MAX_CALLERS]:
                if call.checked:
                    continue
                for arg in call.args:
                    if not any(_binds(arg, p) for p in current.params if p.name in wanted):
                        continue
                    if arg.source is not None:
                        out.append(Reached(path, call, arg.source, arg.name, chain))
                        break
                    caller = self.summary(path, call.function)
                    if arg.param is not None and caller is not None and len(chain) < MAX_DEPTH:
                        todo.append((caller, frozenset({arg.param}), (caller.label, *chain)))
        return sorted(out, key=lambda r: (r.path, r.call.loc.line, r.call.loc.column))


def _binds(arg: CallArg, param: Param) -> bool:
    """Whether the argument is passed for the parameter: by keyword (Python), by position, or
    as a key of an object argument (`getDoc({ id })`) for that key or the whole object."""
    if arg.index < 0:
        return arg.key == param.name
    return arg.index == param.index and param.key in (None, arg.key)


def short_name(name: str) -> str:
    """The function name of a qualified name (`lib/docs#getDoc`, `app.docs.get_doc`)."""
    return name.rsplit("#", 1)[-1] if "#" in name else name.rsplit(".", 1)[-1]


def best_match(callee: str, candidates: list[str]) -> str | None:
    """The one candidate the callee can mean (see the module docstring), else None."""
    if "#" in callee:
        module, _, name = callee.rpartition("#")
        parts = module.split("/")
        for drop in range(0, min(3, len(parts))):
            suffix = "/".join(parts[drop:])
            hits = [
                c
                for c in candidates
                if c.rpartition("#")[2] == name
                and any(
                    m == suffix or m.endswith("/" + suffix)
                    for m in (c.rpartition("#")[0], c.rpartition("#")[0].removesuffix("/index"))
                )
            ]
            if len(hits) == 1:
                return hits[0]
            if hits:
                return None
        return None
    module, _, name = callee.rpartition(".")
    wanted = module.split(".") if module else []
    hits = [
        c
        for c in candidates
        if "#" not in c and c.rpartition(".")[2] == name and within(wanted, c.split(".")[:-1])
    ]
    exact = [c for c in hits if c == callee or c.endswith("." + callee)]
    if len(exact) == 1:
        return exact[0]
    return hits[0] if len(hits) == 1 else None
