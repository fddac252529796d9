"""The analysis of one TypeScript/JavaScript file that passed the prefilter: Prisma queries and
their guard patterns, raw SQL and the settings it writes, whether a site runs inside the RLS
wrapper, handlers and the request values that reach a tenant filter.

Every node it needs comes from one compiled query over the tree (`_main_query`); the facts of how
the file sets tenancy up (clients, flags, fallbacks, middleware) come from `tenancy`, the guard
patterns of the queries from `guards`, and where a site runs (wrapper, transaction, a handler's
reach) from `reach` — both answer every site from indexes built once per file, so the work stays
linear in the number of sites.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from tenantlint.config import Config
from tenantlint.facts import (
    Comment,
    ContextProvider,
    FileFacts,
    Handler,
    ParseError,
    QuerySite,
    RawSqlSite,
    RequestTenant,
    SettingWrite,
)
from tenantlint.frontends.typescript.calls import CallFacts, query_params
from tenantlint.frontends.typescript.grammar import captures
from tenantlint.frontends.typescript.guards import GuardPatterns
from tenantlint.frontends.typescript.reach import Positions, Reach
from tenantlint.frontends.typescript.tenancy import TenancyFacts

if TYPE_CHECKING:
    from tree_sitter import Node

    from tenantlint.frontends.typescript.prisma import PrismaCall
    from tenantlint.frontends.typescript.routes import RequestTrace
    from tenantlint.frontends.typescript.sql import RawCall
    from tenantlint.frontends.typescript.syntax import Source

# calls that authenticate the request, by their name (a hint for the report, never context)
_AUTH_NAME = re.compile(
    r"(?i)auth|session|api_?(?:key|token)|permission|access|current_?user|require_?user|get_?user"
)
_MEMBERSHIP = re.compile(r"(?i)user|member|owner")


_TRPC_CALL = re.compile(r"\b(createCaller|createCallerFactory|useUtils|useContext|createTRPC\w*)\b")
_TRPC_IMPORT = re.compile(
    rb"""import\s+(?:\{([^}]*)\}|(\w+))\s+from\s+['"][^'"]*trpc[^'"]*['"]""", re.IGNORECASE
)


