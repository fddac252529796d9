"""Python source → `ast.Module`, on any supported interpreter, for syntax newer than it.

tenantlint runs on Python ≥ 3.10, but projects are written for 3.12 to 3.14. When the running
`ast` rejects a file, the constructs that newer Pythons added are rewritten into equivalent
older forms, in place and without moving any line (columns move only after a rewritten
`except` clause's colon), and the file is parsed again:

- PEP 758 `except A, B:` → `except(A, B):`;
- PEP 695 `type X = …` → `pass` (a type alias holds no facts), `class C[T]` / `def f[T]` → the
  type parameters blanked;
- PEP 701 f-strings (a replacement field holding the string's own quote, a backslash or a
  comment) → each replacement field blanked to `{_ }`;
- PEP 750 t-strings → plain strings (a template binds its values: not an interpolation).

What is still rejected is a syntax error when libcst (whose grammar follows the newest Python)
rejects it too, and otherwise valid newer Python this interpreter cannot analyse. What only the
compiler rejects (`return` outside a function, a duplicate argument …) is a syntax error too, as
far as `compile_errors` sees it.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass

from tenantlint.frontends.python.compile_errors import compile_error

_PREFIX = re.compile(r"(?<![\w])([rRbBuUfFtT]{1,2})?('''|\"\"\"|'|\")")
_EXCEPT = re.compile(r"^([ \t]*)except(\*?)[ \t]+(?![ \t(])([^:\n]*?,[^:\n]*?)[ \t]*:")
_TYPE_ALIAS = re.compile(r"^([ \t]*)type[ \t]+[A-Za-z_]\w*[ \t]*[\[=]")
_TYPE_PARAMS = re.compile(r"\b(?:class|def)[ \t]+[A-Za-z_]\w*[ \t]*\[")
# libcst is asked about files this small, whose lines are this short: its time grows with the
# square of a long expression (a 4,000-term chain: 11 s), so a huge or one-line file is not sent
_MAX_SECOND_OPINION = 300_000
_MAX_LINE = 5_000
_MAX_DEPTH = 100  # libcst's native parser is not asked about deeper nesting


class PythonSyntaxError(Exception):
    """The file is not Python (`newer` is False), or is newer Python than this interpreter
    can analyse (`newer` is True)."""

    def __init__(self, message: str, line: int, column: int, newer: bool) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.newer = newer


@dataclass
class Parsed:
    module: ast.Module
    text: str  # the text the tree was parsed from (rewritten when `rewritten` is not empty)
    rewritten: tuple[str, ...]  # the newer constructs rewritten (PEP numbers)


def parse(text: str) -> Parsed:
    """The module's tree; raises `PythonSyntaxError`, or RecursionError/MemoryError."""
    parsed = _parse(text)
    error = compile_error(parsed.module)
    if error is not None:
        from tenantlint.frontends.python.util import Source

        message, node = error
        column = Source("", parsed.text).column(node.lineno, node.col_offset) + 1  # not bytes
        raise PythonSyntaxError(message, node.lineno, column, newer=False)
    return parsed


def _parse(text: str) -> Parsed:
    try:
        return Parsed(ast.parse(text), text, ())
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes before Python 3.12
        first = exc
    scan = _Scanner(text)
    rewritten_text, peps = scan.rewrite()
    if peps:
        try:
            parsed = Parsed(ast.parse(rewritten_text), rewritten_text, tuple(peps))
        except (SyntaxError, ValueError):
            parsed = None
        # an f-string rewrite can make a broken file parse (an unclosed f"… swallowing the rest
        # as one string): kept only when the original is valid newer Python
        if parsed is not None and ("PEP 701" not in peps or _second_opinion(text, scan)):
            return parsed
    line = getattr(first, "lineno", None) or 1
    column = getattr(first, "offset", None) or 1
    message = first.msg if isinstance(first, SyntaxError) else str(first)
    newer = isinstance(first, SyntaxError) and "\0" not in text and _second_opinion(text, scan)
    raise PythonSyntaxError(message, line, column, newer)


