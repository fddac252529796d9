"""`tenantlint db-audit`: a live PostgreSQL catalog → the same facts the migrations give → the rules.

Each table becomes one `FileFacts` at path `db:<schema>.<table>` holding a `create_table` op
(columns, NOT NULL, primary keys, unique and plain indexes, foreign keys) and its RLS state and
policies as ops, so the tenancy map replays it exactly as it replays migrations; SQL and PL/pgSQL
functions contribute the session settings they write (`db:<schema>.<function>`), for TL205/TL206.
What only a live database knows — the connecting role — is reported as TL202 findings: a
superuser or a BYPASSRLS role bypasses every policy whatever FORCE says. `--compare-migrations`
reports where the live database and the replayed migrations disagree on a tenant table's
security: RLS on/off as TL201, FORCE as TL202, the set of policies as TL203.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tenantlint.config import Config
from tenantlint.errors import DatabaseError
from tenantlint.facts import Entity, FieldFact, FileFacts, IndexFact, Loc, RelationRef, SqlOp
from tenantlint.frontends.sql import policy as sql_policy
from tenantlint.frontends.sql.pg import policy_fact
from tenantlint.registry import load_registry
from tenantlint.replay import TableState
from tenantlint.rule import Finding
from tenantlint.tenancy import TenancyMap

# Schemas of PostgreSQL itself and of platforms/extensions (Supabase, pg_cron …): not the app's.
SYSTEM_SCHEMAS = (
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "supabase_functions",
    "supabase_migrations",
    "extensions",
    "graphql",
    "graphql_public",
    "pgbouncer",
    "pgsodium",
    "pgsodium_masks",
    "vault",
    "net",
    "cron",
)
_GENERATED = ("gen_random_uuid", "uuid_generate_v", "nextval(")

_TABLES = """
SELECT c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname <> ALL(%(excluded)s) AND n.nspname NOT LIKE 'pg\\_%%'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
ORDER BY n.nspname, c.relname
"""
_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity <> ''
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
_INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique, i.indisprimary, i.indexprs IS NOT NULL,
       i.indpred IS NOT NULL,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY(%(oids)s)
ORDER BY i.indrelid, ic.relname
"""
_FOREIGN_KEYS = """
SELECT c.conrelid, t.relname,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)
FROM pg_constraint c JOIN pg_class t ON t.oid = c.confrelid
WHERE c.contype = 'f' AND c.conrelid = ANY(%(oids)s)
"""
_POLICIES = """
SELECT schemaname, tablename, policyname, permissive = 'PERMISSIVE', roles::text[], cmd,
       qual, with_check
FROM pg_policies ORDER BY schemaname, tablename, policyname
"""
_ROLE = "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
_ROUTINES = """
SELECT n.nspname, p.proname, p.prosrc
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE l.lanname IN ('sql', 'plpgsql') AND p.prokind IN ('f', 'p')
  AND n.nspname <> ALL(%(excluded)s) AND n.nspname NOT LIKE 'pg\\_%%'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
ORDER BY n.nspname, p.proname
"""


@dataclass
class Role:
    name: str
    superuser: bool
    bypass_rls: bool


@dataclass
class Catalog:
    """What db-audit read: one FileFacts per table, and the connecting role."""

    files: dict[str, FileFacts]
    role: Role
    routines: list[tuple[str, str, str]]  # (schema, name, source) of SQL and PL/pgSQL routines


@dataclass
class AuditResult:
    findings: list[Finding]
    tmap: TenancyMap


def read_catalog(url: str, schemas: tuple[str, ...] = ()) -> Catalog:
    """Connect and read the catalog, read-only. Raises DatabaseError (one line, no secret) on
    failure."""
    try:
        import psycopg
    except ImportError:
        raise DatabaseError("db-audit needs psycopg: pip install 'tenantlint[db]'") from None
    try:
        with connect(url) as conn:
            return _read(conn, schemas)
    except (psycopg.Error, UnicodeError) as exc:
        # psycopg resolves host names itself: an empty or overlong label fails in the codec
        detail = _first_line(exc) if isinstance(exc, psycopg.Error) else f"bad host: {exc}"
        # the target is scrubbed too: a password holding `/` makes libpq read it as a port
        message = f"cannot read the database at {redact(url)}: {detail}"
        raise DatabaseError(scrub(message, url)) from None


