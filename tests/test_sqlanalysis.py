"""The embedded-SQL analyser on real-world-shaped queries: kinds, tables, tenant predicates,
settings; placeholders of every driver; MySQL; and never a guess on what it cannot parse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantlint.sqlanalysis import analyse_sql, settings_in_code

# Each table use as (table, alias, predicate columns, access).
Use = tuple[str, str | None, tuple[str, ...], str]

CASES: list[tuple[str, str | None, str, set[Use]]] = [
    # --- plain reads, every placeholder style
    (
        'SELECT * FROM "Project" WHERE "tenantId" = $1',
        None,
        "read",
        {("Project", None, ("tenantId",), "read")},
    ),
    (
        "SELECT id FROM projects WHERE tenant_id = %s",
        None,
        "read",
        {("projects", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT id FROM projects WHERE tenant_id = %(tenant)s AND id = %(id)s",
        None,
        "read",
        {("projects", None, ("id", "tenant_id"), "read")},
    ),
    (
        "SELECT id FROM projects WHERE tenant_id = :tenant_id",
        None,
        "read",
        {("projects", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT id FROM projects WHERE tenant_id = ?",
        None,
        "read",
        {("projects", None, ("tenant_id",), "read")},
    ),
    ("SELECT count(*) FROM tasks", None, "read", {("tasks", None, (), "read")}),
    ("select * from Users where Email = $1", None, "read", {("users", None, ("email",), "read")}),
    (
        'SELECT * FROM public."Document" d WHERE d."teamId" = $1 AND d.id = $2',
        None,
        "read",
        {("Document", "d", ("id", "teamId"), "read")},
    ),
    (
        "SELECT * FROM tasks t WHERE t.tenant_id = $1 LIMIT 10 OFFSET $2",
        None,
        "read",
        {("tasks", "t", ("tenant_id",), "read")},
    ),
    (
        "SELECT * FROM tasks WHERE tenant_id = $1::uuid",
        None,
        "read",
        {("tasks", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT * FROM tasks WHERE tenant_id = ANY($1)",
        None,
        "read",
        {("tasks", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT * FROM tasks WHERE tenant_id IN ($1, $2)",
        None,
        "read",
        {("tasks", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT * FROM tasks WHERE tenant_id IS NOT DISTINCT FROM $1",
        None,
        "read",
        {("tasks", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT * FROM tasks WHERE (tenant_id = $1)",
        None,
        "read",
        {("tasks", None, ("tenant_id",), "read")},
    ),
    # --- predicates that do not constrain every row
    (
        "SELECT * FROM tasks WHERE tenant_id = $1 OR public = true",
        None,
        "read",
        {("tasks", None, (), "read")},
    ),
    (
        "SELECT * FROM tasks WHERE (tenant_id = $1 AND a = 1) OR (tenant_id = $2 AND b = 2)",
        None,
        "read",
        {("tasks", None, ("tenant_id",), "read")},
    ),
    ("SELECT * FROM tasks WHERE tenant_id <> $1", None, "read", {("tasks", None, (), "read")}),
    (
        "SELECT * FROM tasks WHERE tenant_id IS NOT NULL",
        None,
        "read",
        {("tasks", None, (), "read")},
    ),
    ("SELECT * FROM tasks WHERE title LIKE $1", None, "read", {("tasks", None, (), "read")}),
    # --- joins
    (
        "SELECT t.* FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.tenant_id = $1",
        None,
        "read",
        {("tasks", "t", ("project_id",), "read"), ("projects", "p", ("id", "tenant_id"), "read")},
    ),
    (
        "SELECT * FROM tasks t LEFT JOIN comments c ON c.task_id = t.id AND c.tenant_id = t.tenant_id WHERE t.tenant_id = $1",
        None,
        "read",
        {
            ("tasks", "t", ("id", "tenant_id"), "read"),
            ("comments", "c", ("task_id", "tenant_id"), "read"),
        },
    ),
    (
        'SELECT m."userId" FROM "Membership" AS m INNER JOIN "Team" AS t ON t.id = m."teamId" WHERE t.slug = $1',
        None,
        "read",
        {("Membership", "m", ("teamId",), "read"), ("Team", "t", ("id", "slug"), "read")},
    ),
    (
        "SELECT * FROM tasks, projects WHERE tasks.project_id = projects.id AND projects.tenant_id = %s",
        None,
        "read",
        {("tasks", None, ("project_id",), "read"), ("projects", None, ("id", "tenant_id"), "read")},
    ),
    (
        "SELECT * FROM tasks JOIN projects ON projects.id = tasks.project_id WHERE tenant_id = $1",
        None,
        "read",
        {("tasks", None, ("project_id",), "read"), ("projects", None, ("id",), "read")},
    ),
    # --- CTEs and subqueries
    (
        "WITH recent AS (SELECT * FROM events WHERE tenant_id = $1) SELECT * FROM recent WHERE kind = 'x'",
        None,
        "read",
        {("events", None, ("tenant_id",), "read")},
    ),
    (
        "WITH a AS (SELECT id FROM projects WHERE tenant_id = $1), b AS (SELECT * FROM tasks WHERE project_id IN (SELECT id FROM a)) SELECT * FROM b",
        None,
        "read",
        {("projects", None, ("tenant_id",), "read"), ("tasks", None, ("project_id",), "read")},
    ),
    (
        "SELECT * FROM tasks WHERE project_id IN (SELECT id FROM projects WHERE tenant_id = $1)",
        None,
        "read",
        {("tasks", None, ("project_id",), "read"), ("projects", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT * FROM (SELECT * FROM tasks WHERE tenant_id = $1) AS sub WHERE sub.done = false",
        None,
        "read",
        {("tasks", None, ("tenant_id",), "read")},
    ),
    (
        "SELECT p.id, (SELECT count(*) FROM tasks t WHERE t.project_id = p.id) FROM projects p WHERE p.tenant_id = $1",
        None,
        "read",
        {("projects", "p", ("tenant_id",), "read"), ("tasks", "t", ("project_id",), "read")},
    ),
    (
        "SELECT * FROM projects p WHERE EXISTS (SELECT 1 FROM members m WHERE m.project_id = p.id AND m.user_id = $1)",
        None,
        "read",
        {("projects", "p", (), "read"), ("members", "m", ("project_id", "user_id"), "read")},
    ),
    (
        "SELECT id FROM a WHERE tenant_id = $1 UNION ALL SELECT id FROM b",
        None,
        "read",
        {("a", None, ("tenant_id",), "read"), ("b", None, (), "read")},
    ),
    (
        "SELECT g, t.id FROM generate_series(1, 3) g JOIN tasks t ON t.n = g WHERE t.tenant_id = $1",
        None,
        "read",
        {("tasks", "t", ("n", "tenant_id"), "read")},
    ),
    # --- writes
    (
        "INSERT INTO tasks (tenant_id, title) VALUES ($1, $2)",
        None,
        "write",
        {("tasks", None, ("tenant_id", "title"), "write")},
    ),
    (
        'INSERT INTO "Task" ("title") VALUES ($1) RETURNING id',
        None,
        "write",
        {("Task", None, ("title",), "write")},
    ),
    (
        "INSERT INTO archive (tenant_id, id) SELECT tenant_id, id FROM tasks WHERE tenant_id = $1",
        None,
        "write",
        {("archive", None, ("id", "tenant_id"), "write"), ("tasks", None, ("tenant_id",), "read")},
    ),
    (
        "INSERT INTO counters (tenant_id, n) VALUES ($1, 1) ON CONFLICT (tenant_id) DO UPDATE SET n = counters.n + 1",
        None,
        "write",
        {("counters", None, ("n", "tenant_id"), "write")},
    ),
    (
        "UPDATE tasks SET done = true WHERE id = $1",
        None,
        "write",
        {("tasks", None, ("id",), "write")},
    ),
    (
        "UPDATE tasks SET done = true WHERE id = $1 AND tenant_id = $2",
        None,
        "write",
        {("tasks", None, ("id", "tenant_id"), "write")},
    ),
    (
        "UPDATE tasks t SET title = s.title FROM staging s WHERE s.id = t.id AND t.tenant_id = %s",
        None,
        "write",
        {("tasks", "t", ("id", "tenant_id"), "write"), ("staging", "s", ("id",), "read")},
    ),
    (
        "DELETE FROM sessions WHERE expires_at < now()",
        None,
        "write",
        {("sessions", None, (), "write")},
    ),
    (
        "DELETE FROM tasks USING projects WHERE projects.id = tasks.project_id AND projects.tenant_id = $1",
        None,
        "write",
        {
            ("tasks", None, ("project_id",), "write"),
            ("projects", None, ("id", "tenant_id"), "read"),
        },
    ),
    (
        "WITH gone AS (DELETE FROM tasks WHERE tenant_id = $1 RETURNING id) SELECT count(*) FROM gone",
        None,
        "write",
        {("tasks", None, ("tenant_id",), "write")},
    ),
    ("TRUNCATE TABLE audit_log", None, "write", {("audit_log", None, (), "write")}),
    # --- DDL and other statements
    ("CREATE TABLE tmp_x (id int)", None, "ddl", {("tmp_x", None, (), "ddl")}),
    ("ALTER TABLE tasks ADD COLUMN due date", None, "ddl", {("tasks", None, (), "ddl")}),
    ("BEGIN", None, "other", set()),
    # --- MySQL (Prisma mysql datasource)
    (
        "SELECT `id`, JSON_ARRAYAGG(`name`) FROM `Project` WHERE `tenantId` = ? GROUP BY `id`",
        "mysql",
        "read",
        {("Project", None, ("tenantId",), "read")},
    ),
    (
        "UPDATE `Task` SET `done` = 1 WHERE `id` = ? AND `tenantId` = ?",
        "mysql",
        "write",
        {("Task", None, ("id", "tenantId"), "write")},
    ),
]


@pytest.mark.parametrize(("sql", "dialect", "kind", "uses"), CASES, ids=[c[0][:60] for c in CASES])
def test_statement_kind_tables_and_predicates(
    sql: str, dialect: str | None, kind: str, uses: set[Use]
) -> None:
    ok, statements = analyse_sql(sql, dialect)
    assert ok
    assert [s.kind for s in statements] == [kind]
    found = {(u.table, u.alias, u.predicate_columns, u.access) for u in statements[0].tables}
    assert found == uses


def test_enough_real_world_queries() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT set_config('app.tenant_id', $1, true)", [("app.tenant_id", True)]),
        (
            "select set_config('app.current_tenant_id', ${tenantId}::text, TRUE)".replace(
                "${tenantId}", "$1"
            ),
            [("app.current_tenant_id", True)],
        ),
        ("SELECT set_config('app.tenant_id', %s, false)", [("app.tenant_id", False)]),
        ("SELECT set_config('app.tenant_id', $1, $2)", [("app.tenant_id", None)]),
        ("SET LOCAL app.tenant_id = '42'", [("app.tenant_id", True)]),
        ("SET app.tenant_id = $1", [("app.tenant_id", False)]),
        ("SET SESSION app.tenant_id TO $1", [("app.tenant_id", False)]),
    ],
)
def test_settings_written(sql: str, expected: list[tuple[str, bool | None]]) -> None:
    ok, statements = analyse_sql(sql)
    assert ok
    assert [(w.setting, w.local) for s in statements for w in s.settings_written] == expected


def test_several_statements_and_an_unparseable_one() -> None:
    ok, statements = analyse_sql("SET LOCAL app.t = $1; SELECT * FROM t WHERE x = $2; SELEC oops (")
    assert not ok
    assert [s.kind for s in statements] == ["other", "read", "unknown"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM t WHERE x = 'unterminated",
        "totally not sql at all",
        "SELECT FROM WHERE",
        "VACUUM ANALYZE tasks",
        "",
    ],
)
def test_unparseable_is_unknown_never_guessed(sql: str) -> None:
    ok, statements = analyse_sql(sql)
    if sql:
        assert not ok
        assert all(s.kind == "unknown" and not s.tables for s in statements)
    else:
        assert statements == ()


def test_results_are_cached() -> None:
    sql = "SELECT * FROM cached_table WHERE tenant_id = $1"
    assert analyse_sql(sql) is analyse_sql(sql)


def test_settings_in_plpgsql_bodies() -> None:
    body = """
    BEGIN
      PERFORM set_config('app.tenant_id', t::text, false);
      SET LOCAL app.user_id = u;
      x := 'set_config(''app.fake'', 1, true)';
    END
    """
    assert [(w.setting, w.local) for w in settings_in_code(body)] == [
        ("app.tenant_id", False),
        ("app.user_id", True),
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from([None, "postgres", "mysql", "nonsense"]))
def test_never_raises(text: str, dialect: str | None) -> None:
    ok, statements = analyse_sql(text, dialect)
    assert isinstance(ok, bool)
    assert all(s.kind in ("read", "write", "ddl", "other", "unknown") for s in statements)
    settings_in_code(text)
