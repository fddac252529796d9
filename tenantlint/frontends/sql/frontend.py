"""The SQL front end: `.sql` files (and SQL strings in Python migrations) → DDL operations.

Statements are cut by a small lexer (`scan`) and checked by PostgreSQL's own grammar: pglast's
C parser, which also hands back the statement's tree as JSON — read directly for the DDL we track
(`ddl`). A statement PostgreSQL rejects is a parse error at its line; the rest of the file goes
on, cut again from the next line inside the rejected text that begins a statement (so that one
unterminated `$$` or `/*` costs one statement). A statement that holds no fact we track (DML
above all) gets PostgreSQL's verdict without a tree: a big seed INSERT stays cheap. Policies
go through pglast's Python tree so that their USING / WITH CHECK expressions can be analysed
(`pg`, `policy`). The static DDL inside `DO` blocks is replayed; function bodies are not DDL: a
function only contributes the session settings it writes (its header is still PostgreSQL's to
judge). (sqlglot, which parses ~40 times slower than that C parser, is kept for embedded SQL in
`tenantlint.sqlanalysis`, where dialects matter.)

Which files are migrations (replayed in order by the tenancy map) is decided by path: Prisma's
`<timestamp>_<name>/migration.sql`, `supabase/migrations/`, any `migrations/`, `migration/`,
`migrate/` or `sql/` folder, plus the configured `migrations` globs. Seeds, tests and down
migrations are not replayed: of those only functions are read, but every statement gets
PostgreSQL's verdict, as in a migration.

What PostgreSQL never sees is not held against a statement: in a psql script, `:name`,
`:'name'` and `:"name"` are psql's variables, filled in before the statement is sent. A NUL
byte anywhere is one TL001, at the first: PostgreSQL refuses it in query text (the lexer reads
each as a space, so that no statement is lost where pglast would stop reading).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

from tenantlint.config import Config
from tenantlint.facts import (
    Comment,
    FileFacts,
    Loc,
    ParseError,
    SettingWrite,
    SqlOp,
    Unverified,
)
from tenantlint.frontends.sql.scan import Chunk, Lines, Splitter, scan

_MIGRATION_DIRS = frozenset({"migrations", "migration", "migrate", "sql"})
_NOT_MIGRATION_DIRS = frozenset(
    {"seed", "seeds", "test", "tests", "__tests__", "fixtures", "testdata", "spec", "rollback"}
)
_WORD = re.compile(r"\w+")
_T = TypeVar("_T")


class SqlFrontEnd:
    name = "sql"

    def parse(self, path: str, text: str, config: Config) -> FileFacts:
        splitter = Splitter(_bind_placeholders(text))
        head = splitter.peek(20)
        dialect = foreign_dialect(head)
        if dialect is not None:  # PRECISION #10: not PostgreSQL, so unverified, not an error
            loc = Loc(path=path, line=head[0].line)
            reason = f"{dialect} SQL: tenantlint reads PostgreSQL migrations only"
            note = Unverified(loc=loc, kind="sql-dialect", reason=reason)
            for _ in splitter:  # cut to the end for the comments (suppressions still count)
                pass
            comments = tuple(splitter.comments)
            return FileFacts(path=path, frontend=self.name, comments=comments, unverified=(note,))
        migration = is_migration(path, config)
        reader = _Reader(path, splitter.lines, config, ddl=migration)
        reader.read(splitter)
        return FileFacts(
            path=path,
            frontend=self.name,
            comments=tuple(splitter.comments + reader.comments),
            parse_errors=tuple(reader.errors),
            migration=migration,
            migration_key=migration_key(path) if migration else (),
            sql_ops=tuple(reader.ops),
            settings=tuple(reader.settings),
        )


_DIALECT_MARKS = (
    ("MySQL", re.compile(r"`[^`\n]+`|\bENGINE\s*=\s*InnoDB\b", re.IGNORECASE)),
    ("SQLite", re.compile(r"\bAUTOINCREMENT\b|^\s*PRAGMA\b", re.IGNORECASE)),
    ("SQL Server", re.compile(r"\[dbo\]|\bNVARCHAR\b|\bIDENTITY\s*\(\s*1\s*,", re.IGNORECASE)),
    (
        "ClickHouse",
        re.compile(
            r"\bENGINE\s*=\s*(?:\w*MergeTree|Memory|Log|TinyLog|Distributed|Kafka)\b", re.IGNORECASE
        ),
    ),
)
# client-side placeholders of psycopg (`%(name)s`, `%s`): PostgreSQL reads them as `$1`
_PLACEHOLDER = re.compile(r"%\(\w+\)s|(?<![\w%'])%s(?![\w'])")


def foreign_dialect(chunks: list[Chunk]) -> str | None:
    """The dialect of a SQL file that is plainly not PostgreSQL (a Prisma mysql or sqlite
    project's migrations), judged from its first statements; None for PostgreSQL."""
    for chunk in chunks[:20]:
        # the marks sit in DDL, near its start or end: the head of a 5 MB INSERT is enough
        code = _LITERALS.sub("", chunk.text[:_DIALECT_WINDOW])
        for dialect, mark in _DIALECT_MARKS:
            if mark.search(code):
                return dialect
    return None


_LITERALS = re.compile(r"'[^']*(?:''[^']*)*'|--[^\r\n]*|\$(\w*)\$.*?\$\1\$", re.DOTALL)
_DIALECT_WINDOW = 65_536


def sql_to_ops(
    sql: str, path: str, line: int, column: int, config: Config
) -> tuple[tuple[SqlOp, ...], tuple[ParseError, ...]]:
    """The DDL operations of SQL embedded in code (Alembic `op.execute`, Django `RunSQL`);
    positions are shifted so that (1, 1) of `sql` is (`line`, `column`) of the file. SQL of
    another dialect (a ClickHouse `RunSQL`) is not PostgreSQL's to judge: no operations."""
    splitter = Splitter(_bind_placeholders(sql))
    if foreign_dialect(splitter.peek(20)) is not None:
        return (), ()
    reader = _Reader(path, splitter.lines, config, ddl=True, origin=(line, column))
    reader.read(splitter)
    return tuple(reader.ops), tuple(reader.errors)


def _bind_placeholders(text: str) -> str:
    """psycopg's placeholders as PostgreSQL's, padded to keep every position."""
    if "%" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: "$1".ljust(len(m[0])), text)


