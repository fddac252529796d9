"""The call-graph facts of a TypeScript/JavaScript module: a summary of each module-level
function whose Prisma queries filter by its parameters, and each call to an imported or
module-level function that passes a request value or a parameter on.

Callees are named `<module>#<name>`: the module of a relative import resolved against this
file (`./docs` in `app/api/x/route.ts` → `app/api/x/docs`), any other specifier as written
(`@/lib/docs`, `@acme/lib/docs`: the call graph resolves those by path suffix).
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING

from tenantlint.facts import CallArg, CallSite, FunctionSummary, Param, QuerySite
from tenantlint.frontends.typescript.routes import REQUEST_SOURCE, route_of
from tenantlint.frontends.typescript.syntax import (
    call_args,
    callee_name,
    enclosing_function,
    enclosing_functions,
    function_name,
    parameter_names,
    parent_past,
    pattern_names,
    root_identifier,
    string_value,
    text,
    unwrap,
)

if TYPE_CHECKING:
    from tree_sitter import Node

    from tenantlint.frontends.typescript.prisma import PrismaCall
    from tenantlint.frontends.typescript.syntax import Source

_PROCEDURES = frozenset({"query", "mutation", "subscription", "action"})
# a call before the site that checks a value: `checkAuthorization({ organizationId })` over
# `getOrganizationIdFromApiKeyId(parsedInput.id)`
_CHECK_CALL = re.compile(
    r"(?i)(?:check|authori[sz]|assert|verify|ensure|permission|access|IdFrom)\w*\s*\("
)
_COMPARE = re.compile(r"[!=]==?")
_MEMBER = re.compile(r"([A-Za-z_$][\w$]*)\s*\??\.\s*([A-Za-z_$][\w$]*)")
_REQUEST_BYTES = re.compile(REQUEST_SOURCE.pattern.encode())
# a byte each REQUEST_SOURCE alternative needs: a file with none of them reads no request
_REQUEST_TOKENS = (
    b"body",
    b"query",
    b"param",
    b"Param",
    b"cookies",
    b"json",
    b"formData",
    b"headers",
)
_EXTENSION = re.compile(r"\.(?:[cm]?[jt]sx?|d\.ts)$")
_PAST = ("await_expression", "parenthesized_expression", "as_expression", "non_null_expression")


def module_key(path: str) -> str:
    """A module's name in callee names: its path without the extension."""
    return _EXTENSION.sub("", path)


def named_function(node: Node) -> tuple[str, Node] | None:
    """The innermost named function around `node` and its name (`QuerySite.function`)."""
    for fn in enclosing_functions(node):
        name = function_name(fn)
        if name:
            return name, fn
    return None


def entry_inputs(fn: Node) -> set[str]:
    """The request input an entry-point callback destructures: a next-safe-action action's
    `({ ctx, parsedInput }) => …`, a tRPC procedure's `.query(({ ctx, input }) => …)`."""
    params = fn.child_by_field_name("parameters")
    first = (
        next((c for c in params.named_children if c.type != "comment"), None) if params else None
    )
    pattern = first.child_by_field_name("pattern") if first is not None else None
    if pattern is None or pattern.type != "object_pattern":
        return set()
    names = {
        text(c) for c in pattern.named_children if c.type == "shorthand_property_identifier_pattern"
    }
    if "parsedInput" in names:
        return {"parsedInput"}
    call = parent_past(fn, ("arguments",))
    for _ in range(2):  # `.query(withX(async ({ input }) => …))`
        if call is None or call.type != "call_expression":
            break
        if callee_name(call) in _PROCEDURES and "input" in names:
            return {"input"}
        call = parent_past(call, ("arguments",))
    return set()


def _entry_label(fn: Node) -> str:
    """The name an entry-point callback is exported or registered under."""
    parent = fn.parent
    while parent is not None and parent.type not in ("variable_declarator", "pair", "program"):
        parent = parent.parent
    key = None
    if parent is not None and parent.type != "program":
        key = parent.child_by_field_name("name") or parent.child_by_field_name("key")
    return text(key) if key is not None else "<entry point>"


