"""Prisma Schema Language parser: `.prisma` text → blocks, comments and errors, with positions.

A small tokenizer and recursive-descent parser for the PSL. Fields are line-oriented; blocks are
parsed independently, so a broken block is one ParseError (TL001) and every other block is still
analysed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from tenantlint.facts import Comment

# A line ends at `\n`, `\r\n` or `\r`, as in Prisma's own grammar. A string's end is found by
# `_string_end`, not here: a regex that repeats a group per character keeps ~230 bytes of state
# for each one (a 20 MB `@@map("…")` took 4.8 GB).
_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\r\n]*)
  | (?P<newline>\r\n?|\n)
  | (?P<ws>[ \t\f\v]+)
  | (?P<string>")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<attr>@@?[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)
  | (?P<ident>[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)
  | (?P<punct>[{}()\[\],:=?!])
  | (?P<bad>.)
    """,
    re.VERBOSE,
)

_LINE_END = re.compile(r"\r\n?|\n")
_LINE_BREAK = re.compile(r"[\r\n]")

BLOCK_KINDS = frozenset({"model", "view", "enum", "type", "datasource", "generator"})


@dataclass(slots=True)
class Tok:
    kind: str
    text: str
    line: int
    col: int  # 1-based

    @property
    def end_col(self) -> int:
        return self.col + len(self.text)


@dataclass
class Call:
    name: str
    args: list[Value] = field(default_factory=list)
    kwargs: dict[str, Value] = field(default_factory=dict)


@dataclass
class Str:
    value: str


Value = Union[Str, Call, str, list["Value"]]  # noqa: UP007 - a runtime alias; str: identifier or number


@dataclass
class Attr:
    name: str  # without the @ / @@
    args: list[Value]
    kwargs: dict[str, Value]
    start: Tok
    end: Tok


class PslError(Exception):
    def __init__(self, tok: Tok, message: str) -> None:
        super().__init__(message)
        self.tok = tok


def split_lines(text: str) -> list[str]:
    """The lines of a schema, cut where the tokenizer counts them (`str.splitlines` also cuts
    at form feeds, U+001C…U+001E, U+0085, U+2028 and U+2029, which Prisma does not)."""
    return _LINE_END.split(text)


def tokenize(text: str) -> tuple[list[Tok], list[Comment], list[Tok]]:
    """Tokens (with newlines), comments, and any characters the PSL does not know."""
    toks: list[Tok] = []
    comments: list[Comment] = []
    bad: list[Tok] = []
    line, line_start = 1, 0
    last_line_with_token = 0
    pos = 0
    while (m := _TOKEN.match(text, pos)) is not None:
        kind, start, pos = m.lastgroup, m.start(), m.end()
        if kind == "ws":
            continue
        if kind == "string":
            pos = _string_end(text, pos)
            if pos < 0:  # never closed on its line: the quote is a stray character
                kind, pos = "bad", start + 1
        value = text[start:pos]
        col = start - line_start + 1
        if kind == "newline":
            toks.append(Tok("nl", value, line, col))
            line, line_start = line + 1, pos
        elif kind == "comment":
            comments.append(
                Comment(line=line, column=col, text=value, standalone=last_line_with_token != line)
            )
        elif kind == "bad":
            bad.append(Tok("bad", value, line, col))
        else:
            toks.append(Tok(kind or "", value, line, col))
            last_line_with_token = line
    toks.append(Tok("eof", "", line, len(text) - line_start + 1))
    return toks, comments, bad


def _string_end(text: str, pos: int) -> int:
    """The offset just past the quote that closes the string whose text starts at `pos` (a
    quote after an odd run of backslashes is escaped), or -1 when the line ends first."""
    while (end := text.find('"', pos)) >= 0 and not _LINE_BREAK.search(text, pos, end):
        if text[end - 1] != "\\" or (end - pos - len(text[pos:end].rstrip("\\"))) % 2 == 0:
            return end + 1
        pos = end + 1
    return -1


class _Parser:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self, skip_nl: bool = False) -> Tok:
        j = self.i
        while skip_nl and self.toks[j].kind == "nl":
            j += 1
        return self.toks[j]

    def next(self, skip_nl: bool = False) -> Tok:
        if skip_nl:
            self.skip_nl()
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def skip_nl(self) -> None:
        while self.toks[self.i].kind == "nl":
            self.i += 1

    def expect(self, text: str, skip_nl: bool = False) -> Tok:
        tok = self.next(skip_nl)
        if tok.text != text:
            raise PslError(tok, f"expected '{text}', found {_describe(tok)}")
        return tok

    def value(self) -> Value:
        tok = self.next(skip_nl=True)
        if tok.kind == "string":
            return Str(_unquote(tok.text))
        if tok.kind == "number":
            return tok.text
        if tok.text == "[":
            items: list[Value] = []
            while self.peek(skip_nl=True).text != "]":
                items.append(self.value())
                if self.peek(skip_nl=True).text == ",":
                    self.next(skip_nl=True)
                elif self.peek(skip_nl=True).text != "]":
                    raise PslError(
                        self.peek(skip_nl=True),
                        f"expected ',' or ']', found {_describe(self.peek(True))}",
                    )
            self.next(skip_nl=True)
            return items
        if tok.kind == "ident":
            if self.peek().text == "(":
                args, kwargs = self.arguments()
                return Call(tok.text, args, kwargs)
            return tok.text
        raise PslError(tok, f"unexpected {_describe(tok)} in an argument")

    def arguments(self) -> tuple[list[Value], dict[str, Value]]:
        self.expect("(")
        args: list[Value] = []
        kwargs: dict[str, Value] = {}
        while self.peek(skip_nl=True).text != ")":
            if (
                self.peek(skip_nl=True).kind == "ident"
                and self.toks[self._after_nl() + 1].text == ":"
            ):
                key = self.next(skip_nl=True).text
                self.next(skip_nl=True)
                kwargs[key] = self.value()
            else:
                args.append(self.value())
            if self.peek(skip_nl=True).text == ",":
                self.next(skip_nl=True)
            elif self.peek(skip_nl=True).text != ")":
                raise PslError(
                    self.peek(skip_nl=True),
                    f"expected ',' or ')', found {_describe(self.peek(True))}",
                )
        self.next(skip_nl=True)
        return args, kwargs

    def _after_nl(self) -> int:
        j = self.i
        while self.toks[j].kind == "nl":
            j += 1
        return j

    def attribute(self) -> Attr:
        start = self.next()
        args: list[Value] = []
        kwargs: dict[str, Value] = {}
        if self.peek().text == "(":
            args, kwargs = self.arguments()
        return Attr(start.text.lstrip("@"), args, kwargs, start, self.toks[self.i - 1])


