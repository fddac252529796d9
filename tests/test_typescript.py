"""The TypeScript front end on small snippets: exact facts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantlint.config import Config
from tenantlint.facts import FileFacts, Predicate
from tenantlint.frontends.typescript import TypeScriptFrontEnd

FE = TypeScriptFrontEnd()


def facts(code: str, path: str = "lib/x.ts", **config: object) -> FileFacts:
    return FE.parse(
        path, code, Config.model_validate({k.replace("_", "-"): v for k, v in config.items()})
    )


def where(code: str) -> list[tuple[str, Predicate | None]]:
    return [(q.operation, q.where) for q in facts(code).queries]


def test_where_keys_shorthand_compound_relation_and_or() -> None:
    code = """
    prisma.project.findMany({ where: { tenantId, archived: false } });
    prisma.project.findUnique({ where: { tenantId_id: { tenantId, id } } });
    db.task.findFirst({ where: { id, project: { is: { tenantId } }, NOT: { tenantId: x } } });
    ctx.prisma.task.count({ where: { AND: [{ tenantId }, { done: true }] } });
    this.prisma.task.findMany({ where: { OR: [{ tenantId, a: 1 }, { tenantId, b: 2 }] } });
    tx.task.findMany({ where: { OR: [{ tenantId }, { slug }] } });
    prisma.task.findMany({ where: { title: { contains: q } } });
    """
    assert where(code) == [
        ("findMany", Predicate(keys=("archived", "tenantId"))),
        ("findUnique", Predicate(keys=("tenantId_id", "tenantId_id.id", "tenantId_id.tenantId"))),
        ("findFirst", Predicate(keys=("id", "project", "project.tenantId"))),
        ("count", Predicate(keys=("done", "tenantId"))),
        ("findMany", Predicate(keys=("tenantId",))),
        ("findMany", Predicate(keys=())),
        ("findMany", Predicate(keys=("title",))),
    ]


def test_helpers_consts_and_unknowns() -> None:
    code = """
    const base = { tenantId };
    function f(where) {
      prisma.a.findMany({ where: { ...tenantFilter(t), id } });
      prisma.a.findMany({ where: tenantFilter(t) });
      prisma.a.findMany({ where: { ...base, id } });
      prisma.a.findMany({ where: build() });
      const { scoped } = await tenantFilter(t);
      prisma.a.findMany({ where: scoped });
      prisma.a.findMany({ where });
      prisma.a.findMany();
    }
    """
    sites = facts(code).queries
    assert [(q.where, q.pass_through) for q in sites] == [
        (Predicate(keys=("id",), helpers=("tenantFilter",)), False),
        (Predicate(helpers=("tenantFilter",)), False),
        (Predicate(keys=("id", "tenantId")), False),
        (Predicate(unknown=True), False),
        (Predicate(helpers=("tenantFilter",)), False),
        (Predicate(unknown=True), True),
        (None, False),
    ]


def test_create_data_and_actions() -> None:
    code = """
    prisma.a.create({ data: { name, tenant: { connect: { id: t } } } });
    prisma.a.createMany({ data: [{ tenantId, n: 1 }, { n: 2 }] });
    prisma.a.upsert({ where: { id }, update: {}, create: { tenantId, id } });
    """
    got = [(q.action, q.data, q.where) for q in facts(code).queries]
    assert got == [
        ("create", Predicate(keys=("name", "tenant", "tenant.connect", "tenant.connect.id")), None),
        ("create", Predicate(keys=("n",)), None),
        ("upsert", Predicate(keys=("id", "tenantId")), Predicate(keys=("id",))),
    ]


def test_precision_patterns_are_recorded() -> None:
    code = """
    async function checkThenAct(tenantId, id) {
      const row = await prisma.doc.findFirst({ where: { id, tenantId } });
      await prisma.doc.update({ where: { id: row.id }, data: {} });
    }
    async function fetchThenAuthorise(tenantId, id) {
      const doc = await prisma.doc.findUnique({ where: { id } });
      if (doc.tenantId !== tenantId) throw new Error();
    }
    async function derived(tenantId, slug) {
      return prisma.doc.findUnique({ where: { id: makeId(tenantId, slug) } });
    }
    async function plain(id) {
      return prisma.doc.delete({ where: { id } });
    }
    """
    assert [q.guarded_by for q in facts(code).queries] == [
        None,
        "check-then-act",
        "fetch-then-authorise",
        "tenant-derived-id",
        None,
    ]


def test_more_precision_patterns() -> None:
    code = """
    async function rowInHand(envelope) {
      await prisma.envelope.update({ where: { id: envelope.id }, data: {} });
      await prisma.envelope.findFirst({ where: { id: recipient.envelopeId } });
    }
    async function idsOfRows(rows) {
      const ids = rows.map((row) => row.id);
      return prisma.envelope.findMany({ where: { id: { in: ids } } });
    }
    async function ancestors(teamId, id) {
      const folder = await prisma.folder.findFirst({ where: { id, teamId } });
      let parentId = folder.parentId;
      return prisma.folder.findUnique({ where: { id: parentId } });
    }
    async function authorise(id) {
      return prisma.survey.findUnique({ where: { id }, select: { tenantId: true } });
    }
    async function mine(ctx) {
      return prisma.teamEmail.findUnique({ where: { email: ctx.user.email } });
    }
    async function taken(email) {
      const existing = await prisma.teamEmail.findFirst({ where: { email } });
      if (existing) throw new Error("taken");
    }
    """
    assert [q.guarded_by for q in facts(code).queries] == [
        "row-in-hand",
        "row-in-hand",
        "row-in-hand",
        None,
        "check-then-act",
        "tenant-lookup",
        "caller-identity",
        "existence-check",
    ]


def test_rls_wrapper_scope_and_settings() -> None:
    code = """
    export async function withTenantRLS(tenantId, fn) {
      return prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT set_config('app.current_tenant_id', ${tenantId}, true)`;
        return fn(tx);
      });
    }
    withTenantRLS(id, (tx) => tx.task.findMany());
    const scoped = prisma.$extends(forTenant(id));
    scoped.task.findMany();
    prisma.task.findMany();
    function onlyInWrapper(tx) { return tx.$queryRaw`SELECT * FROM tasks`; }
    withTenantRLS(id, (tx) => onlyInWrapper(tx));
    function alsoOutside(db) { return db.task.count(); }
    withTenantRLS(id, (tx) => alsoOutside(tx));
    alsoOutside(prisma);
    """
    f = facts(code, rls_wrappers=["withTenantRLS", "forTenant"])
    assert [q.rls_scoped for q in f.queries] == [True, True, False, False]
    assert [r.rls_scoped for r in f.raw_sql] == [True, True]
    assert [
        (s.setting, s.local, s.in_transaction, s.in_wrapper, s.function) for s in f.settings
    ] == [("app.current_tenant_id", True, True, True, "withTenantRLS")]
    assert (f.raw_sql[0].api, f.raw_sql[0].sql) == (
        "$executeRaw",
        "SELECT set_config('app.current_tenant_id', $1, true)",
    )


def test_raw_sql_text_and_injection() -> None:
    code = """
    import { Pool } from "pg";
    prisma.$queryRaw`SELECT * FROM tasks WHERE id = ${id} AND x = ${y}`;
    prisma.$queryRawUnsafe(`SELECT * FROM tasks WHERE id = '${id}'`);
    prisma.$queryRawUnsafe("SELECT * FROM tasks WHERE id = $1", id);
    pool.query("SELECT * FROM tasks WHERE name = '" + name + "'");
    prisma.$queryRaw(Prisma.sql`SELECT 1 FROM tasks ${Prisma.raw(order)}`);
    const q = Prisma.raw(userInput);
    """
    got = [(r.api, r.sql, r.injection, r.fragment) for r in facts(code).raw_sql]
    assert got == [
        ("$queryRaw", "SELECT * FROM tasks WHERE id = $1 AND x = $2", False, False),
        ("$queryRawUnsafe", "SELECT * FROM tasks WHERE id = '$1'", True, False),
        ("$queryRawUnsafe", "SELECT * FROM tasks WHERE id = $1", False, False),
        ("query", "SELECT * FROM tasks WHERE name = '$1'", True, False),
        ("$queryRaw", "SELECT 1 FROM tasks $1", True, False),
        ("Prisma.raw", None, True, True),
    ]


def test_query_not_from_a_driver_is_not_sql() -> None:
    code = 'import { query } from "./search";\nsearchIndex.query("SELECT");\nquery(`x ${y}`);\n'
    assert facts(code).raw_sql == ()


def test_handlers_context_and_request_tenants() -> None:
    code = """
    import { prisma } from "@/lib/prisma";
    function load(tenantId) { return prisma.task.findMany({ where: { tenantId } }); }
    export async function GET(req) {
      const tenantId = await getResolvedTenantId();
      return load(tenantId);
    }
    export async function POST(req, { params }) {
      const body = await req.json();
      return prisma.task.create({ data: { tenantId: body.tenantId } });
    }
    export const PUT = withAuth(async (req) => prisma.project.count());
    """
    f = facts(code, path="app/api/tasks/route.ts")
    assert [(h.name, h.route, h.tenant_context, h.models) for h in f.handlers] == [
        ("GET", "/api/tasks", "getResolvedTenantId", ("task",)),
        ("POST", "/api/tasks", None, ("task",)),
        ("PUT", "/api/tasks", None, ("project",)),
    ]
    assert [(r.loc.line, r.source, r.sink) for r in f.request_tenants] == [
        (10, ".json()", "create data")
    ]


def test_clients_flags_fallbacks() -> None:
    code = """
    const a = registerTenantGuard(new PrismaClient());
    const b = new PrismaClient();
    const c = new PrismaClient();
    export const d = registerTenantGuard(b);
    const f1 = process.env.MULTI_TENANCY_ENABLED ?? "true";
    const f2 = process.env.MULTI_TENANCY_ENABLED === "true";
    const f3 = process.env["MULTI_TENANCY_ENABLED"] != "false";
    const t1 = tenantId ?? DEFAULT_TENANT_ID;
    const t2 = host ?? "";
    const t3 = session.tenantId || "default";
    """
    f = facts(code)
    assert [c.guarded for c in f.clients] == [True, True, False]
    assert [x.problem is not None for x in f.flags] == [True, False, True]
    assert [x.loc.line for x in f.fallbacks] == [9, 11]


def test_parse_errors_and_variance_annotations() -> None:
    assert facts("interface P<in out T> { x: T }\nclass Q<out T> {}\n").parse_errors == ()
    err = facts("const a = 1;\nfunction f(a: number: string) {}\n").parse_errors
    assert [(e.loc.line, e.message.startswith("syntax error")) for e in err] == [(2, True)]


def test_comments_only_directives_and_standalone() -> None:
    code = "// plain\n// tenantlint: ignore[TL301]\nx(); // tenantlint: ignore[TL302]\n"
    assert [(c.line, c.standalone) for c in facts(code).comments] == [(2, True), (3, False)]


def test_prefilter_skips_analysis_but_not_errors() -> None:
    f = facts("export const add = (a: number, b: number) => a + b;\n")
    assert f == FileFacts(path="lib/x.ts", frontend="typescript")


_TOKENS = [
    "prisma",
    ".",
    "task",
    "findMany",
    "(",
    ")",
    "{",
    "}",
    "where",
    ":",
    "tenantId",
    "`",
    "${",
    "$queryRaw",
    "'",
    '"',
    "/*",
    "*/",
    "//",
    ";",
    "=>",
    " ",
    "\n",
    "export",
    "GET",
    "process.env.MULTI_TENANCY_ENABLED",
    "??",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join) | st.text(max_size=80))