def query_params(p: PrismaCall) -> tuple[str, ...]:
    """The parameters of the query's named function that its filter reads, directly or
    through a local destructured or copied from one (`const { envelopeId } = payload`)."""
    found = named_function(p.call)
    if found is None or p.where is None:
        return ()
    fn = found[1]
    names = p.src.index(("params", fn.id), lambda: parameter_names(fn))
    copies = p.src.index(("param copies", fn.id), lambda: _param_copies(p.src, fn, names))
    roots = {root_identifier(value) for _, value in p.where.values}
    return tuple(sorted({copies.get(r, r) for r in roots if r in names or r in copies}))


def _param_copies(src: Source, fn: Node, params: set[str]) -> dict[str, str]:
    """The function's locals destructured or copied from a parameter, to that parameter
    (`const { envelopeId } = payload` → `payload`), once per function."""
    declarators = src.declarators
    starts = src.index("declarator starts", lambda: [d.start_byte for d in declarators])
    lo, hi = bisect_left(starts, fn.start_byte), bisect_left(starts, fn.end_byte)
    out: dict[str, str] = {}
    for decl in declarators[lo:hi]:
        name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
        source = root_identifier(value) if value is not None else None
        if name is not None and source in params:
            for bound in pattern_names(name):
                out.setdefault(bound, source)
    return out


