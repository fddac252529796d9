"""A small PostgreSQL lexer: cuts a SQL file into statements and collects its comments.

It knows exactly what decides where a statement ends — quoted identifiers, string literals
(`E'…'` with backslash escapes), dollar quoting (`$body$ … $body$`), `--` and nested `/* */`
comments — so a `;` or a `tenantlint:` directive inside a string or a function body is not
mistaken for one. psql meta-commands (`\\connect db`) and `COPY … FROM stdin` data are skipped:
they are not SQL. A line ends at `\\n`, `\\r\\n` or `\\r`, as it does for PostgreSQL. A NUL byte,
which PostgreSQL refuses and pglast takes for the end of the text, is read as a space (`nul`
says where the first was, for the error).

Parsing the statements is the parsers' job; when the parser rejects one, `Splitter.restart`
cuts again from the next line inside it that begins a statement, so that one unterminated quote
or comment costs one statement, not the rest of the file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from tenantlint.facts import Comment

# a whole plain string literal is one match: the common case costs no call per literal
_SIGNIFICANT = re.compile(r"--|/\*|'[^']*'(?!')|'|\"|\$|;")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z_0-9\u0080-\uffff]*)?\$")
_BLOCK = re.compile(r"/\*|\*/")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]")
_NEWLINE = re.compile(r"\r\n?|\n")
_LINE_END = re.compile(r"[\r\n]")
# Where to cut again inside a rejected statement: a line that begins, at its first column, with
# a keyword that starts a migration statement, in upper or lower case (prose in a comment that
# never ends says "Create …"). Keywords that also begin lines of function bodies (BEGIN, SELECT,
# SET, END, RETURN …) are left out, so that a body is not read as statements.
_RESTART_WORDS = ("CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "COMMENT", "INSERT", "DO")
_STATEMENT_LINE = re.compile(
    rf"(?<=[\r\n])(?:{'|'.join(_RESTART_WORDS)}|{'|'.join(_RESTART_WORDS).lower()})\b"
)
_COPY_STDIN = re.compile(r"COPY\b[^;]*?\bFROM\s+STDIN\b", re.IGNORECASE)
_END_OF_DATA = re.compile(r"(?<![^\r\n])\\\.[ \t]*(?:\r\n?|\n|$)")
# Each restart reads part of the text again; past this many times its length, no more restarts,
# so that a file built to fail everywhere still costs linear time.
_RESTART_BUDGET = 4


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
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1


def scan(text: str) -> tuple[list[Chunk], list[Comment]]:
    """The statements and comments of a SQL text (cut once, without restarts)."""
    splitter = Splitter(text)
    return list(splitter), splitter.comments


class Splitter:
    """Iterates over the statements of a SQL text; collects its comments on the way."""

    def __init__(self, text: str) -> None:
        self.nul = text.find("\0")  # -1: none
        if self.nul >= 0:
            text = text.replace("\0", " ")
        self.text = text
        self.lines = Lines(text)
        self.pos = 0  # where the next statement is cut from
        self._comments: list[tuple[int, Comment]] = []  # with their offsets, for restarts
        self._ahead: deque[tuple[Chunk, int]] = deque()  # cut by `peek`, not yet yielded
        self._end = 0  # where the statement last yielded ends
        self._budget = _RESTART_BUDGET * len(text)

    @property
    def comments(self) -> list[Comment]:
        return [c for _, c in self._comments]

    def peek(self, count: int) -> list[Chunk]:
        """The next `count` statements (fewer at the end), still to be yielded."""
        while len(self._ahead) < count and (chunk := self._next()) is not None:
            self._ahead.append((chunk, self.pos))
        return [chunk for chunk, _ in islice(self._ahead, count)]

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            if self._ahead:
                chunk, self._end = self._ahead.popleft()
            elif (cut := self._next()) is not None:
                chunk, self._end = cut, self.pos
            else:
                return
            yield chunk

    def restart(self, chunk: Chunk) -> bool:
        """Cut again from the first line after the first of `chunk` (the statement just
        yielded, which the parser rejected) that begins a statement; False when there is none."""
        first_line_end = _LINE_END.search(self.text, chunk.offset, self._end)
        if first_line_end is None:
            return False
        m = _STATEMENT_LINE.search(self.text, first_line_end.start(), self._end)
        if m is None or self._budget < self._end - m.start():
            return False
        self._budget -= self._end - m.start()
        self.pos = m.start()
        self._ahead.clear()
        self._comments = [_cut(o, c, self.pos) for o, c in self._comments if o < self.pos]
        return True

    def _next(self) -> Chunk | None:
        """The statement from `pos` on (and the comments before and in it), or None at the end."""
        text, lines = self.text, self.lines
        start: int | None = None
        pos = self.pos
        while True:
            m = _SIGNIFICANT.search(text, pos)
            stop = m.start() if m else len(text)
            if start is None and text[pos:stop].strip():
                start = pos + len(text[pos:stop]) - len(text[pos:stop].lstrip())
                if text[start] == "\\":  # a psql meta-command (`\connect`, `\set`): one line
                    pos, start = _line_end(text, start), None
                    continue
            if m is None:
                break
            token = m.group()
            if token in ("--", "/*"):
                end = _line_end(text, stop) if token == "--" else _block_end(text, stop)
                if end < 0:  # an unterminated comment: PostgreSQL's error, at a statement
                    end, start = len(text), stop if start is None else start
                self._comment(stop, end)
                pos = end
                continue
            if token == ";":
                if start is None:
                    pos = stop + 1
                    continue
                self.pos = stop + 1
                chunk = _chunk(text, start, stop, lines)
                if _COPY_STDIN.match(chunk.text):  # rows follow, up to a line `\.`
                    data_end = _END_OF_DATA.search(text, self.pos)
                    self.pos = data_end.end() if data_end else len(text)
                return chunk
            if start is None:
                start = stop
            if len(token) > 1 and not _escapes(text, stop):
                pos = m.end()
            else:
                pos = _literal_end(text, stop, token[0])
        self.pos = len(text)
        if start is not None and text[start:].strip():
            return _chunk(text, start, len(text), lines)
        return None

    def _comment(self, start: int, end: int) -> None:
        line, col = self.lines.position(start)
        standalone = not self.text[self.lines.starts[line - 1] : start].strip()
        comment = Comment(line=line, column=col, text=self.text[start:end], standalone=standalone)
        self._comments.append((start, comment))


def _cut(offset: int, comment: Comment, at: int) -> tuple[int, Comment]:
    """A comment that a rejected statement ran into (an unterminated `/*`) stops where the cut
    starts again: what follows is read anew."""
    if offset + len(comment.text) <= at:
        return offset, comment
    return offset, comment.model_copy(update={"text": comment.text[: at - offset].rstrip()})


def _chunk(text: str, start: int, end: int, lines: Lines) -> Chunk:
    line, col = lines.position(start)
    return Chunk(text=text[start:end].rstrip(), offset=start, line=line, column=col)


def _line_end(text: str, start: int) -> int:
    m = _LINE_END.search(text, start)
    return m.start() if m else len(text)


def _block_end(text: str, start: int) -> int:
    """The end of the (possibly nested) block comment opened at `start`; -1 if it never ends."""
    depth = 0
    for m in _BLOCK.finditer(text, start):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    return -1


def _literal_end(text: str, start: int, token: str) -> int:
    """The offset just past the literal (or the lone `$`) that starts at `start`."""
    if token == "$":
        tag = _DOLLAR_TAG.match(text, start)
        if tag is None or (start > 0 and _IDENT_CHAR.match(text[start - 1])):
            return start + 1  # `$1`, or `$` inside an identifier
        close = text.find(tag.group(), tag.end())
        return len(text) if close < 0 else close + len(tag.group())
    return _quoted_end(text, start + 1, token, token == "'" and _escapes(text, start))


def _escapes(text: str, quote: int) -> bool:
    """Whether the string opened at `quote` is an `E'…'` string, with backslash escapes."""
    return (
        quote > 0
        and text[quote - 1] in "eE"
        and (quote < 2 or not _IDENT_CHAR.match(text[quote - 2]))
    )


def _quoted_end(text: str, pos: int, quote: str, escapes: bool) -> int:
    """The offset just past the quote that closes a literal whose text starts at `pos`: a
    doubled quote stands for itself, and so, with `escapes`, does a quote after an odd run of
    backslashes. A loop over quotes, not one regex: a regex that repeats a group keeps state
    for each repetition, ~200 bytes per escape of a 5 MB string."""
    while True:
        end = text.find(quote, pos)
        if end < 0:
            return len(text)  # unterminated: PostgreSQL reads the rest as the literal
        if escapes and _backslashes_before(text, end, pos) % 2:
            pos = end + 1
        elif text.startswith(quote, end + 1):
            pos = end + 2
        else:
            return end + 1


def _backslashes_before(text: str, end: int, start: int) -> int:
    i = end
    while i > start and text[i - 1] == "\\":
        i -= 1
    return end - i
