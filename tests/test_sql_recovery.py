"""The SQL front end after a broken statement: PostgreSQL's verdict per statement (one TL001 where
pglast rejects it), every later statement still read, in seeds and tests too; NUL bytes; CR line
ends; big DML read cheaply."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import actual_findings, run_check, write_project
from tenantlint.config import Config
from tenantlint.facts import FileFacts
from tenantlint.frontends.sql import SqlFrontEnd
from tenantlint.frontends.sql.scan import Lines, scan

T = TypeVar("T")
TABLE = "CREATE TABLE t (id uuid primary key, tenant_id uuid not null, slug text unique);\n"


def parse(text: str, path: str = "migrations/001_init.sql") -> FileFacts:
    return SqlFrontEnd().parse(path, text, Config())


def summary(facts: FileFacts) -> tuple[list[int], list[tuple[str, str, int]]]:
    """(lines of the parse errors, (kind, table, line) of the ops)."""
    return (
        [e.loc.line for e in facts.parse_errors],
        [(op.kind, op.table, op.loc.line) for op in facts.sql_ops],
    )


BROKEN = {
    "function without closing $$": (
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n\n"
    ),
    "DO block without closing $$": "DO $$\nBEGIN\n  PERFORM 1;\nEND;\n\n",
    "dollar tags that do not match": (
        "CREATE FUNCTION f() RETURNS int AS $body$\n  SELECT 1;\n$$ LANGUAGE sql;\n"
    ),
    "unterminated block comment": "/* a comment that never ends;\n\n",
    "block comment unterminated inside a statement": "GRANT SELECT /* on t;\nON t TO app;\n",
    "malformed function header": "CREATE FUNCTION f( RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n",
    "malformed DO block": "DO LANGUAGE $$ BEGIN END $$ plpgsql;\n",
    "unterminated string": "INSERT INTO x VALUES ('abc);\n",
    "missing semicolon": "CREATE TABLE a (id int)\n",
}


@pytest.mark.parametrize("head", BROKEN.values(), ids=list(BROKEN))
def test_a_broken_statement_is_one_parse_error_and_the_rest_is_read(head: str) -> None:
    line = head.count("\n") + 1
    facts = parse(head + TABLE + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n")
    assert summary(facts) == (
        [1],
        [
            ("create_table", "t", line),
            ("enable_rls", "t", line + 1),
        ],
    ), facts.parse_errors


def test_a_function_closed_by_the_next_functions_quote_does_not_take_it_along() -> None:
    text = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN RETURN 1; END;\n\n"
        "CREATE FUNCTION app.set_tenant(t text) RETURNS void LANGUAGE sql\n"
        "AS $$ SELECT set_config('app.tenant_id', t, true) $$;\n" + TABLE
    )
    facts = parse(text)
    assert summary(facts) == ([1], [("create_table", "t", 6)])
    assert [(s.function, s.loc.line) for s in facts.settings] == [("app.set_tenant", 4)]


def test_prose_in_a_comment_that_never_ends_is_not_a_statement() -> None:
    text = "/* Notes\nCreate the table, then\nDo not forget RLS;\n\n" + TABLE.lower()
    assert summary(parse(text)) == ([1], [("create_table", "t", 5)])


def test_comments_are_not_counted_twice_after_recovery() -> None:
    text = "CREATE TABLE a (id int) -- one\nCREATE TABLE b (id int); -- two\n/* three"
    chunks_comments = [c.text for c in parse(text).comments]
    assert chunks_comments == ["-- one", "-- two", "/* three"]


def test_copy_from_stdin_data_is_not_sql() -> None:
    text = "COPY t (id) FROM stdin;\n1\tx;y\n2\t'\n\\.\n" + TABLE
    assert summary(parse(text)) == ([], [("create_table", "t", 5)])


def test_cli_reports_the_broken_function_and_the_table_after_it(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "tenantlint.toml": 'tenant-fields = ["tenant_id"]\n',
            "migrations/001_init.sql": (
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n\n" + TABLE
            ),
        },
    )
    code, data = run_check(root)
    assert code == 1
    path = "migrations/001_init.sql"
    assert {(path, 1, "TL001"), (path, 7, "TL102")} <= actual_findings(data)


# --- seeds and tests: not replayed, but every statement gets PostgreSQL's verdict ---------------

SEED = "INSERT INTO t VALUES (1);\nINSERT INTO t VALUS (2);\nINSERT INTO t VALUES (3);\nSELEC 4;\n"


@pytest.mark.parametrize(
    "path", ["supabase/seed.sql", "supabase/tests/rls_test.sql", "db/down.sql"]
)
def test_a_seed_or_test_gets_a_tl001_per_rejected_statement(path: str) -> None:
    # once only their functions were read: a statement PostgreSQL rejects there gave nothing
    facts = parse(
        SEED + "CREATE TABLE a (id int;\nDO $$ BEGIN PERFORM 1 END $$ LANGUAG plpgsql;\n", path
    )
    assert not facts.migration and facts.sql_ops == ()
    assert [e.loc.line for e in facts.parse_errors] == [2, 4, 5, 6]


def test_a_tl001_in_a_seed_is_reported_though_code_rules_skip_seeds(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"supabase/seed.sql": SEED})  # `non-product-code` by default
    code, data = run_check(root)
    assert code == 1
    assert [(f["path"], f["line"], f["rule"], f["message"]) for f in data["findings"]] == [
        (
            "supabase/seed.sql",
            2,
            "TL001",
            'syntax error at or near "VALUS" (and 1 more parse error in this file)',
        )
    ]


def test_psql_variables_are_not_syntax_errors() -> None:
    # psql fills them in before PostgreSQL sees the statement (a script run with `psql -v`)
    text = (
        "\\set role `echo $ROLE`\n"
        "CREATE USER :role WITH PASSWORD :'password';\n"
        'GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"role";\n'
        "SELECT a[1:n], x::int, '10:30' FROM t;\n"
        "SELECT :role + ;\n"
    )
    assert summary(parse(text, "scripts/readonly.sql")) == ([5], [])


# --- NUL bytes: PostgreSQL refuses them, pglast stops reading at the first ---------------------


def test_a_statement_after_a_nul_is_still_read() -> None:
    facts = parse(
        "\0"
        + TABLE
        + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\0 ALTER TABLE t FORCE ROW LEVEL SECURITY;\n"
    )
    assert summary(facts) == (
        [1],
        [("create_table", "t", 1), ("enable_rls", "t", 2), ("force_rls", "t", 2)],
    )
    [error] = facts.parse_errors
    assert (error.loc.column, error.message) == (
        1,
        "a NUL byte (0x00): PostgreSQL refuses it in SQL text",
    )


def test_a_nul_outside_any_statement_is_one_tl001() -> None:
    facts = parse("-- a \0 comment\n" + TABLE + "/* \0 */\n", "supabase/seed.sql")
    assert [(e.loc.line, e.loc.column) for e in facts.parse_errors] == [(1, 6)]


PIECES = ["'", '"', "$$", "$f$", "/*", "*/", "--", ";", "\n", "\r", "E'", "\\", " x ", TABLE]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(PIECES), max_size=24))
def test_recovery_never_raises_and_keeps_each_comment_once(pieces: list[str]) -> None:
    text = "".join(pieces)
    facts = parse(text)
    lines = Lines(text)
    starts = [lines.offset(c.line, c.column) for c in facts.comments]
    assert starts == sorted(set(starts))
    assert all(e.loc.line >= 1 for e in facts.parse_errors)


# --- line ends -----------------------------------------------------------------------------

MIGRATION = (
    "-- tenants\n"
    "CREATE TABLE t (\n  id uuid primary key,\n  tenant_id uuid not null,\n  slug text unique\n);\n"
    "/* rls */ ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n"
    "CREATE POLICY p ON t USING (tenant_id = current_setting('app.tenant')::uuid);\n"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_counts(newline: str) -> None:
    facts = parse(MIGRATION.replace("\n", newline))
    assert summary(facts) == (
        [],
        [
            ("create_table", "t", 2),
            ("enable_rls", "t", 7),
            ("create_policy", "t", 8),
        ],
    )
    assert [(c.line, c.column, c.text) for c in facts.comments] == [
        (1, 1, "-- tenants"),
        (7, 1, "/* rls */"),
    ]


def test_lines_count_cr_crlf_and_lf() -> None:
    lines = Lines("a\rb\r\nc\nd")
    assert [lines.position(i) for i in (0, 2, 5, 7)] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert [c.line for c in scan("SELECT 1;\rSELECT 2;\r\n\rSELECT 3;")[0]] == [1, 2, 4]


# --- size ----------------------------------------------------------------------------------


def big_insert(rows: int) -> str:
    values = ",\n".join(f"  ({i}, 'tenant-{i % 7}', E'row\\n{i}')" for i in range(rows))
    return TABLE + "INSERT INTO t (id, tenant_id, slug) VALUES\n" + values + ";\n"


def traced_peak(work: Callable[[], T]) -> tuple[T, int]:
    """What `work` returns, and the peak of the memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        return work(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_big_insert_costs_memory_linear_in_its_size() -> None:
    text = big_insert(40_000)  # ~1.3 MB
    facts, peak = traced_peak(lambda: parse(text))
    assert summary(facts) == ([], [("create_table", "t", 1)])
    assert peak < 8 * len(text), f"{peak / len(text):.0f} bytes per input character"


def test_a_broken_big_insert_is_still_a_parse_error() -> None:
    text = big_insert(2_000).replace("(1999, ", "(1999 ")
    assert summary(parse(text))[0] == [2]