class CallFacts:
    """Summaries and call sites of one module."""

    def __init__(
        self,
        src: Source,
        tenant_fields: tuple[str, ...],
        request_source: Callable[[Node], str | None],
        module_functions: dict[str, Node],
        imports: list[Node],
    ) -> None:
        self.src = src
        self.module = module_key(src.path)
        self.fields = frozenset(tenant_fields)
        self.request_source = request_source
        # a file that reads no request value (no route params, body, query, form) has none to
        # pass on: its functions' request sources need not be traced at all
        self.reads_request = route_of(src.path) is not None or (
            any(t in src.data for t in _REQUEST_TOKENS)
            and _REQUEST_BYTES.search(src.data) is not None
        )
        self.module_functions = module_functions
        self.imports = self._imports(imports)

    def collect(
        self, plain_calls: list[Node], queries: list[QuerySite], handlers: set[str]
    ) -> tuple[list[FunctionSummary], list[CallSite]]:
        calls: list[CallSite] = []
        forwarding: set[str] = set()
        authorised: dict[int, set[str]] = {}  # function → values a checked call was given
        for ident in sorted(plain_calls, key=lambda n: n.start_byte):
            call = ident.parent
            callee = self._callee(text(ident))
            found = self._caller(call) if call is not None and callee is not None else None
            if call is None or callee is None or found is None:
                continue
            label, fn, inputs = found
            done = authorised.setdefault(fn.id, set())
            args = self._args(call, fn, inputs, done)
            checked = bool(args) and self._checked(call, fn)
            if checked:  # fetch, then authorise: the values it was given are checked after it
                done.update(text(a) for a in call_args(call))
            calls.append(
                CallSite(
                    loc=self.src.loc(call),
                    callee=callee,
                    function=label,
                    args=tuple(args),
                    checked=checked,
                    entry=bool(inputs) or label in handlers,
                )
            )
            if any(a.param for a in args):
                forwarding.add(label)
        sinks: dict[str, list[QuerySite]] = {}
        for q in queries:
            if q.params and q.function is not None and q.function not in handlers:
                sinks.setdefault(q.function, []).append(q)
        summaries = []
        for label in sorted(set(sinks) | forwarding):
            bound = self.module_functions.get(label)
            target = _wrapped(unwrap(bound)) if bound is not None else None
            if target is None or target.type not in _FUNCTIONS:
                continue
            # an entry point's queries are judged where they are: its input is the request's
            entry = label in handlers or bool(entry_inputs(target))
            summaries.append(
                FunctionSummary(
                    name=f"{self.module}#{label}",
                    label=label,
                    params=_params(target),
                    handler=entry,
                    sinks=() if entry else tuple(sinks.get(label, ())),
                    loc=self.src.loc(target),
                )
            )
        return summaries, calls

    def _imports(self, statements: list[Node]) -> dict[str, str]:
        """Local name → `<module>#<imported name>` of every import statement."""
        out: dict[str, str] = {}
        for stmt in statements:
            source = stmt.child_by_field_name("source")
            spec = string_value(source) if source is not None else None
            if spec is None:
                continue
            module = spec
            if spec.startswith("."):
                module = posixpath.normpath(posixpath.join(posixpath.dirname(self.src.path), spec))
                module = module_key(module)
            clause = next((c for c in stmt.named_children if c.type == "import_clause"), None)
            for part in clause.named_children if clause is not None else ():
                if part.type == "identifier":
                    out[text(part)] = f"{module}#default"
                elif part.type == "named_imports":
                    for s in part.named_children:
                        name, alias = s.child_by_field_name("name"), s.child_by_field_name("alias")
                        if name is not None:
                            out[text(alias or name)] = f"{module}#{text(name)}"
        return out

    def callee(self, name: str) -> str | None:
        """The qualified name of a project function this module calls by `name`, if any."""
        return self._callee(name)

    def _callee(self, name: str) -> str | None:
        if name in self.imports:
            return self.imports[name]
        return f"{self.module}#{name}" if name in self.module_functions else None

    def _args(self, call: Node, fn: Node, inputs: set[str], done: set[str]) -> list[CallArg]:
        params = self.src.index(("params", fn.id), lambda: parameter_names(fn)) - inputs
        checks: list[tuple[int, str]] | None = None  # read when an argument needs them
        before = ""
        out: list[CallArg] = []
        for i, arg in enumerate(call_args(call)):
            arg = unwrap(arg)
            pairs: list[tuple[str | None, Node]] = [(None, arg)]
            if arg.type == "object":
                pairs = []
                for pair in arg.named_children:
                    if pair.type == "shorthand_property_identifier":
                        pairs.append((text(pair), pair))
                    elif pair.type == "pair":
                        k, v = pair.child_by_field_name("key"), pair.child_by_field_name("value")
                        if k is not None and v is not None:
                            pairs.append((string_value(k) or text(k), v))
            for key, value in pairs:
                root = root_identifier(value)
                source = (self.request_source(value) if self.reads_request else None) or (
                    f"the input of `{_entry_label(fn)}`" if root in inputs else None
                )
                root = root if source is None else None
                if source is None and (root is None or root not in params):
                    continue  # neither the request's nor a parameter: the caller's own value
                if text(value) in done:
                    continue
                if checks is None:
                    checks = self._checks(fn)
                    if checks:  # only a function with checking calls needs its text up to here
                        before = self.src.data[fn.start_byte : call.start_byte].decode(
                            "utf-8", "replace"
                        )
                if checks and _checked(before, checks, text(value)):
                    continue
                out.append(CallArg(index=i, key=key, source=source, param=root))
        return out

    def _caller(self, call: Node) -> tuple[str, Node, set[str]] | None:
        """`_caller`, once per innermost function (every call in it has the same answer)."""
        inner = enclosing_function(call)
        if inner is None:
            return None
        return self.src.index(("caller", inner.id), lambda: _caller(call))

    def _checks(self, fn: Node) -> list[tuple[int, str]]:
        """The checking calls of a function, once per function: (offset, argument text up to
        the statement's end), offsets within the function's text."""

        def build() -> list[tuple[int, str]]:
            body = self.src.data[fn.start_byte : fn.end_byte].decode("utf-8", "replace")
            out = []
            for m in _CHECK_CALL.finditer(body):
                end = body.find(";", m.end())
                out.append((m.start(), body[m.end() : end if end >= 0 else len(body)]))
            return out

        return self.src.index(("checks", fn.id), build)

    def _checked(self, call: Node, fn: Node) -> bool:
        """`const doc = await getDoc(id); if (doc.teamId !== teamId) …`: the result's tenant is
        compared after the call (fetch-then-authorise, PRECISION 2)."""
        decl = parent_past(call, _PAST)
        name = decl.child_by_field_name("name") if decl is not None else None
        if decl is None or decl.type != "variable_declarator" or name is None:
            return False
        if name.type != "identifier":
            return False
        after = self.src.data[call.end_byte : fn.end_byte].decode("utf-8", "replace")
        var = text(name)
        owner = None
        for m in _MEMBER.finditer(after):
            if m[1] != var:
                continue
            if m[2] in self.fields:
                return True
            if m[2].endswith("Id"):
                # its owner compared: `if (survey.workspaceId !== segment.workspaceId)`
                if _COMPARE.search(after, max(0, m.start() - 60), m.end() + 60):
                    return True
                owner = m.end() if owner is None else owner
        # its owner's id read, then a check: `getOrgIdFromWorkspaceId(key.workspaceId)`
        return owner is not None and _CHECK_CALL.search(after, owner) is not None