# --- which files are migrations, in which order ----------------------------------------------


def is_migration(path: str, config: Config) -> bool:
    parts = path.lower().split("/")
    name = parts[-1]
    if config.migrations and _glob(config.migrations).match_file(path):
        return True
    if any(p in _NOT_MIGRATION_DIRS for p in parts[:-1]) or name.startswith(("seed", "test")):
        return False
    if name.endswith(("down.sql", ".rollback.sql")):
        return False
    return name == "migration.sql" or any(p in _MIGRATION_DIRS for p in parts[:-1])


@lru_cache(maxsize=16)
def _glob(patterns: tuple[str, ...]) -> Any:
    from tenantlint.discovery import globspec

    return globspec(patterns)


def migration_key(path: str) -> tuple[str, ...]:
    """Folder name for one-file-per-folder layouts (Prisma, Diesel), else the file name; leading
    numbers (timestamps, sequence numbers) compared as numbers."""
    parts = path.split("/")
    unit = (
        parts[-2]
        if parts[-1].lower() in ("migration.sql", "up.sql") and len(parts) > 1
        else parts[-1]
    )
    return (re.sub(r"^\d+", lambda m: m.group().zfill(24), unit), path)


# --- statements ----------------------------------------------------------------------------


@dataclass
class _Stmt:
    """One statement being read: its chunk and how to place its offsets in the file."""

    chunk: Chunk
    lines: Lines
    path: str
    origin: tuple[int, int] | None

    def loc(self, start: int = 0, length: int = 0) -> Loc:
        """Loc of the text at `start` (an offset into the statement), `length` characters long."""
        line, col = self._pos(self.chunk.offset + start)
        end_line, end_col = self._pos(self.chunk.offset + start + length)
        text = self.chunk.text[start : start + length] if length else self._head()
        return Loc(
            path=self.path,
            line=line,
            column=col,
            end_line=end_line,
            end_column=end_col,
            snippet=" ".join(text.split()),
        )

    def _pos(self, offset: int) -> tuple[int, int]:
        line, col = self.lines.position(offset)
        if self.origin is None:
            return line, col
        return self.origin[0] + line - 1, col + self.origin[1] - 1 if line == 1 else col

    def _head(self) -> str:
        return self.chunk.text[:200].split("(", 1)[0][:120]  # not a copy of a 5 MB INSERT

    def place(self, byte_offset: int, length: int) -> Loc:
        """Loc of the text at a byte offset pglast reported, `length` characters long."""
        text = self.chunk.text
        start = byte_offset if text.isascii() else _char_offset(text, byte_offset)
        return self.loc(start, length)

    def statement_loc(self) -> Loc:
        head = self._head().rstrip()
        return self.loc(0, len(head))


