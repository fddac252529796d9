"""The SQL front end: lexing, which files are migrations and in which order, DDL → ops (sqlglot
and pglast paths), policies and their ties, functions' settings, parse errors, embedded SQL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantlint.config import Config
from tenantlint.facts import FileFacts, SqlOp
from tenantlint.frontends import frontend_for
from tenantlint.frontends.sql import SqlFrontEnd, is_migration, migration_key, sql_to_ops
from tenantlint.frontends.sql.policy import (
    analyse,
    clause_texts,
    parse_expression,
    session_roles,
)
from tenantlint.frontends.sql.scan import scan

CFG = Config()


def parse(text: str, path: str = "migrations/001_init.sql", config: Config = CFG) -> FileFacts:
    return SqlFrontEnd().parse(path, text, config)


def ops(text: str) -> list[SqlOp]:
    facts = parse(text)
    assert facts.parse_errors == ()
    return list(facts.sql_ops)


# --- lexer ---------------------------------------------------------------------------------


def test_scan_respects_quotes_dollar_quotes_and_comments() -> None:
    text = (
        "-- head; not a statement\n"
        "INSERT INTO t VALUES ('a;b''c', \"q;\"); /* c /* nested; */ still */\n"
        "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql;\n"
        "SELECT E'it\\'s;' , $1 -- tail\n"
    )
    chunks, comments = scan(text)
    assert [(c.line, c.column, c.text.split()[0]) for c in chunks] == [
        (2, 1, "INSERT"),
        (3, 1, "CREATE"),
        (4, 1, "SELECT"),
    ]
    assert [(c.line, c.column, c.standalone) for c in comments] == [
        (1, 1, True),
        (2, 40, False),
        (4, 23, False),
    ]
    assert comments[1].text == "/* c /* nested; */ still */"


def test_directive_inside_a_string_is_not_a_comment() -> None:
    facts = parse("COMMENT ON TABLE t IS '-- tenantlint: ignore[TL201]';\n-- real\n")
    assert [c.text for c in facts.comments] == ["-- real"]


# --- migrations and their order ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("prisma/migrations/20240101_init/migration.sql", True),
        ("packages/database/migration/20230329205933_init/migration.sql", True),
        ("supabase/migrations/20240414161707_setup.sql", True),
        ("db/migrate/001_users.sql", True),
        ("sql/schema.sql", True),
        ("migrations/0001_init.up.sql", True),
        ("migrations/0001_init.down.sql", False),
        ("supabase/seed.sql", False),
        ("supabase/tests/database/01-schema.sql", False),
        ("db/seeds/users.sql", False),
        ("queries/report.sql", False),
        ("schema.sql", False),
    ],
)
def test_is_migration(path: str, expected: bool) -> None:
    assert is_migration(path, CFG) is expected


def test_configured_migration_globs() -> None:
    assert is_migration("database/ddl/tables.sql", Config(migrations=("database/ddl/*.sql",)))


def test_migration_key_orders_numbers_numerically_and_uses_prisma_folders() -> None:
    paths = ["m/10_c.sql", "m/2_b.sql", "m/1_a.sql", "m/init.sql"]
    assert sorted(paths, key=migration_key) == [
        "m/1_a.sql",
        "m/2_b.sql",
        "m/10_c.sql",
        "m/init.sql",
    ]
    assert migration_key("p/migrations/20240101_x/migration.sql")[0].endswith("20240101_x")


def test_non_migration_files_yield_no_ops_but_syntax_errors() -> None:
    facts = parse("CREATE TABLE seed_only (id int);\nSELEC broken;\n", path="supabase/seed.sql")
    assert not facts.migration and facts.sql_ops == ()
    assert [e.loc.line for e in facts.parse_errors] == [2]


def test_registered_for_sql_suffix() -> None:
    assert frontend_for("supabase/migrations/1_x.sql") == "sql"


# --- DDL ----------------------------------------------------------------------------------------

PRISMA_TABLE = """-- CreateTable
CREATE TABLE "Document" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "teamId" INTEGER,
    "title" TEXT NOT NULL,
    "ownerId" INTEGER NOT NULL REFERENCES "User"("id"),

    CONSTRAINT "Document_pkey" PRIMARY KEY ("id")
);
"""


def test_create_table_columns_keys_and_positions() -> None:
    (op,) = ops(PRISMA_TABLE)
    assert (op.kind, op.table, op.loc.line) == ("create_table", "Document", 2)
    ent = op.entity
    assert ent is not None and ent.source == "sql"
    cols = {f.column: f for f in ent.fields}
    assert [f.column for f in ent.fields] == ["id", "teamId", "title", "ownerId"]
    assert cols["teamId"].optional and not cols["title"].optional
    assert cols["id"].is_id and cols["id"].generated_unique_default
    assert (cols["teamId"].loc.line, cols["teamId"].loc.column) == (4, 5)
    assert cols["ownerId"].relation is not None and cols["ownerId"].relation.target == "User"
    (pk,) = ent.indexes
    assert (pk.name, pk.fields, pk.primary, pk.loc.line) == ("Document_pkey", ("id",), True, 8)


def test_unquoted_names_fold_to_lower_case_and_schemas_are_kept() -> None:
    (op,) = ops(
        "create table Public.Notes (ID serial primary key, Tenant_Id uuid not null unique);"
    )
    assert (op.table, op.schema_name) == ("notes", "public")
    assert op.entity is not None
    assert [f.column for f in op.entity.fields] == ["id", "tenant_id"]
    assert op.entity.fields[0].generated_unique_default  # serial
    assert {i.name for i in op.entity.indexes} == {"notes_pkey", "notes_tenant_id_key"}


def test_indexes_alter_table_and_drops() -> None:
    result = ops(
        'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "ix" ON t (tenant_id, lower(email)) '
        "WHERE deleted_at IS NULL;\n"
        "CREATE INDEX ON t (a);\n"
        "ALTER TABLE t ADD COLUMN b int NOT NULL, ALTER COLUMN c SET NOT NULL, "
        "ALTER COLUMN d DROP NOT NULL, DROP COLUMN IF EXISTS e, ADD CONSTRAINT u UNIQUE (a, b), "
        "DROP CONSTRAINT old;\n"
        "ALTER TABLE t RENAME COLUMN a TO a2;\n"
        "ALTER TABLE t RENAME TO t2;\n"
        'ALTER INDEX "ix" RENAME TO "ix2";\n'
        'ALTER TABLE t2 RENAME CONSTRAINT "u" TO "u2";\n'
        "DROP INDEX IF EXISTS ix2;\n"
        "DROP TABLE IF EXISTS a, b CASCADE;\n"
    )
    summary = [(o.kind, o.table, o.name, o.new_name) for o in result]
    assert summary == [
        ("add_index", "t", None, None),
        ("add_index", "t", None, None),
        ("add_column", "t", None, None),
        ("set_not_null", "t", "c", None),
        ("drop_not_null", "t", "d", None),
        ("drop_column", "t", "e", None),
        ("add_index", "t", None, None),
        ("drop_constraint", "t", "old", None),
        ("rename_column", "t", "a", "a2"),
        ("rename_table", "t", None, "t2"),
        ("rename_index", "", "ix", "ix2"),
        ("rename_index", "t2", "u", "u2"),
        ("drop_index", "", "ix2", None),
        ("drop_table", "a", None, None),
        ("drop_table", "b", None, None),
    ]
    first = result[0].index
    assert first is not None
    assert (first.name, first.unique, first.partial, first.expression) == ("ix", True, True, True)
    assert first.fields == ("tenant_id", "email")
    assert result[1].index is not None and result[1].index.name == "t_a_idx"
    assert result[0].if_exists and result[5].if_exists


def test_rls_and_policies_via_pglast() -> None:
    result = ops(
        "ALTER TABLE ONLY public.t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\n"
        "ALTER TABLE t NO FORCE ROW LEVEL SECURITY;\n"
        "ALTER TABLE t DISABLE ROW LEVEL SECURITY;\n"
        "CREATE POLICY p ON t AS RESTRICTIVE FOR UPDATE TO app, PUBLIC\n"
        "  USING (tenant_id = current_setting('app.tenant')::uuid) WITH CHECK (true);\n"
        "ALTER POLICY p ON t USING (tenant_id = current_setting('app.other'));\n"
        "ALTER POLICY p ON t RENAME TO q;\n"
        "DROP POLICY IF EXISTS q ON public.t;\n"
    )
    assert [(o.kind, o.table, o.loc.line) for o in result] == [
        ("enable_rls", "t", 1),
        ("force_rls", "t", 1),
        ("no_force_rls", "t", 2),
        ("disable_rls", "t", 3),
        ("create_policy", "t", 4),
        ("alter_policy", "t", 6),
        ("alter_policy", "t", 7),
        ("drop_policy", "t", 8),
    ]
    policy = result[4].policy
    assert policy is not None
    assert (policy.permissive, policy.command, policy.roles) == (False, "UPDATE", ("app", "public"))
    assert policy.using_ties == (("tenant_id", "app.tenant"),)
    assert policy.check_ties == () and policy.with_check == "true"
    assert policy.using == "tenant_id = current_setting('app.tenant')::uuid"
    assert policy.settings_read == ("app.tenant",)
    assert (result[6].name, result[6].new_name) == ("p", "q")
    assert result[7].if_exists


@pytest.mark.parametrize(
    ("expression", "ties"),
    [
        ("tenant_id = current_setting('app.tenant_id')::uuid", [("tenant_id", "app.tenant_id")]),
        (
            "t.tenant_id = (current_setting('app.tenant_id'::text, true))::uuid",
            [("tenant_id", "app.tenant_id")],
        ),
        ("tenant_id = (auth.jwt() ->> 'tenant_id')::uuid", [("tenant_id", "auth.jwt()")]),
        ("owner = current_user", [("owner", "current_user")]),
        (
            "basejump.has_role_on_account(account_id) = true",
            [("account_id", "basejump.has_role_on_account()")],
        ),
        ("public.is_member(org_id)", [("org_id", "is_member()")]),
        (
            "org_id IN (SELECT m.org_id FROM members m WHERE m.user_id = auth.uid())",
            [("org_id", "auth.uid()")],
        ),
        (
            "EXISTS (SELECT 1 FROM members m WHERE m.org_id = t.org_id AND m.user_id = auth.uid())",
            [("org_id", "auth.uid()")],
        ),
        (
            "tenant_id = ANY (current_setting('app.tenants')::uuid[])",
            [("tenant_id", "app.tenants")],
        ),
        (
            "(tenant_id IS NULL OR check_access(tenant_id)) AND deleted_at IS NULL",
            [("tenant_id", "check_access()")],
        ),
        ("tenant_id IS NULL OR true", []),
        ("true", []),
        ("auth.role() = 'authenticated'", []),
        ("tenant_id = tenant_id", []),
        ("tenant_id = '5'", []),
        ("tenant_id IS NOT NULL", []),
        ("lower(name) = 'x'", []),
        ("tenant_id = current_setting('app.t') OR true", []),
        ("NOT (tenant_id = current_setting('app.t'))", []),
        ("other.tenant_id = current_setting('app.t')", []),
    ],
)
def test_policy_ties(expression: str, ties: list[tuple[str, str]]) -> None:
    found, _ = analyse(parse_expression(expression), "t")
    assert list(found) == ties


def test_functions_contribute_settings_only() -> None:
    config = Config(rls_wrappers=("set_tenant",))
    facts = parse(
        "CREATE OR REPLACE FUNCTION public.set_tenant(t uuid) RETURNS void LANGUAGE plpgsql AS $$\n"
        "BEGIN PERFORM set_config('app.tenant_id', t::text, false); CREATE TABLE inner_t (x int); END $$;\n"
        "CREATE FUNCTION other() RETURNS void LANGUAGE sql AS 'SELECT set_config(''app.x'', ''1'', true)';\n"
        "DO $$ BEGIN CREATE TABLE in_do (x int); END $$;\n",
        config=config,
    )
    assert [o.table for o in facts.sql_ops] == ["in_do"]  # a DO block runs; a function does not
    assert facts.parse_errors == ()
    assert [(s.setting, s.local, s.in_wrapper, s.function, s.loc.line) for s in facts.settings] == [
        ("app.tenant_id", False, True, "public.set_tenant", 1),
        ("app.x", True, False, "other", 3),
    ]


def test_parse_error_at_its_statement_and_the_rest_goes_on() -> None:
    facts = parse(
        "CREATE TABLE a (id int);\n\nALTER TABLE a\n  ADD COLUMN b inte ger;\nCREATE TABLE c (id int);\n"
    )
    assert [(e.loc.line, e.message) for e in facts.parse_errors] == [
        (3, 'syntax error at or near "ger" (line 4)')
    ]
    assert [o.table for o in facts.sql_ops] == ["a", "c"]


def test_postgresql_ddl_sqlglot_rejects_is_not_an_error() -> None:
    facts = parse(
        "ALTER TYPE \"Role\" ADD VALUE 'GUEST';\n"
        "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n"
        "ALTER TABLE t ADD CONSTRAINT x UNIQUE USING INDEX ix;\n"
        "GRANT USAGE ON SCHEMA s TO authenticated;\n"
        "COMMENT ON COLUMN t.a IS 'x';\n"
        "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;\n"
    )
    assert facts.parse_errors == ()


def test_sql_to_ops_positions_are_those_of_the_python_string() -> None:
    sql = (
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n    CREATE POLICY p ON t USING (true);\n"
        "    UPDATE t SET a = %s WHERE b = :b;\n    ALTER TABLE t ADD COLUMN"
    )
    result, errors = sql_to_ops(sql, "alembic/versions/1.py", 10, 16, CFG)
    assert [(o.kind, o.loc.path, o.loc.line, o.loc.column) for o in result] == [
        ("enable_rls", "alembic/versions/1.py", 10, 16),
        ("create_policy", "alembic/versions/1.py", 11, 5),
    ]
    assert [(e.loc.line, e.loc.path) for e in errors] == [(13, "alembic/versions/1.py")]


def test_psql_meta_commands_are_skipped() -> None:
    facts = parse("\\connect app\n\\set ON_ERROR_STOP on\nCREATE TABLE t (id int);\n")
    assert facts.parse_errors == () and [o.kind for o in facts.sql_ops] == ["create_table"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "CREATE",
                "TABLE",
                "POLICY",
                "ALTER",
                "t",
                "(",
                ")",
                ";",
                "'",
                '"',
                "$$",
                "$a$",
                "--",
                "/*",
                "*/",
                "\n",
                " ",
                "ENABLE ROW LEVEL SECURITY",
                "USING",
                "=",
                "1",
                "E'\\'",
                ",",
            ]
        )
        | st.text(max_size=8),
        max_size=40,
    )
)
def test_front_end_never_raises(parts: list[str]) -> None:
    text = "".join(parts)
    facts = parse(text)
    assert facts.path == "migrations/001_init.sql"
    sql_to_ops(text, "x.py", 3, 7, CFG)


def test_static_ddl_in_do_blocks_is_replayed() -> None:
    facts = parse(
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n"
        "DO $$\n"
        "BEGIN\n"
        "  IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE policyname = 'p') THEN\n"
        "    CREATE POLICY p ON t USING (tenant_id = current_setting('app.t'));\n"
        "  END IF;\n"
        "  EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', 't');\n"
        "  EXECUTE 'DROP POLICY \"old\" ON t';\n"
        "EXCEPTION WHEN duplicate_object THEN NULL;\n"
        "END $$;\n"
        "DO LANGUAGE plpython3u $$ print('x') $$;\n"
    )
    assert facts.parse_errors == ()
    assert [(o.kind, o.loc.line, o.loc.column) for o in facts.sql_ops] == [
        ("enable_rls", 1, 1),
        ("create_policy", 5, 5),
        ("drop_policy", 8, 11),
    ]


@pytest.mark.parametrize(
    ("expression", "roles"),
    [
        ("auth.role() = 'service_role'", ("service_role",)),
        ("(auth.jwt() ->> 'role') = 'service_role'::text", ("service_role",)),
        ("current_user = 'admin' AND tenant_id IS NOT NULL", ("admin",)),
        ("current_setting('request.jwt.claim.role', true) = 'service_role'", ("service_role",)),
        ("auth.role() = 'service_role' OR true", ()),
        ("name = 'service_role'", ()),
    ],
)
def test_session_roles(expression: str, roles: tuple[str, ...]) -> None:
    assert session_roles(parse_expression(expression)) == roles


def test_clause_texts_as_written() -> None:
    sql = (
        "CREATE POLICY \"using (x)\" ON t FOR ALL TO a USING (\n  f(a) AND b = ')'  -- c )\n)"
        " WITH CHECK ((x))"
    )
    assert clause_texts(sql) == ("f(a) AND b = ')' -- c )", "(x)")
    assert clause_texts("ALTER POLICY p ON t RENAME TO q") == (None, None)


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        (
            "CREATE TABLE `User` (\n  `id` VARCHAR(191) NOT NULL\n) DEFAULT CHARACTER SET utf8mb4;",
            "MySQL",
        ),
        ('CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT);', "SQLite"),
        ("CREATE TABLE [dbo].[User] ([id] NVARCHAR(1000) NOT NULL);", "SQL Server"),
    ],
)
def test_other_dialects_are_unverified_not_errors(text: str, dialect: str) -> None:
    facts = parse(text, path="prisma/migrations/20240101_init/migration.sql")
    assert facts.parse_errors == () and facts.sql_ops == ()
    assert [u.reason.split()[0] for u in facts.unverified] == [dialect.split()[0]]


def test_backticks_in_literals_do_not_make_mysql() -> None:
    facts = parse("COMMENT ON TABLE t IS 'run `make`';\nCREATE TABLE t (id int); -- `x`\n")
    assert facts.unverified == () and [o.kind for o in facts.sql_ops] == ["create_table"]


def test_comments_inside_do_blocks_are_read() -> None:
    text = (
        "DO $$\nBEGIN\n  -- tenantlint: ignore[TL204] because reviewed\n"
        "  CREATE POLICY p ON t USING (true);\nEND $$;\n"
    )
    facts = parse(text)
    assert [(c.line, c.column, c.standalone) for c in facts.comments] == [(3, 3, True)]
    assert [(o.kind, o.loc.line) for o in facts.sql_ops] == [("create_policy", 4)]


def test_psycopg_placeholders_are_bound_parameters_not_syntax_errors() -> None:
    """`%(name)s` and `%s` are the client's placeholders: PostgreSQL sees `$1`; positions kept."""
    text = "select id from notes\nwhere tenant_id = %(tenant)s and id = %s;\nselect from;\n"
    facts = parse(text, path="app/sql/notes.sql")
    assert [e.loc.line for e in facts.parse_errors] == [3]


def test_clickhouse_sql_is_not_judged_as_postgresql() -> None:
    """A ClickHouse table (`ENGINE = ReplacingMergeTree`), in a .sql file or a Django
    `RunSQL`, is unverified or ignored, never TL001."""
    ddl = "CREATE TABLE events (id String)\nENGINE = ReplacingMergeTree(id)\nORDER BY id;\n"
    facts = parse(ddl, path="clickhouse/migrations/0001.sql")
    assert facts.parse_errors == () and [u.kind for u in facts.unverified] == ["sql-dialect"]
    assert sql_to_ops(ddl, "clickhouse/migrations/0001.py", 5, 1, CFG) == ((), ())
