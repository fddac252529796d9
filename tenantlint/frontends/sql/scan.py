"""A small PostgreSQL lexer: cuts a SQL file into statements and collects its comments.

It knows exactly what decides where a statement ends — quoted identifiers, string literals
(`E'…'` with backslash escapes), dollar quoting (`$body$ … $body$`), `--` and nested `/* */`
comments — so a `;` or a `tenantlint:` directive inside a string or a function body is not
mistaken for one. psql meta-commands (`\\connect db`) are skipped: they are not SQL.
Parsing the statements is the parsers' job.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from tenantlint.facts import Comment

_SIGNIFICANT = re.compile(r"--|/\*|'|\"|\$|;")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z_0-9\u0080-\uffff]*)?\$")
_BLOCK = re.compile(r"/\*|\*/")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]")
_QUOTED = {q: re.compile(f"[^{q}]*(?:{q}{q}[^{q}]*)*{q}") for q in ("'", '"')}
_E_STRING = re.compile(r"(?:[^'\\]|\\.|'')*'", re.DOTALL)


@dataclass(frozen=True)
class Chunk:
    """One statement's text (without its `;`) and where it starts in the file (1-based)."""

    text: str
    offset: int
    line: int
    column: int


class Lines:
    """Offset → (line, column) for one text."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1


def scan(text: str) -> tuple[list[Chunk], list[Comment]]:
    """The statements and comments of a SQL text."""
    lines = Lines(text)
    chunks: list[Chunk] = []
    comments: list[Comment] = []
    start: int | None = None
    pos = 0
    while True:
        m = _SIGNIFICANT.search(text, pos)
        stop = m.start() if m else len(text)
        if start is None and text[pos:stop].strip():
            start = pos + len(text[pos:stop]) - len(text[pos:stop].lstrip())
            if text[start] == "\\":  # a psql meta-command (`\connect`, `\set`): one line, not SQL
                end = text.find("\n", start)
                pos, start = (len(text) if end < 0 else end), None
                continue
        if m is None:
            break
        token = m.group()
        if token in ("--", "/*"):
            end = text.find("\n", stop) if token == "--" else _block_end(text, stop)
            end = len(text) if end < 0 else end
            line, col = lines.position(stop)
            standalone = not text[lines.starts[line - 1] : stop].strip()
            comments.append(
                Comment(line=line, column=col, text=text[stop:end], standalone=standalone)
            )
            pos = end
            continue
        if token == ";":
            if start is not None:
                chunks.append(_chunk(text, start, stop, lines))
            start = None
            pos = stop + 1
            continue
        if start is None:
            start = stop
        pos = _literal_end(text, stop, token)
    if start is not None and text[start:].strip():
        chunks.append(_chunk(text, start, len(text), lines))
    return chunks, comments


def _chunk(text: str, start: int, end: int, lines: Lines) -> Chunk:
    line, col = lines.position(start)
    return Chunk(text=text[start:end].rstrip(), offset=start, line=line, column=col)


def _block_end(text: str, start: int) -> int:
    """The end of the (possibly nested) block comment opened at `start`."""
    depth = 0
    for m in _BLOCK.finditer(text, start):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    return len(text)


def _literal_end(text: str, start: int, token: str) -> int:
    """The offset just past the literal (or the lone `$`) that starts at `start`."""
    if token == "$":
        tag = _DOLLAR_TAG.match(text, start)
        if tag is None or (start > 0 and _IDENT_CHAR.match(text[start - 1])):
            return start + 1  # `$1`, or `$` inside an identifier
        close = text.find(tag.group(), tag.end())
        return len(text) if close < 0 else close + len(tag.group())
    escapes = (
        token == "'"
        and start > 0
        and text[start - 1] in "eE"
        and (start < 2 or not _IDENT_CHAR.match(text[start - 2]))
    )
    body = _E_STRING if escapes else _QUOTED[token]
    end = body.match(text, start + 1)
    return end.end() if end else len(text)