class _Reader:
    """Turns statements into ops, settings and parse errors."""

    def __init__(
        self,
        path: str,
        lines: Lines,
        config: Config,
        ddl: bool,
        origin: tuple[int, int] | None = None,
    ) -> None:
        self.path, self.lines, self.config, self.ddl, self.origin = path, lines, config, ddl, origin
        self.ops: list[SqlOp] = []
        self.errors: list[ParseError] = []
        self.settings: list[SettingWrite] = []
        self.comments: list[Comment] = []  # inside DO blocks (the lexer sees only a string)

    def read(self, splitter: Splitter) -> None:
        """Every statement of the text; after one PostgreSQL rejects, the cut starts again inside
        it, at the next line that begins a statement."""
        if splitter.nul >= 0:
            at = Chunk(text=" ", offset=splitter.nul, line=0, column=0)
            loc = _Stmt(at, self.lines, self.path, self.origin).loc(0, 1)
            message = "a NUL byte (0x00): PostgreSQL refuses it in SQL text"
            self.errors.append(ParseError(loc=loc, message=message))
        for chunk in splitter:
            if not self.statement(chunk):
                splitter.restart(chunk)

    def statement(self, chunk: Chunk, nested: bool = False) -> bool:
        """Read one statement; False when PostgreSQL rejects it."""
        stmt = _Stmt(chunk, self.lines, self.path, self.origin)
        words = [w.upper() for w in _WORD.findall(chunk.text, 0, 80)[:4]]
        if words[:1] == ["DO"] and self.ddl and not nested:
            return self._do_block(stmt)
        if _is_routine(words):
            return self._routine(stmt, report=not nested)
        tracked = _tracked_ddl(words)
        # SQL in code may hold driver placeholders (`%s`, `:name`): only its DDL is checked there
        if self.origin is not None and not tracked:
            return True
        if not (self.ddl and tracked):  # DML, other DDL, and any statement of a seed or test
            return self._verdict(stmt, report=not nested)
        tree = self._tree(stmt, report=not nested)
        if tree is None:
            return False
        from tenantlint.frontends.sql.ddl import ddl_ops

        for raw in tree:
            ops = ddl_ops(raw["stmt"], stmt.place, stmt.statement_loc())
            self.ops += self._policy_ops(stmt) if ops is None else ops
        return True

    def _tree(self, stmt: _Stmt, report: bool = True) -> list[dict[str, Any]] | None:
        """PostgreSQL's parse tree of the statement (as JSON), or None and a parse error."""
        from pglast.parser import parse_sql_json

        tree = self._parse(stmt, report, lambda text: json.loads(parse_sql_json(text)))
        return None if tree is None else list(tree.get("stmts", []))

    def _verdict(self, stmt: _Stmt, report: bool) -> bool:
        """PostgreSQL's verdict alone, for a statement that holds no fact we track (DML above
        all). pglast's `split` runs the same parser but hands no tree to Python: a 5 MB INSERT
        is checked in a fraction of the time and memory its JSON tree would take. A statement
        rejected only for psql's variables (`GRANT … TO :role`) is accepted."""
        from pglast.parser import split

        def check(text: str) -> tuple[str, ...]:
            return tuple(split(text, with_parser=True))

        if _PSQL_VARIABLE.search(stmt.chunk.text):
            filled = replace(
                stmt, chunk=replace(stmt.chunk, text=_PSQL_VARIABLE.sub(" ", stmt.chunk.text))
            )
            if self._parse(filled, False, check) is not None:
                return True
        return self._parse(stmt, report, check) is not None

    def _parse(self, stmt: _Stmt, report: bool, parser: Callable[[str], _T]) -> _T | None:
        """`parser` on the statement's text, or None and (when `report`) a parse error."""
        from pglast.parser import ParseError as PgParseError

        try:
            return parser(stmt.chunk.text)
        except PgParseError as exc:
            if not report:
                return None
            where = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            line = stmt.place(where, 0).line
            loc = stmt.statement_loc()
            suffix = f" (line {line})" if line != loc.line else ""
            message = _NEAR.sub(_short_near, str(exc.args[0]))
            self.errors.append(ParseError(loc=loc, message=f"{message}{suffix}"))
        except Exception as exc:  # the text itself is refused (a NUL byte …)
            if report:
                self.errors.append(
                    ParseError(loc=stmt.statement_loc(), message=f"cannot parse SQL: {exc}")
                )
        return None

    def _policy_ops(self, stmt: _Stmt) -> list[SqlOp]:
        """CREATE/ALTER POLICY through pglast's Python tree, whose expressions we analyse."""
        from pglast import parse_sql

        from tenantlint.frontends.sql.pg import pg_ops

        try:
            parsed = parse_sql(stmt.chunk.text)
        except Exception:  # accepted by the C parser, refused by its Python tree builder
            return []
        loc = stmt.statement_loc()
        return [op for raw in parsed for op in pg_ops(raw.stmt, stmt.chunk.text, loc)]

    # -- DO blocks: the static DDL they run (`IF NOT EXISTS (…) THEN CREATE POLICY …`)

    def _do_block(self, stmt: _Stmt) -> bool:
        """Replay the static SQL statements of a PL/pgSQL DO block, as if each ran once (the
        idempotent-migration idiom). Dynamic SQL (`EXECUTE format(…)`) cannot be known."""
        from pglast.parser import parse_plpgsql_json

        stmts = self._tree(stmt)
        if stmts is None:
            return False
        try:
            tree = stmts[0]["stmt"]["DoStmt"]
            options = {o["DefElem"]["defname"]: o["DefElem"]["arg"] for o in tree["args"]}
            body = options["as"]["String"]["sval"]
            language = options.get("language", {}).get("String", {}).get("sval", "plpgsql")
            function = (
                f"CREATE FUNCTION tl_do() RETURNS void LANGUAGE plpgsql AS $tl_do${body}$tl_do$"
            )
            plpgsql = json.loads(parse_plpgsql_json(function))
        except Exception:  # not PL/pgSQL, or not parseable as such: nothing we can replay
            return True
        if language != "plpgsql":
            return True
        text = stmt.chunk.text
        base = stmt.chunk.offset + max(text.find(body), 0)
        body_lines = Lines(body)
        for c in scan(body)[1]:
            line, column = self.lines.position(base + body_lines.offset(c.line, c.column))
            self.comments.append(c.model_copy(update={"line": line, "column": column}))
        from tenantlint.frontends.sql.ddl import json_nodes

        for node in json_nodes(plpgsql):
            sql, at = _static_sql(node)
            if sql is None:
                continue
            offset = base + max(body.find(at), 0)
            line, column = self.lines.position(offset)
            self.statement(Chunk(text=sql, offset=offset, line=line, column=column), nested=True)
        return True

    # -- functions: the settings they write ----------------------------------------------

    def _routine(self, stmt: _Stmt, report: bool) -> bool:
        from tenantlint.sqlanalysis import settings_in_code

        # PostgreSQL's grammar reads the header; the body is a string, in any language
        stmts = self._tree(stmt, report)
        if stmts is None:
            return False
        node = stmts[0]["stmt"].get("CreateFunctionStmt", {}) if stmts else {}
        name = ".".join(n["String"]["sval"] for n in node.get("funcname", ()) if "String" in n)
        bodies = [
            item["String"]["sval"]
            for opt in node.get("options", ())
            if opt.get("DefElem", {}).get("defname") == "as"
            for item in opt["DefElem"].get("arg", {}).get("List", {}).get("items", ())
            if "String" in item
        ]
        short = name.rsplit(".", 1)[-1]
        wrapper = short in self.config.rls_wrappers or name in self.config.rls_wrappers
        loc = stmt.statement_loc()
        for body in bodies:
            for write in settings_in_code(body):
                update = {"function": name, "in_wrapper": wrapper, "loc": loc}
                self.settings.append(write.model_copy(update=update))
        return True