def _caller(call: Node) -> tuple[str, Node, set[str]] | None:
    """The function a call is made from, its label, and the request input it destructures if it
    is an entry-point callback."""
    for fn in enclosing_functions(call):
        inputs = (
            entry_inputs(fn)
            if fn.type == "arrow_function" or fn.type == "function_expression"
            else set()
        )
        if inputs:
            return _entry_label(fn), fn, inputs
        name = function_name(fn)
        if name:
            return name, fn, set()
    return None


def _checked(before: str, checks: list[tuple[int, str]], value: str) -> bool:
    """Whether the function checks the value: a checking call over it anywhere in the function
    (`checkAuthorization({ organizationId: await getOrgIdFromSurveyId(input.surveyId) })`,
    before the call or after a read whose result it guards), or a use of it earlier and a check
    after that use (fetch, authorise the owner, then act)."""
    if any(_find_word(args, value) >= 0 for _, args in checks):
        return True
    first = _find_word(before, value)
    return first >= 0 and any(first <= at < len(before) for at, _ in checks)


def _find_word(haystack: str, word: str) -> int:
    """The end of the first whole-word occurrence of `word`, or -1 (no regex: values vary)."""
    start = haystack.find(word)
    while start >= 0:
        end = start + len(word)
        before = haystack[start - 1] if start else " "
        after = haystack[end] if end < len(haystack) else " "
        if not (before.isalnum() or before in "_$.") and not (after.isalnum() or after in "_$"):
            return end
        start = haystack.find(word, start + 1)
    return -1


_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "arrow_function",
        "generator_function_declaration",
    }
)


def _wrapped(value: Node) -> Node:
    """The function a module binding holds: itself, or a wrapper call's last argument
    (`reactCache(async (id) => …)`)."""
    if value.type == "call_expression":
        args = call_args(value)
        if args and unwrap(args[-1]).type in _FUNCTIONS:
            return unwrap(args[-1])
    return value


def _params(fn: Node) -> tuple[Param, ...]:
    """The parameters by position, an object pattern's bindings by key (`{ id, teamId }`)."""
    single = fn.child_by_field_name("parameter")
    if single is not None:
        return (Param(name=text(single), index=0),)
    params = fn.child_by_field_name("parameters")
    out: list[Param] = []
    children = [c for c in params.named_children if c.type != "comment"] if params else []
    for i, child in enumerate(children):
        pattern = child.child_by_field_name("pattern") or child
        if pattern.type == "assignment_pattern":
            pattern = pattern.child_by_field_name("left") or pattern
        if pattern.type == "identifier":
            out.append(Param(name=text(pattern), index=i))
        elif pattern.type == "object_pattern":
            for prop in pattern.named_children:
                if prop.type == "shorthand_property_identifier_pattern":
                    out.append(Param(name=text(prop), index=i, key=text(prop)))
                elif prop.type == "object_assignment_pattern":
                    left = prop.child_by_field_name("left")
                    if left is not None:
                        out.append(Param(name=text(left), index=i, key=text(left)))
                elif prop.type == "pair_pattern":
                    key, value = prop.child_by_field_name("key"), prop.child_by_field_name("value")
                    if key is not None and value is not None and value.type == "identifier":
                        out.append(Param(name=text(value), index=i, key=text(key)))
    return tuple(out)