def test_never_raises_on_arbitrary_text(code: str) -> None:
    for path in ("a.ts", "b.tsx", "c.js", "app/api/x/route.ts"):
        assert facts(code, path=path).path == path


def test_pages_router_express_and_middleware() -> None:
    pages = facts(
        "export default async function handler(req, res) {\n"
        "  res.json(await prisma.task.findMany({ where: { tenantId: req.query.t } }));\n"
        "}\n",
        path="pages/api/tasks/index.ts",
    )
    assert [(h.framework, h.route, h.loc.line) for h in pages.handlers] == [
        ("next-pages", "/api/tasks", 1)
    ]
    assert [(r.source, r.sink) for r in pages.request_tenants] == [("req.query", "where-clause")]
    express = facts(
        'import express from "express";\nconst app = express();\n'
        'app.get("/tasks", requireSession, async (req, res) => prisma.task.count());\n'
        'cache.get("/not-a-route");\n'
    )
    assert [(h.name, h.auth_hint, h.models) for h in express.handlers] == [
        ("GET /tasks", None, ("task",))
    ]
    mw = facts(
        "export async function middleware(req) { await getResolvedTenantId(); }\n"
        'export const config = { matcher: ["/api/:path*", "/app/:slug"] };\n',
        path="src/middleware.ts",
    )
    assert mw.extra == {
        "middleware_context": "getResolvedTenantId",
        "middleware_matcher": "/api/:path*\n/app/:slug",
    }


