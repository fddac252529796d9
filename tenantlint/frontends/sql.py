"""The SQL front end: `.sql` files (and SQL strings in Python migrations) → DDL operations.

Statements are cut by a small lexer (`sql_scan`), parsed by sqlglot, and — for the PostgreSQL DDL
sqlglot leaves as a bare `Command` (row-level security, policies) or rejects — by pglast,
PostgreSQL's own parser, imported only when such a statement shows up. A statement neither parser
accepts is a parse error at its line; the rest of the file goes on. Function bodies and `DO`
blocks are not analysed as DDL: a function only contributes the session settings it writes.

Which files are migrations (replayed in order by the tenancy map) is decided by path: Prisma's
`<timestamp>_<name>/migration.sql`, `supabase/migrations/`, any `migrations/`, `migration/`,
`migrate/` or `sql/` folder, plus the configured `migrations` globs. Seeds, tests and down
migrations are not; of those only functions are read.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenantlint.config import Config
from tenantlint.facts import (
    Entity,
    FieldFact,
    FileFacts,
    IndexFact,
    Loc,
    ParseError,
    PolicyFact,
    RelationRef,
    SettingWrite,
    SqlOp,
)
from tenantlint.frontends.sql_scan import Chunk, Lines, scan

if TYPE_CHECKING:
    from sqlglot import exp

_MIGRATION_DIRS = frozenset({"migrations", "migration", "migrate", "sql"})
_NOT_MIGRATION_DIRS = frozenset(
    {"seed", "seeds", "test", "tests", "__tests__", "fixtures", "testdata", "spec", "rollback"}
)
_WORD = re.compile(r"\w+")
_RLS = re.compile(r"\bROW\s+LEVEL\s+SECURITY\b", re.IGNORECASE)
# Defaults (and types) whose values are unique across all tenants by construction.
_GENERATED_UNIQUE = frozenset(
    {
        "uuid",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v4",
        "uuid_generate_v7",
        "uuidv4",
        "uuidv7",
        "nextval",
        "cuid",
        "ulid",
        "gen_ulid",
    }
)
_SERIAL = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL"})
_POLICY_COMMANDS = {
    "all": "ALL",
    "select": "SELECT",
    "insert": "INSERT",
    "update": "UPDATE",
    "delete": "DELETE",
}


class SqlFrontEnd:
    name = "sql"

    def parse(self, path: str, text: str, config: Config) -> FileFacts:
        migration = is_migration(path, config)
        chunks, comments = scan(text)
        reader = _Reader(path, Lines(text), config, ddl=migration)
        for chunk in chunks:
            reader.statement(chunk)
        return FileFacts(
            path=path,
            frontend=self.name,
            comments=tuple(comments),
            parse_errors=tuple(reader.errors),
            migration=migration,
            migration_key=migration_key(path) if migration else (),
            sql_ops=tuple(reader.ops),
            settings=tuple(reader.settings),
        )


def sql_to_ops(
    sql: str, path: str, line: int, column: int, config: Config
) -> tuple[tuple[SqlOp, ...], tuple[ParseError, ...]]:
    """The DDL operations of SQL embedded in code (Alembic `op.execute`, Django `RunSQL`);
    positions are shifted so that (1, 1) of `sql` is (`line`, `column`) of the file."""
    reader = _Reader(path, Lines(sql), config, ddl=True, origin=(line, column))
    for chunk in scan(sql)[0]:
        reader.statement(chunk)
    return tuple(reader.ops), tuple(reader.errors)


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
        return self.chunk.text.split("(", 1)[0][:120]

    def at(self, node: exp.Expr | None) -> Loc:
        """Loc of a parsed identifier (sqlglot keeps its offsets), else of the statement."""
        meta = getattr(node, "meta", None) or {}
        if "start" in meta and "end" in meta:
            return self.loc(meta["start"], meta["end"] - meta["start"] + 1)
        return self.statement_loc()

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

    def statement(self, chunk: Chunk) -> None:
        stmt = _Stmt(chunk, self.lines, self.path, self.origin)
        words = [w.upper() for w in _WORD.findall(chunk.text, 0, 80)[:4]]
        if words[:1] == ["DO"]:
            return
        if _is_routine(words):
            self._routine(stmt)
            return
        if not self.ddl:
            return
        security = words[:2] in (["CREATE", "POLICY"], ["ALTER", "POLICY"], ["DROP", "POLICY"]) or (
            words[:2] == ["ALTER", "TABLE"] and bool(_RLS.search(chunk.text))
        )
        tracked = security or _tracked_ddl(words)
        # SQL in code may hold driver placeholders (`%s`, `:name`): only its DDL is checked there
        if (self.origin is not None and not tracked) or not self._accepted(stmt):
            return
        if security:
            self._pglast(stmt)
        elif tracked:
            self._sqlglot(stmt)

    def _accepted(self, stmt: _Stmt) -> bool:
        """Whether PostgreSQL's own parser accepts the statement; if not, a parse error.
        (Its C parser alone runs at tens of thousands of statements a second: every statement
        is checked here, and only the DDL we track is parsed into a tree.)"""
        from pglast.parser import ParseError as PgParseError
        from pglast.parser import parse_sql_json

        try:
            parse_sql_json(stmt.chunk.text)
        except PgParseError as exc:
            where = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            line = stmt.loc(_char_offset(stmt.chunk.text, where)).line
            loc = stmt.statement_loc()
            suffix = f" (line {line})" if line != loc.line else ""
            self.errors.append(ParseError(loc=loc, message=f"{exc.args[0]}{suffix}"))
            return False
        except Exception as exc:  # the text itself is refused (a NUL byte …)
            self.errors.append(
                ParseError(loc=stmt.statement_loc(), message=f"cannot parse SQL: {exc}")
            )
            return False
        return True

    # -- sqlglot: the common DDL ----------------------------------------------------------

    def _sqlglot(self, stmt: _Stmt) -> None:
        import sqlglot
        from sqlglot import exp

        logging.getLogger("sqlglot").setLevel(logging.ERROR)
        try:
            node = sqlglot.parse_one(stmt.chunk.text, read="postgres")
            self.ops += (
                _DDL(stmt).ops(node) if isinstance(node, (exp.DDL, exp.Alter, exp.Drop)) else []
            )
            if isinstance(node, (exp.DDL, exp.Alter, exp.Drop)):
                return
        except Exception:  # sqlglot rejects valid PostgreSQL, or an AST shape we do not know
            pass
        self._pglast(stmt)  # a Command, or what sqlglot could not read: PostgreSQL's tree

    # -- pglast: RLS, policies, and what sqlglot does not parse ---------------------------

    def _pglast(self, stmt: _Stmt) -> None:
        from pglast import parse_sql

        from tenantlint.frontends.sql_pg import pg_ops

        try:
            parsed = parse_sql(stmt.chunk.text)
        except Exception:  # accepted by the C parser, refused by its Python tree builder
            return
        for raw in parsed:
            self.ops += pg_ops(raw.stmt, stmt.statement_loc())

    # -- functions: the settings they write ----------------------------------------------

    def _routine(self, stmt: _Stmt) -> None:
        from tenantlint.sqlanalysis import settings_in_code

        name = _routine_name(stmt.chunk.text)
        short = name.rsplit(".", 1)[-1]
        wrapper = short in self.config.rls_wrappers or name in self.config.rls_wrappers
        loc = stmt.statement_loc()
        for write in settings_in_code(_routine_body(stmt.chunk.text)):
            self.settings.append(
                write.model_copy(update={"function": name, "in_wrapper": wrapper, "loc": loc})
            )


def _tracked_ddl(words: list[str]) -> bool:
    """Statements that can change what we track: tables, columns, keys, indexes."""
    verb, rest = (words[:1] or [""])[0], words[1:]
    if verb == "CREATE":
        rest = [
            w for w in rest if w not in ("OR", "REPLACE", "UNIQUE", "UNLOGGED", "GLOBAL", "LOCAL")
        ]
        return rest[:1] in (["TABLE"], ["INDEX"])
    return verb in ("ALTER", "DROP") and rest[:1] in (["TABLE"], ["INDEX"])


def _is_routine(words: list[str]) -> bool:
    if words[:1] != ["CREATE"]:
        return False
    rest = words[1:]
    if rest[:2] == ["OR", "REPLACE"]:
        rest = rest[2:]
    return rest[:1] in (["FUNCTION"], ["PROCEDURE"])


_ROUTINE_NAME = re.compile(
    r"\b(?:FUNCTION|PROCEDURE)\s+((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)", re.I
)


def _routine_name(text: str) -> str:
    m = _ROUTINE_NAME.search(text)
    return m.group(1).replace('"', "").replace(" ", "") if m else ""


def _routine_body(text: str) -> str:
    """The body of CREATE FUNCTION: its dollar-quoted or quoted string(s), or the SQL body."""
    from sqlglot import TokenType
    from sqlglot.dialects.dialect import Dialect

    try:
        toks = Dialect.get_or_raise("postgres").tokenize(text)
    except Exception:
        return text
    bodies = [t.text for t in toks if t.token_type in (TokenType.HEREDOC_STRING, TokenType.STRING)]
    return ";\n".join(bodies) if bodies else text


def _char_offset(text: str, byte_offset: int) -> int:
    """pglast reports byte offsets into the UTF-8 text; positions are in characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