@contextmanager
def connect(url: str) -> Iterator[Any]:
    """A connection on which every statement runs in one READ ONLY, REPEATABLE READ transaction
    (one snapshot of the catalog), never committed: the auditor cannot write, even by mistake.
    The URL is parsed first, so that a malformed one fails with a scrubbed message of our own.
    """
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(url)
    except UnicodeError:
        raise DatabaseError("the database URL is not valid UTF-8") from None
    except psycopg.Error as exc:
        detail = scrub(_first_line(exc), url)
        raise DatabaseError(f"malformed database URL or conninfo string: {detail}") from None
    conn = psycopg.connect(url, connect_timeout=10, autocommit=False)
    try:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        yield conn
    finally:
        conn.close()  # closing discards the open transaction: nothing is ever committed


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def redact(url: str) -> str:
    """The URL or conninfo string without its password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except Exception:
        return "<unparseable database URL>"
    host = params.get("host") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    user = f"{params['user']}@" if params.get("user") else ""
    return f"postgresql://{user}{host}{port}/{params.get('dbname', '')}"


# libpq parameters whose values are secrets.
SECRET_KEYS = (
    "password",
    "sslpassword",
    "scram_client_key",
    "scram_server_key",
    "oauth_client_secret",
)
_SECRET_KEY = "|".join(SECRET_KEYS)
_URL_SCHEME = re.compile(r"\s*postgres(?:ql)?://", re.IGNORECASE)
_URL_QUERY_SECRET = re.compile(rf"[?&](?:{_SECRET_KEY})=([^&]*)")
_CONNINFO_SECRET = re.compile(rf"(?:^|\s)(?:{_SECRET_KEY})\s*=\s*")
_QUOTED = re.compile(r'"([^"\n]*)"')
_MIN_FREE_TEXT_SECRET = 4  # shorter secrets are only scrubbed where libpq quotes its input


def scrub(message: str, url: str) -> str:
    """`message` (a libpq or server error) without any secret of `url`, a URL or a conninfo
    string, even a malformed one. libpq quotes the input it echoes — a token, the tail of a
    value, the whole URL — so every quoted fragment that lies within a secret is masked too."""
    secrets = _secrets(url)
    for secret in sorted({url, url.strip(), *secrets}, key=len, reverse=True):
        if len(secret) >= _MIN_FREE_TEXT_SECRET:
            message = message.replace(secret, "***")

    def mask(match: re.Match[str]) -> str:
        fragment = match.group(1)
        return '"***"' if fragment and any(fragment in s for s in secrets) else match.group(0)

    return _QUOTED.sub(mask, message)


def _secrets(url: str) -> set[str]:
    """Every string that may be a secret of `url`: the secret values libpq parses, and — read
    from the raw text, as malformed input cannot be parsed — the password region of a URL's
    user info and query, or of a conninfo string up to the next keyword, percent-decoded and
    not."""
    from urllib.parse import unquote

    from psycopg.conninfo import conninfo_to_dict

    found: set[str] = set()
    try:
        params = conninfo_to_dict(url)
    except Exception:
        params = {}
    found.update(str(params[key]) for key in SECRET_KEYS if params.get(key))
    if scheme := _URL_SCHEME.match(url):
        rest = url[scheme.end() :]
        userinfo = rest[: rest.rfind("@")] if "@" in rest else ""
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
        found.update(m.group(1) for m in _URL_QUERY_SECRET.finditer(rest))
    else:
        found.update(_conninfo_values(url))
    found |= {unquote(s) for s in found}
    found |= {s.strip("'") for s in found}
    return {s for s in found if s}


def _conninfo_values(conninfo: str) -> Iterator[str]:
    """The raw text after each secret keyword of a conninfo string, up to the next keyword:
    `password=S3cr3t PW dbname=x` yields `S3cr3t PW`, all of which a malformed string echoes."""
    next_keyword = _keyword_pattern()
    for match in _CONNINFO_SECRET.finditer(conninfo):
        rest = conninfo[match.end() :]
        following = next_keyword.search(rest)
        yield (rest[: following.start()] if following else rest).strip()


@cache
def _keyword_pattern() -> re.Pattern[str]:
    """Where the next `keyword=` of a conninfo string starts, for every keyword libpq knows."""
    from psycopg import pq

    keywords = (re.escape(o.keyword.decode()) for o in pq.Conninfo.get_defaults())
    return re.compile(rf"\s(?:{'|'.join(keywords)})\s*=")


def _read(conn: Any, schemas: tuple[str, ...]) -> Catalog:
    with conn.cursor() as cur:
        cur.execute(_ROLE)
        name, superuser, bypass = cur.fetchone()
        role = Role(name, bool(superuser), bool(bypass))
        cur.execute(_TABLES, {"excluded": list(SYSTEM_SCHEMAS), "schemas": list(schemas) or None})
        tables = cur.fetchall()
        oids = [row[0] for row in tables]
        cur.execute(_COLUMNS, {"oids": oids})
        columns = _group(cur.fetchall())
        cur.execute(_INDEXES, {"oids": oids})
        indexes = _group(cur.fetchall())
        cur.execute(_FOREIGN_KEYS, {"oids": oids})
        fks = _group(cur.fetchall())
        cur.execute(_ROUTINES, {"excluded": list(SYSTEM_SCHEMAS), "schemas": list(schemas) or None})
        routines = [(str(a), str(b), str(c or "")) for a, b, c in cur.fetchall()]
        cur.execute(_POLICIES)
        policies: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for row in cur.fetchall():
            policies.setdefault((row[0], row[1]), []).append(row[2:])
    files: dict[str, FileFacts] = {}
    for oid, schema, table, rls, forced in tables:
        path = f"db:{schema}.{table}"
        ops = _table_ops(
            path, schema, table, columns.get(oid, []), indexes.get(oid, []), fks.get(oid, [])
        )
        loc = Loc(path=path, line=1, snippet=f"TABLE {schema}.{table}")
        if rls:
            ops.append(SqlOp(kind="enable_rls", table=table, schema_name=schema, loc=loc))
        if forced:
            ops.append(SqlOp(kind="force_rls", table=table, schema_name=schema, loc=loc))
        for pname, permissive, roles, cmd, qual, check in policies.get((schema, table), []):
            ploc = Loc(path=path, line=1, snippet=f"POLICY {pname} ON {schema}.{table}")
            policy = policy_fact(
                pname,
                table,
                permissive=bool(permissive),
                command=str(cmd),
                roles=tuple(roles or ()),
                using=sql_policy.parse_expression(qual) if qual else None,
                with_check=sql_policy.parse_expression(check) if check else None,
                texts=(qual, check),
                loc=ploc,
            )
            ops.append(
                SqlOp(
                    kind="create_policy", table=table, schema_name=schema, policy=policy, loc=ploc
                )
            )
        files[path] = FileFacts(
            path=path, frontend="db", migration=True, migration_key=(path,), sql_ops=tuple(ops)
        )
    return Catalog(files=files, role=role, routines=routines)


def _group(rows: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    out: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row[1:])
    return out


def _table_ops(
    path: str,
    schema: str,
    table: str,
    columns: list[tuple[Any, ...]],
    indexes: list[tuple[Any, ...]],
    fks: list[tuple[Any, ...]],
) -> list[SqlOp]:
    loc = Loc(path=path, line=1, snippet=f"TABLE {schema}.{table}")
    relations = {
        cols[0]: RelationRef(target=target, fields=tuple(cols), references=tuple(refs))
        for target, cols, refs in fks
        if cols
    }
    pk = next((tuple(cols) for _, _, primary, _, _, cols in indexes if primary), ())
    fields = tuple(
        FieldFact(
            name=name,
            column=name,
            type=type_,
            optional=not notnull,
            is_id=pk == (name,),
            generated_unique_default=identity or any(g in default for g in _GENERATED),
            relation=relations.get(name),
            loc=Loc(path=path, line=1, snippet=f"COLUMN {table}.{name}"),
        )
        for name, type_, notnull, default, identity in columns
    )
    index_facts = tuple(
        IndexFact(
            name=iname,
            fields=tuple(cols),
            unique=bool(unique),
            primary=bool(primary),
            expression=bool(expr),
            partial=bool(pred),
            loc=Loc(path=path, line=1, snippet=f"INDEX {iname}"),
        )
        for iname, unique, primary, expr, pred, cols in indexes
    )
    entity = Entity(
        name=table,
        table=table,
        schema_name=schema,
        source="db",
        kind="table",
        fields=fields,
        indexes=index_facts,
        loc=loc,
    )
    return [SqlOp(kind="create_table", table=table, schema_name=schema, entity=entity, loc=loc)]


# --- running the rules ----------------------------------------------------------------------


def audit(
    catalog: Catalog,
    config: Config,
    enabled: list[str],
    migrations: dict[str, FileFacts] | None = None,
) -> AuditResult:
    """The findings of the enabled rules on the catalog, plus the role's RLS bypass (TL202) and,
    given the project's migration facts, drift between the two (TL201/TL202/TL203)."""
    registry = load_registry()
    tmap = TenancyMap(config, {**catalog.files, **routine_facts(catalog, config)})
    findings = [
        item
        for code in enabled
        for item in registry.rules[code]().check(tmap)
        if isinstance(item, Finding)
    ]
    if "TL202" in enabled:
        rule = registry.rules["TL202"]()
        findings += [rule.finding(loc, msg) for loc, msg in _role_bypass(tmap, catalog.role)]
    if migrations is not None:
        findings += [
            registry.rules[code]().finding(loc, msg)
            for code, loc, msg in drift(tmap, migrations, config)
            if code in enabled
        ]
    findings = [
        f.model_copy(update={"severity": config.severity[f.rule]})
        if f.rule in config.severity
        else f
        for f in findings
    ]
    return AuditResult(findings=sorted(findings, key=Finding.sort_key), tmap=tmap)


