"""Against a real PostgreSQL server: the fixtures' migrations applied to a throwaway database must
leave the catalog exactly as the SQL front end replayed them, and `db-audit` must report the
fixtures' planted RLS defects — and nothing on a database where every tenant table is secured."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantlint.cli import main
from tenantlint.engine import load_project
from tenantlint.facts import FileFacts
from tenantlint.frontends.sql import SqlFrontEnd
from tenantlint.frontends.sql.scan import scan
from tenantlint.replay import TableState, migration_order, replay

psycopg = pytest.importorskip("psycopg")

URL = os.environ.get("TENANTLINT_TEST_DATABASE_URL")
needs_db = pytest.mark.skipif(not URL, reason="TENANTLINT_TEST_DATABASE_URL is not set")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# What a Supabase database provides before any project migration runs.
SUPABASE_PREAMBLE = """
CREATE SCHEMA auth;
CREATE SCHEMA extensions;
CREATE TABLE auth.users (id uuid PRIMARY KEY);
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('request.jwt.claim.role', true), '') $$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
END $$;
"""


def _url(dbname: str, role: str | None = None) -> str:
    params = psycopg.conninfo.conninfo_to_dict(URL)
    params["dbname"] = dbname
    if role:
        params["options"] = f"-c role={role}"
    return str(psycopg.conninfo.make_conninfo(**params))


# Cluster-wide roles the fixtures' migrations create; dropped again when a test made them.
FIXTURE_ROLES = ("authenticated", "reporting")


@contextmanager
def fresh_database() -> Iterator[str]:
    """A uniquely named database, dropped afterwards (with the roles its test created)."""
    name = f"tenantlint_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(URL, autocommit=True) as admin:
        had = _roles(admin)
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for role in _roles(admin) - had:
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _roles(conn: Any) -> set[str]:
    rows = conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [list(FIXTURE_ROLES)]
    ).fetchall()
    return {r[0] for r in rows}


def migration_files(project: Path) -> list[FileFacts]:
    cfg = load_project([project]).config
    frontend = SqlFrontEnd()
    files = [
        frontend.parse(p.relative_to(project).as_posix(), p.read_text(encoding="utf-8"), cfg)
        for p in sorted(project.rglob("*.sql"))
    ]
    return migration_order(files)


def apply(dbname: str, project: Path, preamble: str = "") -> set[tuple[str, int]]:
    """Run every migration statement in migration order, one by one; return the statements
    PostgreSQL rejected as (path, line)."""
    rejected: set[tuple[str, int]] = set()
    with psycopg.connect(_url(dbname), autocommit=True) as conn:
        if preamble:
            conn.execute(preamble)
        for facts in migration_files(project):
            text = (project / facts.path).read_text(encoding="utf-8")
            for chunk in scan(text)[0]:
                try:
                    conn.execute(chunk.text)
                except psycopg.errors.SyntaxError:
                    rejected.add((facts.path, chunk.line))
    return rejected


def catalog_states(dbname: str) -> dict[str, TableState]:
    from tenantlint.dbaudit import read_catalog

    catalog = read_catalog(_url(dbname), ("public",))
    return replay(list(catalog.files.values()))


def summary(state: TableState, tenant_fields: tuple[str, ...]) -> dict[str, Any]:
    """What the differential test compares, table by table."""
    ent = state.entity
    return {
        "rls": (state.rls_enabled, state.rls_forced),
        "policies": sorted(
            (
                p.name,
                p.command,
                p.permissive,
                p.using_ties,
                p.check_ties,
                p.settings_read,
                p.session_roles,
            )
            for p in state.policies.values()
        ),
        "unique": sorted(
            (i.fields, i.primary, i.partial) for i in ent.indexes if i.unique and not i.expression
        ),
        "tenant_not_null": sorted(
            (f.column, not f.optional) for f in ent.fields if f.column in tenant_fields
        ),
    }


@needs_db
@pytest.mark.parametrize(
    ("fixture", "preamble"), [("next-prisma-rls", ""), ("supabase-sql", SUPABASE_PREAMBLE)]
)
def test_catalog_equals_replayed_migrations(fixture: str, preamble: str) -> None:
    project = FIXTURES / fixture
    cfg = load_project([project]).config
    files = migration_files(project)
    replayed = replay(files)
    with fresh_database() as db:
        rejected = apply(db, project, preamble)
        live = catalog_states(db)
    # PostgreSQL rejects exactly the statements the front end reports as TL001 …
    assert rejected == {(f.path, e.loc.line) for f in files for e in f.parse_errors}
    # … and leaves each table as the replay does.
    assert sorted(live) == sorted(replayed)
    for table in replayed:
        expected = summary(replayed[table], cfg.tenant_fields)
        assert summary(live[table], cfg.tenant_fields) == expected, table


def _db_audit(dbname: str, *args: str, role: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(
        main, ["db-audit", "--database-url", _url(dbname, role), "--format", "json", *args]
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)["findings"]


@contextmanager
def app_role(dbname: str) -> Iterator[str]:
    """A role without superuser or BYPASSRLS, owning nothing, for the app's connection."""
    name = f"tenantlint_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_url(dbname), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
    try:
        yield name
    finally:
        with psycopg.connect(_url(dbname), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{name}"; DROP ROLE "{name}"')


# The planted RLS defects of each fixture, as db-audit sees them: (db path, rule). The database
# cannot show what only code knows (next-prisma-rls's TL205 needs its TypeScript wrapper), and a
# suppression comment in a migration does not reach the catalog (supabase-sql's TL202).
PLANTED = {
    "next-prisma-rls": {
        ("db:public.invitations", "TL201"),
        ("db:public.api_keys", "TL202"),
        ("db:public.comments", "TL203"),
        ("db:public.documents", "TL204"),
    },
    "supabase-sql": {
        ("db:public.attachments", "TL201"),
        ("db:public.events", "TL201"),
        ("db:public.reports", "TL202"),
        ("db:public.comments", "TL203"),
        ("db:public.tasks", "TL204"),
        ("db:public.invoices", "TL204"),
        ("db:public.reports", "TL205"),
        ("db:public.set_current_org", "TL206"),
    },
}
PREAMBLES = {"next-prisma-rls": "", "supabase-sql": SUPABASE_PREAMBLE}


@needs_db
@pytest.mark.parametrize("fixture", sorted(PLANTED))
def test_db_audit_reports_planted_rls_defects(fixture: str) -> None:
    project = FIXTURES / fixture
    config = str(project / "tenantlint.toml")
    with fresh_database() as db:
        apply(db, project, PREAMBLES[fixture])
        with app_role(db) as role:
            code, findings = _db_audit(db, "--config", config, "--select", "TL2", role=role)
        _, as_superuser = _db_audit(db, "--config", config, "--select", "TL2")
    assert code == 1
    assert {(f["path"], f["rule"]) for f in findings if f["rule"].startswith("TL2")} == PLANTED[
        fixture
    ]
    # connected as a superuser, every tenant table with RLS is also reported as bypassed
    bypass = {f["path"] for f in as_superuser if "bypasses row level security" in f["message"]}
    secured = {p for p, rule in PLANTED[fixture] if rule in ("TL202", "TL203", "TL204")}
    assert secured <= bypass
    assert not any(p in bypass for p, rule in PLANTED[fixture] if rule == "TL201")


SECURED_SCHEMA = """
CREATE TABLE tenants (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
CREATE TABLE notes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  body text
);
CREATE INDEX notes_tenant_idx ON notes (tenant_id);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_tenant ON notes
  USING (tenant_id = current_setting('app.tenant_id')::uuid);
"""


@needs_db
def test_db_audit_is_clean_on_a_secured_database(tmp_path: Path) -> None:
    (tmp_path / "tenantlint.toml").write_text('tenant-models = ["tenants"]\n', encoding="utf-8")
    with fresh_database() as db:
        with psycopg.connect(_url(db), autocommit=True) as conn:
            conn.execute(SECURED_SCHEMA)
        with app_role(db) as role:
            code, findings = _db_audit(db, "--config", str(tmp_path / "tenantlint.toml"), role=role)
    assert findings == []
    assert code == 0


@needs_db
def test_compare_migrations_reports_drift() -> None:
    project = FIXTURES / "next-prisma-rls"
    with fresh_database() as db:
        apply(db, project)
        args = ("--compare-migrations", str(project), "--select", "TL2")
        _, before = _db_audit(db, *args)
        with psycopg.connect(_url(db), autocommit=True) as conn:
            conn.execute('ALTER TABLE "projects" NO FORCE ROW LEVEL SECURITY')
            conn.execute('DROP POLICY "tasks_tenant_isolation" ON "tasks"')
        _, after = _db_audit(db, *args)
    drift = [f for f in after if "drift" in f["message"]]
    assert not [f for f in before if "drift" in f["message"]]
    assert {(f["path"], f["rule"]) for f in drift} == {
        ("db:public.projects", "TL202"),
        ("db:public.tasks", "TL203"),
    }


# Each way a database URL or conninfo string reaches an error message, with the secret parts
# that must never be printed and a word that keeps the message useful.
LEAKY_URLS = {
    "percent-encoding": (
        "postgresql://u:S3cr3t%PW@127.0.0.1:5432/db",
        ("S3cr3t",),
        "invalid percent-encoded token",
    ),
    "ipv6": ("postgresql://u:S3cr3tPW@[::1/db", ("S3cr3t",), "IPv6 host address"),
    "conninfo-tail": (
        "host=127.0.0.1 password=S3cr3t T4il9 dbname=test",
        ("S3cr3t", "T4il9"),
        "connection info string",
    ),
    "conninfo-tail-as-option": (
        "host=127.0.0.1 password=S3cr3t T4il9=x",
        ("S3cr3t", "T4il9"),
        "invalid connection option",
    ),
    "conninfo-unreachable": (
        "host=127.0.0.1 port=1 user=app password=S3cr3tPW dbname=x",
        ("S3cr3t",),
        "Connection refused",
    ),
    "regex-metacharacters": (
        "postgresql://u:a.b*c+(d)[e]$^|?%zz@127.0.0.1:1/db",
        ("a.b*c+(d)[e]$^|?",),
        "invalid percent-encoded token",
    ),
    "regex-metacharacters-unreachable": (
        r"host=127.0.0.1 port=1 password='p.*+?(x)[y]$^|\\' dbname=x",
        ("p.*+?(x)[y]$^|",),
        "Connection refused",
    ),
    "query-password": (
        "postgresql://u@127.0.0.1:1/db?password=S3cr3t%QQ",
        ("S3cr3t",),
        "invalid percent-encoded token",
    ),
    "unreachable": (
        "postgresql://app:s3cr3t-pw@127.0.0.1:1/nope",
        ("s3cr3t-pw",),
        "Connection refused",
    ),
}


def _assert_one_clean_line(result: Any, secrets: tuple[str, ...], useful: str) -> None:
    assert result.exit_code == 2
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tenantlint: error: ")
    assert useful in result.stderr


@pytest.mark.parametrize("form", sorted(LEAKY_URLS))
def test_database_errors_never_print_a_secret(form: str) -> None:
    url, secrets, useful = LEAKY_URLS[form]
    result = CliRunner().invoke(main, ["db-audit", "--database-url", url])
    _assert_one_clean_line(result, secrets, useful)


@pytest.mark.parametrize("form", ["percent-encoding", "ipv6", "conninfo-tail"])
def test_database_url_from_the_environment_is_scrubbed_too(form: str) -> None:
    url, secrets, useful = LEAKY_URLS[form]
    result = CliRunner().invoke(main, ["db-audit"], env={"DATABASE_URL": url})
    _assert_one_clean_line(result, secrets, useful)


def test_verbose_does_not_print_the_secret_either() -> None:
    url, secrets, useful = LEAKY_URLS["ipv6"]
    result = CliRunner().invoke(main, ["db-audit", "--verbose", "--database-url", url])
    _assert_one_clean_line(result, secrets, useful)


def test_a_url_that_is_not_utf8_is_one_line() -> None:
    url = "postgresql://u:S3cr3t\udcffPW@127.0.0.1:1/db"  # undecodable argv byte
    result = CliRunner().invoke(main, ["db-audit", "--database-url", url])
    _assert_one_clean_line(result, ("S3cr3t",), "not valid UTF-8")


@settings(max_examples=200)
@given(
    password=st.text(
        alphabet=st.sampled_from([*"aZ9%@:/?#&=[]\\'\" .*+()$^|{}", "\t", "é"]), min_size=4
    ),
    form=st.sampled_from(
        [
            "postgresql://app:{}@127.0.0.1:1/db",
            "postgresql://app:{}@[::1/db",
            "postgresql://app@127.0.0.1:1/db?password={}",
            "host=127.0.0.1 port=1 password={} dbname=db",
            "host=127.0.0.1 port=1 password='{}' dbname=db",
        ]
    ),
)
def test_no_password_reaches_the_message(password: str, form: str) -> None:
    from tenantlint.dbaudit import read_catalog
    from tenantlint.errors import DatabaseError

    with pytest.raises(DatabaseError) as raised:
        read_catalog(form.format(password))
    message = str(raised.value)
    assert password not in message and "\n" not in message


@needs_db
def test_the_audit_connection_cannot_write() -> None:
    from tenantlint.dbaudit import connect

    assert URL
    with connect(URL) as conn:
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="read-only transaction"):
            conn.execute("CREATE TABLE tenantlint_audit_must_not_write ()")
    with psycopg.connect(URL) as check:
        row = check.execute("SELECT to_regclass('tenantlint_audit_must_not_write')").fetchone()
    assert row == (None,)
