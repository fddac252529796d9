"""The Python front end (stdlib `ast`): models, queries, raw SQL, migrations, handlers → facts.

Every `.py` file gets a syntax verdict (`syntax.parse`: newer syntax than the running
interpreter is rewritten, not rejected); only files with an ORM, SQL, web-framework,
tenancy-flag or configured-name marker are then walked for facts. Comments come from the
stdlib tokenizer, and only when the text holds a `tenantlint:` directive.
"""

from __future__ import annotations

import io
import re
import tokenize

from tenantlint.config import Config
from tenantlint.facts import Comment, FileFacts, Loc, ParseError, Unverified
from tenantlint.frontends.python.syntax import PythonSyntaxError, parse, running_version

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
    "session",  # `session.add(Model(…))` in a service that imports no ORM module
    "ALTER TABLE",  # a module of DDL helpers that migrations elsewhere execute
    "POLICY",
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
        try:
            return self._parse(path, text, config)
        except PythonSyntaxError as err:
            notes = comments(text) if "tenantlint:" in text else ()
            return _rejected(path, text, notes, err)
        except (RecursionError, MemoryError) as err:
            # a tree too deep for the parser, or for the walk over it (a 50,000-term sum parses
            # on Python 3.10 and is then too deep to walk)
            error = ParseError(
                loc=Loc(path=path, line=1),
                message=f"too deeply nested to analyse ({type(err).__name__})",
            )
            return FileFacts(path=path, frontend=self.name, parse_errors=(error,))

    def _parse(self, path: str, text: str, config: Config) -> FileFacts:
        parsed = parse(text)
        notes = comments(parsed.text) if "tenantlint:" in text else ()
        if not self._has_marker(text, config):
            return FileFacts(path=path, frontend=self.name, comments=notes)
        from tenantlint.frontends.python.extract import extract

        return extract(path, parsed.text, parsed.module, config, notes)


# Jinja/Django template tags at the start of a line, or `{{ name }}` substitutions
_TEMPLATE = re.compile(r"^[ \t]*\{%-?\s*\w+|\{\{\s*[\w.]+(?:\s*\|\s*\w+)*\s*\}\}", re.MULTILINE)


def _rejected(
    path: str, text: str, notes: tuple[Comment, ...], err: PythonSyntaxError
) -> FileFacts:
    """TL001 for what no Python accepts, at Python's position and in its words; valid newer
    Python this interpreter cannot read, and a template named `.py` (a code generator's Jinja
    file), are unverified, not an error in the user's code."""
    loc = Loc(path=path, line=err.line, column=err.column)
    template = _TEMPLATE.search(text)
    if template is not None:
        line = text.count("\n", 0, template.start()) + 1
        note = Unverified(
            loc=Loc(path=path, line=line),
            kind="skipped",
            reason="a template (`{%` / `{{` markers), not Python source: not analysed",
        )
        return FileFacts(path=path, frontend="python", comments=notes, unverified=(note,))
    if err.newer:
        note = Unverified(
            loc=loc,
            kind="TL001",
            reason=f"valid newer Python that Python {running_version()} cannot analyse "
            f"({err.message})",
        )
        return FileFacts(path=path, frontend="python", comments=notes, unverified=(note,))
    error = ParseError(loc=loc, message=f"Python syntax error: {err.message}")
    return FileFacts(path=path, frontend="python", comments=notes, parse_errors=(error,))