def _tracked_ddl(words: list[str]) -> bool:
    """Statements that can change what we track: tables, columns, keys, indexes, RLS, policies."""
    verb, rest = (words[:1] or [""])[0], words[1:]
    if verb == "CREATE":
        skip = ("OR", "REPLACE", "UNIQUE", "UNLOGGED", "GLOBAL", "LOCAL", "TEMP", "TEMPORARY")
        rest = [w for w in rest if w not in skip]
    return verb in ("CREATE", "ALTER", "DROP") and rest[:1] in (["TABLE"], ["INDEX"], ["POLICY"])


def _is_routine(words: list[str]) -> bool:
    if words[:1] != ["CREATE"]:
        return False
    rest = words[1:]
    if rest[:2] == ["OR", "REPLACE"]:
        rest = rest[2:]
    return rest[:1] in (["FUNCTION"], ["PROCEDURE"])


def _static_sql(node: dict[str, Any]) -> tuple[str | None, str]:
    """The SQL a PL/pgSQL statement runs, when it is known: a static statement, or `EXECUTE`
    of a string literal. Returns (sql, the text to find it by in the body)."""
    from pglast.parser import parse_sql_json

    if "PLpgSQL_stmt_execsql" in node:
        query = str(node["PLpgSQL_stmt_execsql"]["sqlstmt"]["PLpgSQL_expr"]["query"])
        return query, query
    expr = node.get("PLpgSQL_stmt_dynexecute", {}).get("query", {}).get("PLpgSQL_expr", {})
    if "query" not in expr:
        return None, ""
    try:
        target = json.loads(parse_sql_json(f"SELECT {expr['query']}"))["stmts"][0]["stmt"]
        value = target["SelectStmt"]["targetList"][0]["ResTarget"]["val"]["A_Const"]["sval"]
    except Exception:  # `EXECUTE format(…)` and the like: dynamic, unknowable
        return None, ""
    return str(value["sval"]), str(expr["query"])


_NEAR = re.compile(r'(at or near ")(.*)"$', re.DOTALL)
# the colon of a psql variable reference: `:name`, `:'name'`, `:"name"` (not `::type`, `a[1:n]`)
_PSQL_VARIABLE = re.compile(r"(?<![:\w\]\)]):(?=['\"]?[A-Za-z_])")


def _short_near(m: re.Match[str]) -> str:
    """PostgreSQL quotes the token it stopped at: for an unterminated literal, the rest of the
    file. Its first line, 40 characters at most, says enough."""
    near = m[2]
    short = (near.splitlines() or [""])[0][:40]
    return f'{m[1]}{short}{"…" if short != near else ""}"'


def _char_offset(text: str, byte_offset: int) -> int:
    """pglast reports byte offsets into the UTF-8 text; positions are in characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