def _second_opinion(text: str, scan: _Scanner) -> bool:
    """libcst's verdict (its grammar follows the newest Python), asked only of files small and
    shallow enough for it to answer quickly."""
    return (
        len(text) <= _MAX_SECOND_OPINION
        and max(map(len, text.splitlines()), default=0) <= _MAX_LINE
        and scan.max_depth <= _MAX_DEPTH
        and _libcst_accepts(text)
    )


def _libcst_accepts(text: str) -> bool:
    import libcst

    try:
        libcst.parse_module(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # parser and validation errors, and the Rust parser's panics
        return False
    return True


def running_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


class _Scanner:
    """Strings, comments and bracket depth of a source text, and the rewrites above."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out = list(text)
        self.code = bytearray(len(text))  # 1 where the character is code (not string/comment)
        self.max_depth = 0
        self.peps: set[str] = set()
        self._scan()

    def rewrite(self) -> tuple[str, list[str]]:
        self._statements()
        return "".join(self.out), sorted(self.peps)

    def _blank(self, start: int, end: int, first: str = "") -> None:
        """Spaces over [start, end), newlines kept, `first` written at the start."""
        for i in range(start, end):
            if self.out[i] not in "\r\n":
                self.out[i] = " "
        for i, ch in enumerate(first):
            self.out[start + i] = ch

    # --- strings and comments -------------------------------------------------------------

    def _scan(self) -> None:
        text, i, depth = self.text, 0, 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch == "#":
                end = text.find("\n", i)
                i = n if end < 0 else end
                continue
            if ch in "'\"" or (ch in "rRbBuUfFtT" and (i == 0 or not _word(text[i - 1]))):
                m = _PREFIX.match(text, i)
                if m and (m.start(2) == i or m.group(1)):
                    i = self._string(m.start(), (m.group(1) or "").lower(), m.group(2))
                    continue
            self.code[i] = 1
            if ch in "([{":
                depth += 1
                self.max_depth = max(self.max_depth, depth)
            elif ch in ")]}":
                depth = max(depth - 1, 0)
            i += 1

    def _string(self, start: int, prefix: str, quote: str) -> int:
        """Scan one string literal from its prefix; returns the index after it."""
        body = start + len(prefix) + len(quote)
        if "f" not in prefix and "t" not in prefix:
            return _plain_end(self.text, body, quote)
        end, fields, modern = self._fstring(body, quote)
        if "t" in prefix:
            self.peps.add("PEP 750")
            rest = prefix.replace("t", "")
            # `t"`/`rt"`/`tr"` → ` "`/` r"`: the prefix letters that stay end at the quote
            self._blank(start, start + len(prefix), " " * (len(prefix) - len(rest)) + rest)
        elif modern:
            self.peps.add("PEP 701")
        if not (modern or "t" in prefix):
            return end
        if len(quote) == 1 and any("\n" in self.text[a:b] for a, b in fields):
            self._triple_quote(start + len(prefix), end, quote, fields)
        else:
            for a, b in fields:
                self._blank(a, b, "_")
        return end

    def _triple_quote(
        self, start: int, end: int, quote: str, fields: list[tuple[int, int]]
    ) -> None:
        """A one-line f-string whose fields span lines (PEP 701) → a triple-quoted one with its
        fields blanked, the same lines, and the same text after it on its last line."""
        parts, pos = [quote * 3], start + 1
        for a, b in fields:
            parts += [self.text[pos:a], "_", "\n" * self.text.count("\n", a, b)]
            pos = b
        parts.append(self.text[pos : end - 1])
        new = "".join(parts)
        tail = len(self.text[start:end]) - self.text[start:end].rfind("\n") - 1
        pad = tail - (len(new) - new.rfind("\n") - 1) - 3
        if pad < 0:
            return
        new += " " * pad + quote * 3
        self.out[start:end] = [new] + [""] * (end - start - 1)

    def _fstring(self, i: int, quote: str) -> tuple[int, list[tuple[int, int]], bool]:
        """(end, replacement-field expression spans, whether only newer Pythons accept it)."""
        text, n = self.text, len(self.text)
        fields: list[tuple[int, int]] = []
        modern = False
        while i < n:
            if text.startswith(quote, i):
                return i + len(quote), fields, modern
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "\n" and len(quote) == 1:
                return i, fields, modern  # unterminated: let the parser say so
            if ch == "{":
                if text.startswith("{{", i):
                    i += 2
                    continue
                end, new = self._field(i + 1, quote)
                fields.append((i + 1, end))
                modern = modern or new
                i = end + 1
                continue
            i += 1
        return n, fields, modern

    def _field(self, i: int, quote: str) -> tuple[int, bool]:
        """The index of a replacement field's closing brace, and whether its expression uses
        what only PEP 701 allows (the string's quote, a backslash, a comment, a newline in a
        one-line string)."""
        text, n = self.text, len(self.text)
        depth, modern = 0, False
        while i < n:
            ch = text[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    return i, modern
                depth -= 1
            elif ch == "\\" or ch == "#" or (ch == "\n" and len(quote) == 1):
                modern = True
            elif ch in "'\"" or ch in "rRbBuUfFtT":
                m = _PREFIX.match(text, i)
                if m and (m.start(2) == i or m.group(1)) and not _word(text[i - 1]):
                    if quote[0] in m.group(2) or len(m.group(2)) > len(quote):
                        modern = True
                    prefix = (m.group(1) or "").lower()
                    body = m.end()
                    if "f" in prefix or "t" in prefix:
                        i, _, inner = self._fstring(body, m.group(2))
                        modern = modern or inner
                    else:
                        i = _plain_end(text, body, m.group(2))
                    continue
            i += 1
        return n, modern

    # --- statements -------------------------------------------------------------------------

    def _statements(self) -> None:
        offset = 0
        for line in self.text.splitlines(keepends=True):
            self._line(offset, line)
            offset += len(line)

    def _is_code(self, pos: int) -> bool:
        return 0 <= pos < len(self.code) and self.code[pos] == 1

    def _line(self, offset: int, line: str) -> None:
        m = _EXCEPT.match(line)
        if m and self._is_code(offset + m.end() - 1) and " as " not in m.group(3):
            kw = offset + m.start() + len(m.group(1)) + len("except") + len(m.group(2))
            colon = offset + m.end() - 1
            self.out[kw] = "("  # `except A, B:` → `except(A, B):`
            self.out[colon] = "):"
            self.peps.add("PEP 758")
            return
        m = _TYPE_ALIAS.match(line)
        if m and self._is_code(offset + m.start() + len(m.group(1))):
            start = offset + len(m.group(1))
            self._blank(start, self._logical_end(start), "pass")
            self.peps.add("PEP 695")
            return
        for m in _TYPE_PARAMS.finditer(line):
            bracket = offset + m.end() - 1
            if self._is_code(bracket):
                self._type_params(bracket)
                self.peps.add("PEP 695")

    def _type_params(self, bracket: int) -> None:
        """`class C[T](Base):` → `class C(   Base):`, `def f[T](x)` → `def f(   x)`,
        `class C[T]:` → `class C( ):` — parentheses keep a multi-line list one logical line."""
        close = self._matching(bracket)
        after = close + 1
        while after < len(self.text) and self.text[after] in " \t":
            after += 1
        self._blank(bracket, close + 1, "(")
        if self.text[after : after + 1] == "(":
            self.out[after] = " "
        else:
            self.out[close] = ")"

    def _matching(self, pos: int) -> int:
        """The index of the bracket that closes the one at `pos` (code characters only)."""
        depth = 0
        for i in range(pos, len(self.text)):
            if not self.code[i]:
                continue
            ch = self.text[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth == 0:
                    return i
        return len(self.text) - 1

    def _logical_end(self, pos: int) -> int:
        """Where the logical line starting at `pos` ends (its newline, brackets closed)."""
        depth = 0
        for i in range(pos, len(self.text)):
            ch = self.text[i]
            if not self.code[i] and ch not in "\r\n":
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif ch in "\r\n" and depth <= 0 and self.text[i - 1 : i] != "\\":
                return i
        return len(self.text)


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _plain_end(text: str, i: int, quote: str) -> int:
    """The index after a non-f string's closing quote (escapes skipped, even raw ones: a raw
    string cannot end in an odd backslash)."""
    n = len(text)
    while i < n:
        if text.startswith(quote, i):
            return i + len(quote)
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "\n" and len(quote) == 1:
            return i
        i += 1
    return n