def routine_facts(catalog: Catalog, config: Config) -> dict[str, FileFacts]:
    """The session settings the database's functions write (the RLS wrapper's, when one of
    them is a configured `rls-wrappers` name), one FileFacts per function that writes any."""
    from tenantlint.sqlanalysis import settings_in_code

    files: dict[str, FileFacts] = {}
    for schema, name, source in catalog.routines:
        path = f"db:{schema}.{name}"
        loc = Loc(path=path, line=1, snippet=f"FUNCTION {schema}.{name}")
        wrapper = name in config.rls_wrappers or f"{schema}.{name}" in config.rls_wrappers
        writes = tuple(
            w.model_copy(update={"function": f"{schema}.{name}", "in_wrapper": wrapper, "loc": loc})
            for w in settings_in_code(source)
        )
        if writes:
            files[path] = FileFacts(path=path, frontend="db", settings=writes)
    return files


def _role_bypass(tmap: TenancyMap, role: Role) -> Iterator[tuple[Loc, str]]:
    why = "a superuser" if role.superuser else "BYPASSRLS" if role.bypass_rls else None
    if why is None:
        return
    for info in tmap.entities:
        if info.classification == "scoped" and info.sql is not None and info.sql.rls_enabled:
            yield (
                info.sql.entity.loc,
                f"the connecting role '{role.name}' is {why}: it bypasses row level security on "
                f"'{info.table}' (FORCE does not apply to it); connect the application as a role "
                "without these attributes",
            )