def test_a_template_named_ts_is_skipped_not_tl001() -> None:
    """A code generator's Jinja template is no TypeScript: listed as skipped, not a TL001."""
    from tenantlint.frontends.typescript import TypeScriptFrontEnd

    text = 'import type { Base{% if extra %}, Extra{% endif %} } from "./base";\n'
    facts = TypeScriptFrontEnd().parse("generator/template/service.ts", text, Config())
    assert facts.parse_errors == () and [u.kind for u in facts.unverified] == ["skipped"]


def test_a_parse_past_its_budget_is_one_tl001(monkeypatch: pytest.MonkeyPatch) -> None:
    """tree-sitter's own parse gets PARSE_SECONDS per file (a pathological file took 48 s);
    past it the file is one TL001 and the run goes on. The budget is 0 here, so a file of some
    size runs past it."""
    import tenantlint.frontends.typescript.frontend as ts_frontend
    from tenantlint.frontends.typescript import TypeScriptFrontEnd

    monkeypatch.setattr(ts_frontend, "PARSE_SECONDS", 0)
    text = "export const rows = [\n" + "  { id: 1, name: 'x' },\n" * 20_000 + "];\n"
    facts = TypeScriptFrontEnd().parse("app/api/rows/route.ts", text, Config())
    assert [e.message for e in facts.parse_errors] == ["took more than 0 s to parse: not analysed"]


def test_a_file_after_a_cancelled_parse_is_read_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancelled parse leaves the cached parser mid-way; the next file must not resume it."""
    import tenantlint.frontends.typescript.frontend as ts_frontend
    from tenantlint.frontends.typescript import TypeScriptFrontEnd

    big = "export const rows = [\n" + "  { id: 1, name: 'x' },\n" * 20_000 + "];\n"
    monkeypatch.setattr(ts_frontend, "PARSE_SECONDS", 0)
    assert TypeScriptFrontEnd().parse("app/a.ts", big, Config()).parse_errors
    monkeypatch.setattr(ts_frontend, "PARSE_SECONDS", 10)
    small = 'import { prisma } from "./db";\nexport const f = () => prisma.task.findMany();\n'
    facts = TypeScriptFrontEnd().parse("app/b.ts", small, Config())
    assert facts.parse_errors == () and [q.operation for q in facts.queries] == ["findMany"]