# --- DDL from sqlglot's tree -----------------------------------------------------------------


def ident(node: Any) -> str:
    """A name as PostgreSQL stores it: unquoted identifiers fold to lower case."""
    from sqlglot import exp

    if isinstance(node, exp.Identifier):
        text: str = node.this
        return text if node.quoted else text.lower()
    if isinstance(node, (exp.Column, exp.Table)):
        return ident(node.this)
    return str(node.name if hasattr(node, "name") else node)


class _DDL:
    """The ops of one parsed statement."""

    def __init__(self, stmt: _Stmt) -> None:
        self.stmt = stmt

    def ops(self, node: exp.Expr) -> list[SqlOp]:
        from sqlglot import exp

        if isinstance(node, exp.Create):
            kind = str(node.args.get("kind") or "").upper()
            if kind == "TABLE":
                return self._create_table(node)
            if kind == "INDEX":
                return self._create_index(node)
            return []
        if isinstance(node, exp.Alter):
            return self._alter(node)
        if isinstance(node, exp.Drop):
            return self._drop(node)
        return []

    def _op(self, kind: Any, table: exp.Table | None, loc: Loc | None = None, **kw: Any) -> SqlOp:
        name = ident(table) if table is not None else ""
        schema = ident(table.args["db"]) if table is not None and table.args.get("db") else None
        return SqlOp(
            kind=kind, table=name, schema_name=schema, loc=loc or self.stmt.statement_loc(), **kw
        )

    # CREATE TABLE

    def _create_table(self, node: exp.Create) -> list[SqlOp]:
        from sqlglot import exp

        schema = node.this
        table = schema.this if isinstance(schema, exp.Schema) else schema
        if not isinstance(table, exp.Table):
            return []
        name = ident(table)
        fields: list[FieldFact] = []
        indexes: list[IndexFact] = []
        pk_columns: set[str] = set()
        for item in schema.expressions if isinstance(schema, exp.Schema) else ():
            if isinstance(item, exp.ColumnDef):
                fact, inline = self._column(name, item)
                fields.append(fact)
                indexes += inline
                pk_columns |= {c for i in inline if i.primary for c in i.fields}
            else:
                found = self._table_constraint(name, item)
                indexes += found
                pk_columns |= {c for i in found if i.primary for c in i.fields}
                fields = self._with_foreign_key(fields, item)
        fields = [
            f.model_copy(update={"optional": False, "is_id": len(pk_columns) == 1})
            if f.column in pk_columns
            else f
            for f in fields
        ]
        entity = Entity(
            name=name,
            table=name,
            schema_name=ident(table.args["db"]) if table.args.get("db") else None,
            source="sql",
            kind="table",
            fields=tuple(fields),
            indexes=tuple(indexes),
            loc=self.stmt.statement_loc(),
        )
        return [
            self._op("create_table", table, entity=entity, if_exists=bool(node.args.get("exists")))
        ]

    def _column(self, table: str, col: exp.ColumnDef) -> tuple[FieldFact, list[IndexFact]]:
        from sqlglot import exp

        name = ident(col.this)
        loc = self.stmt.at(col.this)
        kind = col.args.get("kind")
        # the type's name only: generating SQL text for it would cost a tenth of the front end
        type_text = str(getattr(kind.this, "name", kind.this)) if kind is not None else ""
        optional, generated, relation = True, type_text in _SERIAL, None
        indexes: list[IndexFact] = []
        for cons in col.args.get("constraints") or ():
            c = cons.args.get("kind") if isinstance(cons, exp.ColumnConstraint) else cons
            if isinstance(c, exp.NotNullColumnConstraint):
                optional = bool(c.args.get("allow_null"))
            elif isinstance(c, exp.PrimaryKeyColumnConstraint):
                indexes.append(
                    IndexFact(
                        name=f"{table}_pkey", fields=(name,), unique=True, primary=True, loc=loc
                    )
                )
            elif isinstance(c, exp.UniqueColumnConstraint):
                indexes.append(
                    IndexFact(name=_key_name(table, [name]), fields=(name,), unique=True, loc=loc)
                )
            elif isinstance(c, exp.DefaultColumnConstraint):
                generated = generated or _generates_unique(c.this)
            elif isinstance(c, exp.GeneratedAsIdentityColumnConstraint):
                generated = True
            elif isinstance(c, exp.Reference):
                relation = _reference(c, (name,))
        fact = FieldFact(
            name=name,
            column=name,
            type=type_text,
            optional=optional,
            generated_unique_default=generated,
            relation=relation,
            loc=loc,
        )
        return fact, indexes

    def _table_constraint(self, table: str, item: exp.Expr) -> list[IndexFact]:
        from sqlglot import exp

        cname: str | None = None
        loc = self.stmt.at(None)
        parts = [item]
        if isinstance(item, exp.Constraint):
            cname = ident(item.this)
            loc = self.stmt.at(item.this)
            parts = list(item.expressions)
        out: list[IndexFact] = []
        for part in parts:
            if isinstance(part, exp.PrimaryKey):
                cols = tuple(ident(e) for e in part.expressions)
                if cname is None and cols:
                    loc = self.stmt.at(part.expressions[0])
                out.append(
                    IndexFact(
                        name=cname or f"{table}_pkey",
                        fields=cols,
                        unique=True,
                        primary=True,
                        loc=loc,
                    )
                )
            elif isinstance(part, exp.UniqueColumnConstraint):
                target = part.this
                cols = (
                    tuple(ident(e) for e in target.expressions)
                    if isinstance(target, exp.Schema)
                    else ()
                )
                if cname is None and isinstance(target, exp.Schema) and target.expressions:
                    loc = self.stmt.at(target.expressions[0])
                out.append(
                    IndexFact(
                        name=cname or _key_name(table, list(cols)),
                        fields=cols,
                        unique=True,
                        loc=loc,
                    )
                )
        return out

    def _with_foreign_key(self, fields: list[FieldFact], item: exp.Expr) -> list[FieldFact]:
        from sqlglot import exp

        fks = [item] if isinstance(item, exp.ForeignKey) else list(item.find_all(exp.ForeignKey))
        for fk in fks:
            cols = tuple(ident(e) for e in fk.expressions)
            ref = fk.args.get("reference")
            if not cols or not isinstance(ref, exp.Reference):
                continue
            relation = _reference(ref, cols)
            fields = [
                f.model_copy(update={"relation": relation}) if f.column == cols[0] else f
                for f in fields
            ]
        return fields

    # CREATE INDEX

    def _create_index(self, node: exp.Create) -> list[SqlOp]:
        from sqlglot import exp

        index = node.this
        if not isinstance(index, exp.Index) or not isinstance(index.args.get("table"), exp.Table):
            return []
        table: exp.Table = index.args["table"]
        params = index.args.get("params")
        columns: list[str] = []
        expression = False
        for item in params.args.get("columns") or () if params is not None else ():
            inner = item.this if isinstance(item, exp.Ordered) else item
            if isinstance(inner, exp.Column):
                columns.append(ident(inner))
            else:
                expression = True
                columns += [ident(c) for c in inner.find_all(exp.Column)]
        name = (
            ident(index.this)
            if index.this is not None
            else f"{ident(table)}_{'_'.join(columns)}_idx"
        )
        fact = IndexFact(
            name=name,
            fields=tuple(columns),
            unique=bool(node.args.get("unique")),
            partial=params is not None and params.args.get("where") is not None,
            expression=expression,
            loc=self.stmt.statement_loc(),
        )
        return [self._op("add_index", table, index=fact, if_exists=bool(node.args.get("exists")))]

    # ALTER TABLE / ALTER INDEX

    def _alter(self, node: exp.Alter) -> list[SqlOp]:
        from sqlglot import exp

        table = node.this
        if not isinstance(table, exp.Table):
            return []
        kind = str(node.args.get("kind") or "").upper()
        if kind == "INDEX":
            return [
                self._op("rename_index", None, name=ident(table), new_name=ident(a.this))
                for a in node.args.get("actions") or ()
                if isinstance(a, exp.AlterRename)
            ]
        if kind != "TABLE":
            return []
        ops: list[SqlOp] = []
        for action in node.args.get("actions") or ():
            ops += self._action(table, action)
        return ops

    def _action(self, table: exp.Table, action: exp.Expr) -> list[SqlOp]:
        from sqlglot import exp

        name = ident(table)
        if isinstance(action, exp.ColumnDef):
            fact, inline = self._column(name, action)
            ops = [
                self._op(
                    "add_column",
                    table,
                    loc=fact.loc,
                    field=fact,
                    if_exists=bool(action.args.get("exists")),
                )
            ]
            return ops + [self._op("add_index", table, index=i, loc=i.loc) for i in inline]
        if isinstance(action, exp.AddConstraint):
            return [
                self._op("add_index", table, index=i, loc=i.loc)
                for e in action.expressions
                for i in self._table_constraint(name, e)
            ]
        if isinstance(action, exp.Drop):
            drop_kind = str(action.args.get("kind") or "").upper()
            op_kind = {"COLUMN": "drop_column", "CONSTRAINT": "drop_constraint"}.get(drop_kind)
            if op_kind is None:
                return []
            return [
                self._op(op_kind, table, name=ident(t), if_exists=bool(action.args.get("exists")))
                for t in action.args.get("tables") or ()
            ]
        if isinstance(action, exp.AlterColumn) and action.args.get("allow_null") is not None:
            kind = "drop_not_null" if action.args.get("drop") else "set_not_null"
            return [self._op(kind, table, name=ident(action.this))]
        if isinstance(action, exp.RenameColumn):
            return [
                self._op(
                    "rename_column",
                    table,
                    name=ident(action.this),
                    new_name=ident(action.args["to"]),
                )
            ]
        if isinstance(action, exp.AlterRename):
            return [self._op("rename_table", table, new_name=ident(action.this))]
        return []

    # DROP TABLE / DROP INDEX

    def _drop(self, node: exp.Drop) -> list[SqlOp]:
        from sqlglot import exp

        kind = str(node.args.get("kind") or "").upper()
        exists = bool(node.args.get("exists"))
        tables = [t for t in node.args.get("tables") or () if isinstance(t, exp.Table)]
        if kind == "TABLE":
            return [self._op("drop_table", t, if_exists=exists) for t in tables]
        if kind == "INDEX":
            return [self._op("drop_index", None, name=ident(t), if_exists=exists) for t in tables]
        return []


def _generates_unique(default: Any) -> bool:
    """A default expression that calls a generator of globally unique values."""
    from sqlglot import exp

    if default is None:
        return False
    for node in default.walk():
        name = node.name if isinstance(node, exp.Anonymous) else type(node).__name__
        if isinstance(node, exp.Func) and name.lower() in _GENERATED_UNIQUE:
            return True
    return False


def _key_name(table: str, columns: list[str]) -> str:
    """PostgreSQL's name for an unnamed unique constraint (before its 63-byte truncation)."""
    return f"{table}_{'_'.join(columns)}_key"


def _reference(ref: exp.Reference, cols: tuple[str, ...]) -> RelationRef | None:
    from sqlglot import exp

    target = ref.this
    if isinstance(target, exp.Schema) and isinstance(target.this, exp.Table):
        return RelationRef(
            target=ident(target.this),
            fields=cols,
            references=tuple(ident(e) for e in target.expressions),
        )
    if isinstance(target, exp.Table):
        return RelationRef(target=ident(target), fields=cols)
    return None


__all__ = ["PolicyFact", "SqlFrontEnd", "ident", "is_migration", "migration_key", "sql_to_ops"]