def _describe(tok: Tok) -> str:
    return (
        "end of file"
        if tok.kind == "eof"
        else ("end of line" if tok.kind == "nl" else f"'{tok.text}'")
    )


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


@dataclass
class _Field:
    name: Tok
    type: str
    optional: bool
    is_list: bool
    attrs: list[Attr]
    end: Tok


@dataclass
class Block:
    kind: str
    name: str
    start: Tok
    name_tok: Tok
    fields: list[_Field] = field(default_factory=list)
    attrs: list[Attr] = field(default_factory=list)
    assignments: dict[str, Value] = field(default_factory=dict)


def parse_schema(text: str) -> tuple[list[Block], list[Comment], list[tuple[Tok, str]]]:
    """Blocks, comments and errors (token, message); a broken block is skipped as a whole."""
    toks, comments, bad = tokenize(text)
    errors: list[tuple[Tok, str]] = [(t, f"unexpected character '{t.text}'") for t in bad]
    bad_lines = {t.line for t in bad}
    blocks: list[Block] = []
    p = _Parser(toks)
    while True:
        p.skip_nl()
        tok = p.peek()
        if tok.kind == "eof":
            break
        start = p.i
        try:
            block = _block(p)
            if not bad_lines & set(range(block.start.line, p.toks[p.i - 1].line + 1)):
                blocks.append(block)
        except PslError as exc:
            errors.append((exc.tok if exc.tok.kind != "eof" else toks[start], str(exc)))
            p.i = _recover(toks, max(p.i, start + 1))
    return blocks, comments, sorted(errors, key=lambda e: (e[0].line, e[0].col))


def _recover(toks: list[Tok], i: int) -> int:
    """Skip to the next token that starts a top-level block (a block keyword at line start)."""
    while toks[i].kind != "eof":
        prev = toks[i - 1]
        if toks[i].text in BLOCK_KINDS and prev.kind == "nl" and toks[i].col == 1:
            return i
        i += 1
    return i


def _block(p: _Parser) -> Block:
    kw = p.next()
    if kw.text not in BLOCK_KINDS:
        raise PslError(kw, f"expected a block (model, enum, datasource …), found {_describe(kw)}")
    name = p.next()
    if name.kind != "ident":
        raise PslError(name, f"expected a {kw.text} name, found {_describe(name)}")
    p.expect("{", skip_nl=True)
    block = Block(kw.text, name.text, kw, name)
    while True:
        p.skip_nl()
        tok = p.peek()
        if tok.text == "}":
            p.next()
            return block
        if tok.kind == "eof":
            raise PslError(kw, f"{kw.text} '{name.text}' is never closed with '}}'")
        if tok.kind == "attr" and tok.text.startswith("@@"):
            block.attrs.append(p.attribute())
        elif tok.kind == "ident" and kw.text in ("datasource", "generator"):
            p.next()
            p.expect("=")
            block.assignments[tok.text] = p.value()
        elif tok.kind == "ident" and kw.text == "enum":
            p.next()
            while p.peek().kind == "attr":
                p.attribute()
        elif tok.kind == "ident":
            block.fields.append(_field(p))
        else:
            raise PslError(tok, f"unexpected {_describe(tok)} in {kw.text} '{name.text}'")
        if p.peek().kind not in ("nl", "eof") and p.peek().text != "}":
            raise PslError(p.peek(), f"unexpected {_describe(p.peek())} after a field")


def _field(p: _Parser) -> _Field:
    name = p.next()
    ftype = p.next()
    if ftype.kind != "ident":
        raise PslError(ftype, f"field '{name.text}' needs a type, found {_describe(ftype)}")
    type_name = ftype.text
    if p.peek().text == "(":  # Unsupported("tsvector")
        args, _ = p.arguments()
        type_name = f"{ftype.text}({', '.join(a.value for a in args if isinstance(a, Str))})"
    is_list = optional = False
    if p.peek().text == "[":
        p.next()
        p.expect("]")
        is_list = True
    if p.peek().text in ("?", "!"):
        optional = p.next().text == "?"
    attrs: list[Attr] = []
    while p.peek().kind == "attr":
        attrs.append(p.attribute())
    return _Field(name, type_name, optional, is_list, attrs, p.toks[p.i - 1])
