"""The TypeScript front end does linear work in the number of sites of a file.

1,500 `prisma.x.findMany()` calls in one function once took 9 s, and 10,000 took 278 s: each
site's guard pattern rescanned every earlier site of its function. Wall-clock limits would make
these tests flaky, so they count work instead: the Python calls and lines the front end runs
(`sys.settrace`, limited to its own modules) for a file of N sites and one of 2N. A linear
analysis does at most about twice the work; a quadratic one, 2.8 to 3.6 times as much at this
size. The text the front end scans with regular expressions (C code, not lines) is covered by
counting how often the indexes that replaced the per-site scans are built.

Depth is the other axis: a tree nested past `MAX_DEPTH` levels is one TL001, not analysed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import tenantlint.frontends.typescript as typescript_frontend
from tenantlint.config import Config
from tenantlint.facts import FileFacts
from tenantlint.frontends.typescript import TypeScriptFrontEnd, guards, prisma
from tenantlint.frontends.typescript.frontend import MAX_DEPTH, MAX_ERROR_WIDTH

FE = TypeScriptFrontEnd()
PACKAGE = str(Path(typescript_frontend.__file__).parent)
ROUTE = "app/api/items/route.ts"


def _handler(*statements: Callable[[int], str]) -> Callable[[int], str]:
    """A file of one route handler running the statements for each i below n, in turn."""

    def make(n: int) -> str:
        body = "\n".join(f"  {statement(i)}" for i in range(n) for statement in statements)
        return f"export async function GET(req: Request) {{\n  const input = await req.json();\n{body}\n}}\n"

    return make


def _module(function: Callable[[int], str], header: str = "") -> Callable[[int], str]:
    """A file of the given module-level statement for each i below n."""
    return lambda n: header + "".join(function(i) + "\n" for i in range(n))


# Files of n sites, each shape exercising one of the per-site questions that used to rescan.
SHAPES: dict[str, Callable[[int], str]] = {
    "findMany in one function": _handler(lambda i: f"const r{i} = await prisma.user.findMany();"),
    "fetch then existence check": _handler(
        lambda i: f"const r{i} = await prisma.doc.findUnique({{ where: {{ id: input.id{i} }} }});",
        lambda i: f"if (!r{i}) throw new Error('missing');",
    ),
    "fetch then authorise": _handler(
        lambda i: f"const r{i} = await prisma.doc.findUnique({{ where: {{ id: input.id{i} }} }});",
        lambda i: f"if (r{i}.tenantId !== input.tenantId) throw new Error('forbidden');",
    ),
    "check then act": _handler(
        lambda i: (
            f"const a{i} = await prisma.doc.findFirst({{ where: {{ id: input.d{i}, tenantId }} }});"
        ),
        lambda i: (
            f"await prisma.doc.update({{ where: {{ id: a{i}.id }}, data: {{ done: true }} }});"
        ),
    ),
    "where from a variable": _handler(
        lambda i: f"const f{i} = build({i});",
        lambda i: f"await prisma.doc.findMany({{ where: f{i} }});",
    ),
    "OR lists filled later": _handler(
        lambda i: f"const c{i} = []; c{i}.push({{ a: {i} }});",
        lambda i: f"await prisma.doc.findMany({{ where: {{ tenantId, OR: c{i} }} }});",
    ),
    "raw SQL writing a setting": _handler(
        lambda i: (
            f"await prisma.$executeRaw`SELECT set_config('app.tenant_id', ${{input.t{i}}}, true)`;"
        )
    ),
    "express routes": _module(
        lambda i: (
            f"router.get('/r{i}', async (req, res) => {{ "
            "const t = await getResolvedTenantId(req); "
            "res.json(await prisma.doc.findMany({ where: { tenantId: t } })); });"
        ),
        header="import express from 'express';\nconst router = express.Router();\n",
    ),
    "one name bound in every function": _module(
        lambda i: (
            f"export function f{i}() {{ const where = {{ id: {i} }}; "
            "return prisma.doc.findMany({ where }); }"
        )
    ),
    "request values in every function": _module(
        lambda i: (
            f"export async function h{i}(req: Request) {{ const body = await req.json(); "
            "return prisma.doc.findMany({ where: { tenantId: body.tenantId } }); }"
        )
    ),
    "chain of module functions": lambda n: (
        _chain(n) + f"export async function GET() {{ return f{n - 1}(); }}\n"
    ),
}


def _chain(n: int) -> str:
    """f0 … f{n-1}, each querying and called only by the next one."""
    return _module(
        lambda i: (
            f"async function f{i}() {{ await prisma.doc.findMany(); "
            f"return {f'f{i - 1}()' if i else 0}; }}"
        )
    )(n)


def parse(code: str, path: str = ROUTE) -> FileFacts:
    return FE.parse(path, code, Config())


def work(code: str) -> int:
    """Calls and lines run inside the TypeScript front end's own modules while it parses `code`."""
    steps = 0

    def in_frame(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal steps
        steps += 1
        return in_frame

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal steps
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None
        steps += 1
        return in_frame

    previous = sys.gettrace()  # a coverage tracer, say: put back afterwards
    sys.settrace(on_call)
    try:
        parse(code)
    finally:
        sys.settrace(previous)
    return steps


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_work_grows_linearly_with_the_sites(shape: str) -> None:
    make = SHAPES[shape]
    n = 100
    seen = parse(make(n))
    assert len(seen.queries) + len(seen.raw_sql) >= n
    small, large = work(make(n)), work(make(2 * n))
    assert large <= 2.2 * small, f"{shape}: {small} steps for {n} sites, {large} for {2 * n}"


def test_each_function_text_is_decoded_and_indexed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    original = guards.FunctionText.__init__

    def counting(self: guards.FunctionText, data: bytes, start_byte: int) -> None:
        built.append(start_byte)
        original(self, data, start_byte)

    monkeypatch.setattr(guards.FunctionText, "__init__", counting)
    queries = parse(SHAPES["fetch then existence check"](300)).queries
    assert {q.guarded_by for q in queries} == {"existence-check"}
    assert len(built) == 1  # one function, 300 fetches


def test_the_names_pushed_to_are_found_once_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    scans: list[tuple[int, int]] = []
    original = prisma._pushed_names

    def counting(src: Any, scope: tuple[int, int]) -> set[str]:
        scans.append(scope)
        return original(src, scope)

    monkeypatch.setattr(prisma, "_pushed_names", counting)
    queries = parse(SHAPES["OR lists filled later"](300)).queries
    assert all(q.where is not None and q.where.unknown for q in queries)  # each list is grown
    assert len(scans) == 1


def test_a_long_chain_of_calls_does_not_exhaust_the_stack() -> None:
    # each function is called only by the next one: deciding whether the first runs inside the
    # RLS wrapper walks the whole chain, deeper than Python's recursion limit
    n = sys.getrecursionlimit() + 500
    code = _chain(n)
    wrapped = (
        code
        + f"export async function GET(t: string) {{ return withTenantRLS(t, () => f{n - 1}()); }}\n"
    )
    assert all(q.rls_scoped for q in parse(wrapped).queries)
    unwrapped = code + f"export async function GET() {{ return f{n - 1}(); }}\n"
    assert not any(q.rls_scoped for q in parse(unwrapped).queries)


def test_text_after_a_fetch_is_found_by_characters_not_bytes() -> None:
    # before the function's text was indexed once, the text after a site was sliced at its byte
    # offset: every multi-byte character earlier in the function moved the start further on, and
    # the `if (!row)` right after the fetch was missed
    code = """
    export async function GET(req: Request) {
      // résumé, naïve, ✓✓✓✓✓✓✓✓: comments in any language
      const { id } = await req.json();
      const row = await prisma.doc.findUnique({ where: { id } });
      if (!row) throw new Error("missing");
      const doc = await prisma.doc.findUnique({ where: { id } }); if (doc.tenantId !== t) throw 1;
    }
    """
    assert [q.guarded_by for q in parse(code).queries] == [
        "existence-check",
        "fetch-then-authorise",
    ]


DEEP = {
    # query matching waits at each `+` for its operator, under the whole left operand
    "a 30,000-term sum": "const v = " + "x + " * 30_000 + "x;",
    # each site's enclosing functions are found through `Node.parent`, which descends from the root
    "a query in 30,000 nested arrays": "const v = " + "[" * 30_000 + "prisma.doc.findMany()" + "]" * 30_000 + ";",
    "30,000 nested arrow functions": "const v = " + "() => " * 30_000 + "prisma.doc.findMany();",
}  # fmt: skip


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_a_tree_nested_past_the_limit_is_one_tl001_not_analysed(shape: str) -> None:
    # valid TypeScript: analysing it took time growing with the square of its depth (14 s for a
    # 20,000-term sum, 73 s for the arrays); now the depth is measured first
    code = f"export async function GET(req: Request) {{\n  {DEEP[shape]}\n  return prisma.doc.findMany();\n}}\n"
    facts = parse(code)
    [error] = facts.parse_errors
    assert re.fullmatch(
        rf"nested too deeply to analyse: 30,00\d levels, limit {MAX_DEPTH:,}", error.message
    )
    assert error.loc.line == 2 and facts.queries == ()


def test_a_tree_nested_below_the_limit_is_analysed() -> None:
    sum_ = "x + " * (MAX_DEPTH // 2)
    code = f"export async function GET() {{\n  const v = {sum_}x;\n  return prisma.doc.findMany();\n}}\n"
    facts = parse(code)
    assert facts.parse_errors == () and len(facts.queries) == 1


def test_a_syntax_error_in_a_deep_tree_is_its_one_tl001() -> None:
    code = (
        "export async function GET() {\n  const v = "
        + "x + " * 30_000
        + ";\n  prisma.doc.findMany();\n}\n"
    )
    [error] = parse(code).parse_errors
    assert error.message.startswith("syntax error")


def test_a_syntax_error_thousands_of_tokens_wide_is_its_tl001_alone() -> None:
    # tree-sitter's query matching grows with the square of an error node's children: 300,000
    # unclosed `(` took 61 s (fuzz); past MAX_ERROR_WIDTH the rest of the file is not analysed
    code = "export async function GET() {\n  return prisma.doc.findMany();\n}\n" + "(" * (
        MAX_ERROR_WIDTH + 1
    )
    facts = parse(code)
    assert len(facts.parse_errors) == 1 and facts.queries == ()
    assert len(parse(code[: -MAX_ERROR_WIDTH // 2]).queries) == 1  # narrower: analysed


def test_suppressions_in_a_widely_broken_file_are_found_without_a_query() -> None:
    # the query for comments alone took 63 s over 300,000 unclosed `(` (fuzz); the directives
    # are reached through the nodes whose text holds one, whatever the tree's shape
    code = "// tenantlint: ignore-file[TL001] generated\nconst a = 1; /* tenantlint: ignore[TL301] */\n"
    queries = 0

    def on_event(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal queries
        queries += event == "c_call" and getattr(arg, "__qualname__", "") == "QueryCursor.captures"

    sys.setprofile(on_event)
    try:
        facts = FE.parse("lib/broken.ts", code + "(" * 300_000, Config())
    finally:
        sys.setprofile(None)
    assert [(c.line, c.column, c.standalone) for c in facts.comments] == [
        (1, 1, True),
        (2, 14, False),
    ]
    assert len(facts.parse_errors) == 1 and queries == 0