def drift(
    live: TenancyMap, migrations: dict[str, FileFacts], config: Config
) -> Iterator[tuple[str, Loc, str]]:
    """Tenant tables whose security differs between the live database and the migrations, as
    (rule, loc, message): RLS on/off is TL201's concern, FORCE TL202's, the set of policies
    TL203's."""
    replayed = TenancyMap(config, migrations).tables
    for info in live.entities:
        state = info.sql
        if info.classification != "scoped" or state is None:
            continue
        other = replayed.get(info.table)
        if other is None:
            continue
        for code, what, here, there in _differences(state, other):
            yield (
                code,
                state.entity.loc,
                f"drift on '{info.table}': {what} is {here} in the database but {there} in the "
                "migrations",
            )


def _differences(live: TableState, mig: TableState) -> Iterator[tuple[str, str, str, str]]:
    def onoff(flag: bool) -> str:
        return "on" if flag else "off"

    if live.rls_enabled != mig.rls_enabled:
        yield "TL201", "row level security", onoff(live.rls_enabled), onoff(mig.rls_enabled)
    if live.rls_forced != mig.rls_forced:
        yield "TL202", "FORCE row level security", onoff(live.rls_forced), onoff(mig.rls_forced)
    ours, theirs = set(live.policies), set(mig.policies)
    for name in sorted(ours - theirs):
        yield "TL203", f"policy '{name}'", "present", "absent"
    for name in sorted(theirs - ours):
        yield "TL203", f"policy '{name}'", "absent", "present"


def project_context(root: Path, config: Config) -> tuple[Config, dict[str, FileFacts]]:
    """What the project at `root` tells db-audit: its config with model names in `tenant-models`
    and `global-models` also given as their tables (the catalog knows only tables), and its
    migration facts (for `--compare-migrations`)."""
    from tenantlint.collect import collect
    from tenantlint.discovery import discover

    files = collect(root, discover(root, config.include, config.exclude), config)
    tables = {e.name: e.table for f in files.values() for e in f.entities}

    def with_tables(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*names, *(tables[n] for n in names if n in tables)]))

    resolved = config.model_copy(
        update={
            "tenant_models": with_tables(config.tenant_models),
            "global_models": with_tables(config.global_models),
        }
    )
    return resolved, {path: facts for path, facts in files.items() if facts.migration}