class Analysis(TenancyFacts):
    """Facts of one parsed file that passed the prefilter."""

    def __init__(self, src: Source, config: Config) -> None:
        from tenantlint.frontends.typescript.sql import SqlSites

        self.src = src
        self.config = config
        self.sql = SqlSites(src)
        self.wrappers = set(config.rls_wrappers)
        self.resolvers = set(config.tenant_resolvers)
        self.guards = set(config.guards)
        self.prisma: list[PrismaCall] = []
        self.raw: list[RawCall] = []
        self.named_calls: list[Node] = []  # calls whose callee name is a configured name
        self.router_calls: list[Node] = []
        self._traces: dict[int, RequestTrace] = {}
        self._plain_calls: list[Node] = []  # the callee identifiers of every `f(…)` call

    # --- collection ------------------------------------------------------------------------

    def facts(self, comments: tuple[Comment, ...], errors: tuple[ParseError, ...]) -> FileFacts:
        from tenantlint.frontends.typescript.prisma import OPERATIONS, PrismaCall
        from tenantlint.frontends.typescript.routes import ROUTER_METHODS
        from tenantlint.frontends.typescript.syntax import callee_name, text, unwrap

        configured = self.wrappers | self.resolvers | self.guards | set(self.config.scope_helpers)
        names = {*OPERATIONS, "$queryRaw", "$executeRaw", "$queryRawUnsafe", "$executeRawUnsafe", "raw", "query",
                 "execute", "unsafe", *ROUTER_METHODS, *configured}  # fmt: skip
        caps = captures(
            self.src, _main_query(tuple(sorted(names)), tuple(self.config.tenancy_flags))
        )
        # one traversal of the tree: the binding index and the call list come from it too
        self.src.use_declarators(_unique(caps.get("decl", [])))
        self._plain_calls = caps.get("plain", [])
        for call in _unique(caps.get("call", []) + caps.get("tagged", [])):
            name = callee_name(call) or ""
            if name in configured:
                self.named_calls.append(call)
            raw = self.sql.recognise(call)
            if raw is not None:
                self.raw.append(raw)
                continue
            fn = unwrap(call.child_by_field_name("function") or call)
            if name in OPERATIONS and fn.type == "member_expression":
                obj = unwrap(fn.child_by_field_name("object") or fn)
                prop = (
                    obj.child_by_field_name("property") if obj.type == "member_expression" else None
                )
                if prop is not None and not text(prop).startswith("$") and self._client(obj):
                    self.prisma.append(PrismaCall(self.src, self.config, call, text(prop), name))
            elif name in ROUTER_METHODS and fn.type == "member_expression":
                self.router_calls.append(call)
        self.reach = Reach(self.src, self.wrappers, self._plain_calls, self.raw)
        guards = self.guards_of = GuardPatterns(self.src, self.config, self.prisma)
        queries = [self._query_site(p, guards) for p in self.prisma]
        raw_sites = [self._raw_site(r) for r in self.raw]
        self.call_facts = self._call_facts(caps.get("import", []))
        handlers = self._handlers()
        functions, calls = self.call_facts.collect(
            self._plain_calls, queries, {h.name for h in handlers}
        )
        return FileFacts(
            path=self.src.path,
            frontend="typescript",
            comments=comments,
            parse_errors=errors,
            queries=tuple(queries),
            raw_sql=tuple(s for s, _ in raw_sites),
            settings=tuple(w for _, ws in raw_sites for w in ws),
            handlers=tuple(handlers),
            request_tenants=tuple(self._request_tenants()),
            clients=tuple(self._clients(_unique(caps.get("new", [])))),
            guard_defined=self._guard_defined(),
            guard_targets=self._guard_targets(),
            flags=tuple(
                self._flags(_unique(caps.get("flag", [])), _unique(caps.get("envpattern", [])))
            ),
            fallbacks=tuple(
                self._fallbacks(_unique(caps.get("fallback", [])), _unique(caps.get("default", [])))
            ),
            extra=self._middleware(),
            functions=tuple(functions),
            calls=tuple(calls),
            context_providers=tuple(self._context_providers()),
        )

    # --- where a site runs ------------------------------------------------------------------

    def _client(self, delegate: Node) -> bool:
        """Whether `<receiver>.<delegate>` can be a Prisma client's model: not when the receiver
        is a tRPC caller or client (`caller.tag.update(…)`, `api.post.byId.useQuery`): bound to
        `createCaller(…)`/`useUtils()`, or imported from a module named like tRPC (PRECISION 15)."""
        from tenantlint.frontends.typescript.syntax import root_identifier, text, unwrap

        receiver = delegate.child_by_field_name("object")
        root = root_identifier(receiver) if receiver is not None else None
        if root is None:
            return True
        if root in self.src.index("trpc-imports", self._trpc_imports):
            return False
        ident = unwrap(receiver) if receiver is not None else None
        value = (
            self.src.resolve(ident) if ident is not None and ident.type == "identifier" else None
        )
        return value is None or _TRPC_CALL.search(text(value)) is None

    def _trpc_imports(self) -> frozenset[str]:
        names: set[str] = set()
        for m in _TRPC_IMPORT.finditer(self.src.data):
            names |= {n.split(b" as ")[-1].strip().decode() for n in (m[1] or m[2]).split(b",")}
        return frozenset(n for n in names if n)

    def _receiver_scoping(self, receiver: Node | None) -> tuple[bool, bool]:
        """(rls_scoped, bypass_rls) of a client bound by `const db = prisma.$extends(forTenant(id))`."""
        from tenantlint.frontends.typescript.syntax import text, unwrap

        if receiver is None:
            return False, False
        receiver = unwrap(receiver)
        value = self.src.resolve(receiver) if receiver.type == "identifier" else None
        if value is None:
            return False, False
        bound = text(value)
        if re.search(r"(?i)bypass_?rls", bound):
            return False, True
        return bool(self.wrappers) and _call_of(tuple(sorted(self.wrappers))).search(
            bound
        ) is not None, False

    def _function_label(self, node: Node) -> str | None:
        from tenantlint.frontends.typescript.syntax import enclosing_functions, function_name

        return next((n for n in (function_name(f) for f in enclosing_functions(node)) if n), None)

    # --- Prisma queries ---------------------------------------------------------------------

    def _query_site(self, p: PrismaCall, guards: GuardPatterns) -> QuerySite:
        from tenantlint.frontends.typescript.syntax import unwrap

        fn = unwrap(p.call.child_by_field_name("function") or p.call)
        obj = unwrap(fn.child_by_field_name("object") or fn)
        receiver = obj.child_by_field_name("object")
        scoped, bypass = self._receiver_scoping(receiver)
        where, data = p.where, p.data
        return QuerySite(
            loc=self.src.loc(p.call),
            orm="prisma",
            model=p.delegate,
            operation=p.operation,
            action=p.action,
            where=where.predicate() if where is not None else None,
            data=data.predicate() if data is not None else None,
            rls_scoped=scoped or self.reach.in_wrapper(p.call),
            bypass_rls=bypass,
            guarded_by=guards.of(p),
            pass_through=p.args_pass_through or bool(where and where.pass_through),
            function=self._function_label(p.call),
            params=query_params(p),
        )

    def _call_facts(self, imports: list[Node]) -> CallFacts:
        from tenantlint.frontends.typescript.routes import module_functions

        return CallFacts(
            self.src,
            self.config.tenant_fields,
            self._request_source,
            module_functions(self.src),
            _unique(imports),
        )

    def _context_providers(self) -> list[ContextProvider]:
        """The module's functions that establish the tenant for what they wrap or serve: they
        check the caller's membership (`workspaceMember.findFirst({ where: { userId, … } })`)
        or call a configured resolver or guard (PRECISION 12)."""
        from tenantlint.frontends.typescript.syntax import (
            call_name,
            enclosing_functions,
            function_name,
        )

        context_names = self.resolvers | self.guards
        sites = [p.call for p in self.prisma if _membership(p)]
        sites += [c for c in self.named_calls if call_name(c) in context_names]
        names: set[str] = set()
        for site in sites:
            outer = list(enclosing_functions(site))
            name = function_name(outer[-1]) if outer else None
            if name:
                names.add(name)
        return [ContextProvider(name=f"{self.call_facts.module}#{n}") for n in sorted(names)]

    # --- raw SQL and settings -----------------------------------------------------------------

    def _raw_site(self, r: RawCall) -> tuple[RawSqlSite, list[SettingWrite]]:
        from tenantlint.sqlanalysis import analyse_sql

        parsed, statements = (False, ()) if r.text.sql is None else analyse_sql(r.text.sql)
        fn = r.node.child_by_field_name("function")
        receiver = (
            fn.child_by_field_name("object")
            if fn is not None and fn.type == "member_expression"
            else None
        )
        scoped, _ = self._receiver_scoping(receiver)
        in_wrapper = scoped or self.reach.in_wrapper(r.node)
        loc = self.src.loc(r.node)
        site = RawSqlSite(
            loc=loc,
            api=r.api,
            sql=r.text.sql,
            parsed=parsed,
            statements=statements,
            injection=r.injection,
            rls_scoped=in_wrapper,
            fragment=r.fragment,
            function=self._function_label(r.node),
        )
        writes = [w for s in statements for w in s.settings_written]
        if not writes:
            return site, []
        in_tx = self.reach.in_transaction(r.node)
        label = self._function_label(r.node)
        return site, [
            w.model_copy(
                update={
                    "loc": loc,
                    "in_wrapper": in_wrapper,
                    "in_transaction": in_tx,
                    "function": label,
                }
            )
            for w in writes
        ]

    # --- handlers and request values --------------------------------------------------------------

    def _handlers(self) -> list[Handler]:
        from tenantlint.frontends.typescript.routes import find_handlers
        from tenantlint.frontends.typescript.syntax import call_name, text

        prisma = Positions(self.prisma, lambda p: p.call.start_byte)
        raw_calls = Positions(self.raw, lambda r: r.node.start_byte)
        named_calls = Positions(self.named_calls, lambda c: c.start_byte)
        context_names = self.resolvers | self.guards
        out: list[Handler] = []
        for h in find_handlers(self.src, self.router_calls):
            within = self.reach.functions_reached(h.body)
            auth = [w for w in h.wrapped_by if _AUTH_NAME.search(w)]
            auth += [t for f in self.reach.plain.within(within) if _AUTH_NAME.search(t := text(f))]
            # a lookup of a row's tenant or owner ids only (to authorise) touches no tenant data
            models = sorted(
                {
                    p.delegate
                    for p in prisma.within(within)
                    if self.guards_of.of(p) != "tenant-lookup"
                }
            )
            raw = any(not r.fragment for r in raw_calls.within(within))
            context = next((w for w in h.wrapped_by if w in context_names), None)
            # what wraps it or what it calls, through the imports: the map resolves them to
            # other modules' context providers (`withWorkspace`, `requireMember`)
            callees = [*h.wrapped_by, *(text(f) for f in self.reach.plain.within(within))]
            refs = sorted({r for n in callees if (r := self.call_facts.callee(n)) is not None})
            if context is None:
                context = next(
                    (n for c in named_calls.within(within) if (n := call_name(c)) in context_names),
                    None,
                )
            out.append(
                Handler(
                    loc=self.src.loc(_first_line(h.node)),
                    framework=h.framework,
                    name=h.name,
                    route=h.route,
                    methods=h.methods,
                    tenant_context=context,
                    models=tuple(models),
                    raw_sql=raw,
                    auth_hint=auth[0] if auth else None,
                    context_refs=tuple(refs),
                )
            )
        return out

    def _trace(self, fn: Node) -> RequestTrace:
        from tenantlint.frontends.typescript.routes import RequestTrace

        key = fn.start_byte
        if key not in self._traces:
            self._traces[key] = RequestTrace(self.src, fn, self.config.trusted_tenant_headers)
        return self._traces[key]

    def _request_source(self, value: Node) -> str | None:
        from tenantlint.frontends.typescript.syntax import enclosing_functions

        for fn in enclosing_functions(value):
            found = self._trace(fn).source_in(value)
            if found is not None:
                return found
        return None

    def _request_tenants(self) -> Iterable[RequestTenant]:
        from tenantlint.frontends.typescript.syntax import call_args, call_name, text

        fields = set(self.config.tenant_fields)
        for p in self.prisma:
            for side, ev in (("where-clause", p.where), ("create data", p.data)):
                if ev is None or any(_MEMBERSHIP.search(k) for k in ev.keys):
                    continue  # a membership filter verifies the requested tenant
                for key, value in ev.values:
                    last = key.rsplit(".", 1)[-1]
                    if last in fields or fields & set(last.split("_")):
                        source = self._request_source(value)
                        if source is not None:
                            yield RequestTenant(loc=self.src.loc(value), source=source, sink=side)
        sinks = self.wrappers | set(self.config.scope_helpers)
        for call in self.named_calls:
            name = call_name(call)
            args = call_args(call) if name in sinks else []
            if args and _MEMBERSHIP.search(text(args[0])):
                continue  # the helper is given the user too: it checks the membership
            source = self._request_source(args[0]) if args else None
            if source is not None:
                yield RequestTenant(
                    loc=self.src.loc(args[0]), source=source, sink=f"{name} argument"
                )


