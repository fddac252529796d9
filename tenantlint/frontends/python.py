"""The Python front end (libcst): models, queries, raw SQL, migrations, handlers → facts.

Speed: a byte-level prefilter skips files that cannot hold facts (no ORM, SQL, web-framework,
tenancy-flag or configured-name marker); comments come from the stdlib tokenizer and only when
the text holds a `tenantlint:` directive; positions are computed only for nodes that become facts
(see `py_util.Locator`), never as whole-tree metadata.
"""

from __future__ import annotations

import ast
import io
import tokenize

import libcst as cst

from tenantlint.config import Config
from tenantlint.facts import Comment, Entity, FileFacts, Loc, ParseError, Unverified

_MARKERS = (
    "sqlalchemy",
    "sqlmodel",
    "django",
    "flask",
    "fastapi",
    "alembic",
    "psycopg",
    "rest_framework",
    "execute",
    ".objects",
    ".query",
    "getenv",
    "environ",
    "Column(",
    "models.",
    "text(",
)


def _markers(config: Config) -> tuple[str, ...]:
    names = (
        *config.tenant_fields,
        *config.rls_wrappers,
        *config.scope_helpers,
        *config.tenant_resolvers,
        *config.guards,
        *config.tenancy_flags,
    )
    return _MARKERS + tuple(n for n in names if n)


def comments(text: str) -> tuple[Comment, ...]:
    """The `tenantlint:` comments of a module, from its tokens (a directive in a string is not one)."""
    out: list[Comment] = []
    lines = text.splitlines()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and "tenantlint:" in tok.string:
                line, col = tok.start
                before = lines[line - 1][:col] if line <= len(lines) else ""
                out.append(
                    Comment(
                        line=line, column=col + 1, text=tok.string, standalone=not before.strip()
                    )
                )
    except (tokenize.TokenError, SyntaxError):  # keep the comments before the broken part
        pass
    return tuple(out)


class PythonFrontEnd:
    name = "python"

    def __init__(self) -> None:
        self._marker_cache: tuple[str, tuple[str, ...]] | None = None

    def _has_marker(self, text: str, config: Config) -> bool:
        key = config.parsing_key()
        if self._marker_cache is None or self._marker_cache[0] != key:
            self._marker_cache = (key, _markers(config))
        return any(m in text for m in self._marker_cache[1])

    def parse(self, path: str, text: str, config: Config) -> FileFacts:
        notes = comments(text) if "tenantlint:" in text else ()
        if not self._has_marker(text, config):
            return FileFacts(path=path, frontend=self.name, comments=notes)
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            return _rejected(path, text, notes, str(exc.message).strip())
        return extract(path, text, module, config, notes)


def _rejected(path: str, text: str, notes: tuple[Comment, ...], reason: str) -> FileFacts:
    """libcst rejected the file: TL001 when Python rejects it too (at Python's position and in its
    words), else the file is valid code libcst does not know yet: unverified, not an error."""
    try:
        ast.parse(text)
    except SyntaxError as err:
        loc = Loc(path=path, line=err.lineno or 1, column=err.offset or 1)
        error = ParseError(loc=loc, message=f"Python syntax error: {err.msg}")
        return FileFacts(path=path, frontend="python", comments=notes, parse_errors=(error,))
    except (ValueError, RecursionError, MemoryError) as err:  # NUL bytes, absurd nesting
        error = ParseError(loc=Loc(path=path, line=1), message=f"cannot parse: {err}")
        return FileFacts(path=path, frontend="python", comments=notes, parse_errors=(error,))
    note = Unverified(
        loc=Loc(path=path, line=1),
        kind="TL001",
        reason=f"valid Python that libcst cannot parse ({reason})",
    )
    return FileFacts(path=path, frontend="python", comments=notes, unverified=(note,))


def extract(
    path: str, text: str, module: cst.Module, config: Config, notes: tuple[Comment, ...]
) -> FileFacts:
    from tenantlint.frontends.py_code import CodeVisitor
    from tenantlint.frontends.py_migrations import MigrationExtractor
    from tenantlint.frontends.py_models import ModelExtractor
    from tenantlint.frontends.py_util import Imports, Locator, dotted

    imports = Imports(module)
    locator = Locator(path, text, module)
    migrations = MigrationExtractor(path, module, imports, locator, config)
    migrations.run()
    entities: list[Entity] = []
    if not migrations.is_migration:
        models = ModelExtractor(path, imports, locator)
        for stmt in module.body:
            if isinstance(stmt, cst.ClassDef):
                ent = models.class_entity(stmt, stmt)
                if ent is not None:
                    entities.append(ent)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    value = getattr(small, "value", None)
                    if isinstance(value, cst.Call) and dotted(value.func) in (
                        "Table",
                        "sa.Table",
                        "sqlalchemy.Table",
                        "db.Table",
                    ):
                        ent = models.table_entity(value, stmt)
                        if ent is not None:
                            entities.append(ent)
    code = CodeVisitor(path, module, imports, locator, config)
    if not migrations.is_migration:
        code.run()
    return FileFacts(
        path=path,
        frontend="python",
        comments=notes,
        parse_errors=tuple(migrations.errors),
        entities=tuple(entities),
        migration=migrations.is_migration,
        sql_ops=tuple(migrations.ops),
        settings=tuple(code.settings),
        queries=tuple(code.queries),
        raw_sql=tuple(code.raw_sql),
        handlers=tuple(code.handlers),
        request_tenants=tuple(code.request_tenants),
        clients=tuple(code.clients()),
        guard_defined=code.guard_defined,
        flags=tuple(code.flags),
        fallbacks=tuple(code.fallbacks),
        extra=migrations.extra,
    )
