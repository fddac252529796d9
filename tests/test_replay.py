"""Migration replay: the final state across files, whatever order the files are listed in."""

from __future__ import annotations

from tenantlint.config import Config
from tenantlint.facts import FileFacts
from tenantlint.frontends.sql import SqlFrontEnd
from tenantlint.replay import TableState, replay


def migrations(*texts: str) -> list[FileFacts]:
    """One migration file per text, listed newest first (replay must sort them)."""
    frontend = SqlFrontEnd()
    files = [
        frontend.parse(f"supabase/migrations/2024010{n}000000_step.sql", text, Config())
        for n, text in enumerate(texts, 1)
    ]
    for f in files:
        assert f.parse_errors == ()
    return list(reversed(files))


def final(*texts: str) -> dict[str, TableState]:
    return replay(migrations(*texts))


TABLE = "CREATE TABLE notes (id uuid PRIMARY KEY, tenant_id uuid, body text);\n"


def test_table_secured_in_a_later_file() -> None:
    state = final(
        TABLE,
        "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE notes FORCE ROW LEVEL SECURITY;",
    )
    notes = state["notes"]
    assert (notes.rls_enabled, notes.rls_forced) == (True, True)
    assert notes.rls_loc is not None and notes.rls_loc.path.endswith("20240102000000_step.sql")


def test_disabled_again_later() -> None:
    state = final(
        TABLE + "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE notes DISABLE ROW LEVEL SECURITY;",
    )
    assert not state["notes"].rls_enabled and state["notes"].rls_loc is None


def test_policy_dropped_later_is_gone_and_recreated_is_back() -> None:
    create = "CREATE POLICY p ON notes USING (tenant_id = current_setting('app.t')::uuid);"
    assert final(TABLE + create, "DROP POLICY p ON notes;")["notes"].policies == {}
    back = final(
        TABLE + create, "DROP POLICY p ON notes;", create.replace("USING", "FOR SELECT USING")
    )
    assert [(p.name, p.command) for p in back["notes"].policies.values()] == [("p", "SELECT")]


def test_alter_policy_keeps_what_it_does_not_name() -> None:
    state = final(
        TABLE
        + "CREATE POLICY p ON notes FOR UPDATE TO app USING (tenant_id = current_setting('app.t')::uuid)"
        " WITH CHECK (true);",
        "ALTER POLICY p ON notes WITH CHECK (tenant_id = current_setting('app.t')::uuid);",
        "ALTER POLICY p ON notes RENAME TO q;",
    )
    (policy,) = state["notes"].policies.values()
    assert (policy.name, policy.command, policy.roles) == ("q", "UPDATE", ("app",))
    assert policy.using_ties == policy.check_ties == (("tenant_id", "app.t"),)
    assert policy.settings_read == ("app.t",)


def test_columns_and_constraints_evolve() -> None:
    state = final(
        TABLE,
        "ALTER TABLE notes ALTER COLUMN tenant_id SET NOT NULL;\n"
        "ALTER TABLE notes ADD CONSTRAINT notes_body_key UNIQUE (body);\n"
        "CREATE UNIQUE INDEX notes_tb ON notes (tenant_id, body);",
        "ALTER TABLE notes RENAME COLUMN body TO text;\n"
        "ALTER INDEX notes_tb RENAME TO notes_tenant_text;\n"
        "ALTER TABLE notes DROP CONSTRAINT notes_body_key;\n"
        "ALTER TABLE notes ADD COLUMN IF NOT EXISTS text varchar;\n"
        "ALTER TABLE notes RENAME TO memos;",
    )
    assert list(state) == ["memos"]
    memo = state["memos"].entity
    assert (memo.name, memo.table) == ("memos", "memos")
    assert [(f.column, f.optional, f.type) for f in memo.fields] == [
        ("id", False, "UUID"),
        ("tenant_id", False, "UUID"),
        ("text", True, "TEXT"),
    ]
    assert [(i.name, i.fields) for i in memo.indexes] == [
        ("notes_pkey", ("id",)),
        ("notes_tenant_text", ("tenant_id", "text")),
    ]


def test_drop_index_without_table_and_drop_column_drops_its_indexes() -> None:
    state = final(
        TABLE
        + "CREATE INDEX notes_body_idx ON notes (body);\nCREATE INDEX notes_t_idx ON notes (tenant_id);",
        "DROP INDEX notes_body_idx;\nALTER TABLE notes DROP COLUMN tenant_id;",
    )
    assert [i.name for i in state["notes"].entity.indexes] == ["notes_pkey"]
    assert [f.column for f in state["notes"].entity.fields] == ["id", "body"]


def test_create_if_not_exists_keeps_the_first_and_drop_table_forgets() -> None:
    state = final(
        TABLE + "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;",
        "CREATE TABLE IF NOT EXISTS notes (other int);",
        "CREATE TABLE gone (id int);",
        "DROP TABLE gone;",
    )
    assert list(state) == ["notes"] and state["notes"].rls_enabled
    assert [f.column for f in state["notes"].entity.fields] == ["id", "tenant_id", "body"]


def test_operations_on_unknown_tables_are_ignored() -> None:
    state = final("ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;\nDROP POLICY x ON nowhere;")
    assert state == {}