_MEMBER_MODEL = re.compile(r"(?i)member")
_USER_KEY = re.compile(r"(?i)(?:^|\.)user(?:_?id)?$|(?:^|\.)user\.id$")


def _membership(p: PrismaCall) -> bool:
    """A read of the caller's membership: a member model filtered by the user."""
    keys = p.where.keys if p.where is not None else set()
    return (
        p.action == "read"
        and _MEMBER_MODEL.search(p.delegate) is not None
        and any(_USER_KEY.search(k) for k in keys)
    )


@cache
def _call_of(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\s*\(")


def _first_line(node: Node) -> Node:
    """Report an `export async function GET` at its name, a registration at its call."""
    decl = node.child_by_field_name("declaration")
    if decl is not None:
        name = decl.child_by_field_name("name")
        if name is not None:
            return name
    return node


def _unique(nodes: list[Node]) -> list[Node]:
    seen: dict[tuple[int, int], Node] = {}
    for n in nodes:
        seen.setdefault((n.start_byte, n.end_byte), n)
    return sorted(seen.values(), key=lambda n: n.start_byte)


@cache
def _main_query(names: tuple[str, ...], flags: tuple[str, ...]) -> str:
    quoted = " ".join(f'"{n}"' for n in names)
    flag_list = " ".join(f'"{f}"' for f in flags) or '"__none__"'
    return f"""
(call_expression function: [(identifier) @n (member_expression property: (property_identifier) @n)]
  (#any-of? @n {quoted})) @call
(call_expression function: (identifier) arguments: (template_string)) @tagged
(new_expression constructor: (identifier) @ctor (#eq? @ctor "PrismaClient")) @new
(member_expression object: (member_expression object: (identifier) @p property: (property_identifier) @e)
  property: (property_identifier) @fl (#eq? @p "process") (#eq? @e "env") (#any-of? @fl {flag_list})) @flag
(subscript_expression object: (member_expression object: (identifier) @p2 property: (property_identifier) @e2)
  (#eq? @p2 "process") (#eq? @e2 "env")) @flag
(variable_declarator name: (object_pattern) @envpattern value: (member_expression) @ev (#eq? @ev "process.env"))
(binary_expression operator: ["??" "||"]) @fallback
(object_assignment_pattern) @default
(assignment_pattern) @default
(variable_declarator name: (_) value: (_)) @decl
(call_expression function: (identifier) @plain)
(program (import_statement) @import)
"""
