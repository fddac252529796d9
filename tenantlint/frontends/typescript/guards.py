"""The PRECISION patterns that make an id-only Prisma lookup safe, for every site of one file.

Most patterns look at what the function did before the site (check-then-act: an earlier query
returned the row, or a scoped read constrained the same values) or after it (the fetched row is
authorised or only tested for existence). Asked site by site, each question rescans the function,
and a function with N queries costs N² (1,500 `findMany` calls in one handler took 9 s). So the
answers are indexed once per file: the sites in source order with the result names and scoped
values each one leaves behind, and each function's text decoded once with the position of every
word in it. A site then costs its own values and its own uses, not the function's length.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from functools import cache, cached_property
from itertools import accumulate
from typing import TYPE_CHECKING

from tenantlint.config import Config

if TYPE_CHECKING:
    from tree_sitter import Node

    from tenantlint.frontends.typescript.prisma import PrismaCall
    from tenantlint.frontends.typescript.syntax import Source

# `rows.map((row) => row.id)`: the ids of rows an earlier query returned
_IDS_OF_ROWS = re.compile(r"\.map\(\s*\(?\s*(\w+)\s*\)?\s*=>\s*\1\.\w*[iI]d\b")
_CALLER = re.compile(r"^(?:ctx\.|context\.|req\.|request\.)?(?:session\.)?user\??\.")
# what names a call that authorises (`canEdit(user, row)`, `assertAccess(row)`)
_PERMISSION_WORDS = ("can", "authorise", "authorize", "assert", "check", "verify", "ensure",
                     "permission", "access", "guard")  # fmt: skip
_PERMISSION_CALL = re.compile("(?i)(?:" + "|".join(_PERMISSION_WORDS) + ")")
_WORD = re.compile(r"\w+")
_MEMBER_ACCESS = re.compile(r"\s*(?:\?\.|\.|\[)")
_RESULT_WRAPPERS = frozenset({"await_expression", "parenthesized_expression", "as_expression"})
_AUTHORISE_WINDOW = 2000  # characters after a fetch in which its authorisation is looked for


class GuardPatterns:
    """The guard pattern of each Prisma site of one file (`of`), from indexes built once."""

    def __init__(self, src: Source, config: Config, sites: list[PrismaCall]) -> None:
        self.src = src
        self.config = config
        self._sites = sorted(sites, key=lambda p: p.call.start_byte)
        self._starts = [p.call.start_byte for p in self._sites]
        self._texts: dict[tuple[int, int], FunctionText] = {}
        self._patterns: dict[int, str | None] | None = None

    def of(self, p: PrismaCall) -> str | None:
        if self._patterns is None:
            self._patterns = self._all()
        return self._patterns[id(p)]

    def _all(self) -> dict[int, str | None]:
        """Every site's pattern, in source order, each site's results remembered once it is
        strictly before the site asked about."""
        earlier = _Earlier()
        out: dict[int, str | None] = {}
        added = 0
        for p in self._sites:
            while self._starts[added] < p.call.start_byte:
                earlier.add(self._sites[added], added, self._looks_scoped)
                added += 1
            out[id(p)] = self._pattern(p, earlier)
        return out

    def _pattern(self, p: PrismaCall, earlier: _Earlier) -> str | None:
        """A pattern that makes an id-only lookup safe: check-then-act (#1), a row the code
        already holds (`envelope.id` on `envelope`), fetch-then-authorise (#2), tenant-derived
        ids (#4)."""
        from tenantlint.frontends.typescript.syntax import enclosing_function

        if p.tenant_derived(self.config.tenant_fields):
            return "tenant-derived-id"
        fn = enclosing_function(p.call)
        if fn is None:
            return None
        if p.action in ("read", "update", "delete"):
            mine = earlier.value_texts(p)
            # the id of a row this function already fetched or created, or a value a scoped
            # read of the function constrained
            if earlier.linked(mine, since=bisect_left(self._starts, fn.start_byte)):
                return "check-then-act"
            if _row_in_hand(p) or any(_IDS_OF_ROWS.search(t) for t in mine):
                return "row-in-hand"
            if (
                p.action == "read"
                and p.selected
                and all(
                    k == "id" or k in self.config.tenant_fields or k.endswith("Id")
                    for k in p.selected
                )
            ):
                # reads only the row's tenant or owner ids (`select: { workspaceId: true }`),
                # to authorise the caller: no row data leaves it
                return "tenant-lookup"
            if mine and all(_CALLER.match(t) for t in mine):
                return "caller-identity"
        if p.action == "read":
            result = result_name(p.call)
            if result:
                body = self._text(fn)
                after = body.offset(p.call.end_byte)
                if self._authorised(result, body.text[after : after + _AUTHORISE_WINDOW]):
                    return "fetch-then-authorise"
                if body.existence_only(result, after):
                    return "existence-check"
        return None

    def _looks_scoped(self, p: PrismaCall) -> bool:
        """An earlier read that constrains more than an id (for check-then-act)."""
        ev = p.where
        if ev is None:
            return False
        fields = set(self.config.tenant_fields)
        return (
            bool(ev.helpers)
            or len(ev.keys) > 1
            or any("." in k or k in fields or fields & set(k.split("_")) for k in ev.keys)
        )

    def _authorised(self, var: str, after: str) -> bool:
        """`row.tenantId !== …` or `can(user, row)` in the text after the fetch."""
        if var not in after:
            return False
        fields = tuple(self.config.tenant_fields)
        if "|".join(map(re.escape, fields)) and _compares_tenant(var, after, fields):
            return True
        if not _mentions_permission(after):  # what the pattern below, compiled per var, needs
            return False
        for m in re.finditer(rf"\b([\w$.]+)\s*\([^()]*\b{re.escape(var)}\b", after):
            if _PERMISSION_CALL.search(m.group(1).rsplit(".", 1)[-1]):
                return True
        return False

    def _text(self, fn: Node) -> FunctionText:
        key = (fn.start_byte, fn.end_byte)
        if key not in self._texts:
            self._texts[key] = FunctionText(self.src.data[fn.start_byte : fn.end_byte], key[0])
        return self._texts[key]


class _Earlier:
    """What the sites before the current one leave behind, each name or value with the index of
    the last site that left it: a site links to an earlier one of its function when that index
    is at or after the function's first site."""

    def __init__(self) -> None:
        self._results: dict[str, int] = {}  # `row` of `const row = await prisma.x.find…`
        self._scoped_values: dict[str, int] = {}  # values a read constrained beside more
        self._texts: dict[int, set[str]] = {}

    def value_texts(self, p: PrismaCall) -> set[str]:
        key = id(p)
        if key not in self._texts:
            self._texts[key] = p.value_texts()
        return self._texts[key]

    def add(self, p: PrismaCall, index: int, looks_scoped: Callable[[PrismaCall], bool]) -> None:
        result = result_name(p.call)
        if result:
            self._results[result] = index
        if p.action == "read" and looks_scoped(p):
            for value in self.value_texts(p):
                self._scoped_values[value] = index

    def linked(self, mine: set[str], since: int) -> bool:
        return any(
            self._results.get(_holder(t), -1) >= since or self._scoped_values.get(t, -1) >= since
            for t in mine
        )


def _compares_tenant(var: str, after: str, fields: tuple[str, ...]) -> bool:
    r"""`var.tenantId !== …` or `… === var?.tenantId` in `after`: the regular expression
    `\bvar\??\.(?:fields)\b\s*(?:!==?|===?)|(?:!==?|===?)\s*var\??\.(?:fields)\b`, tried at
    each occurrence of `var` with patterns compiled once per set of fields, not once per name."""
    compared, member = _field_patterns(fields)
    at = after.find(var) if var else -1
    while at != -1:
        end = at + len(var)
        if _word_boundary(after, at) and compared.match(after, end):
            return True
        if member.match(after, end):
            k = _skip_space_back(after, 0, at)
            if k >= 2 and after[k - 2 : k] in ("!=", "=="):
                return True
        at = after.find(var, at + 1)
    return False


def _mentions_permission(text: str) -> bool:
    """`_PERMISSION_CALL.search(text)`, by plain substring tests where the text is ASCII (the
    case-insensitive search of a 2,000-character window costs more than the rest of a site)."""
    if text.isascii():
        lowered = text.lower()
        return any(word in lowered for word in _PERMISSION_WORDS)
    return _PERMISSION_CALL.search(text) is not None


@cache
def _field_patterns(fields: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    member = rf"\??\.(?:{'|'.join(re.escape(f) for f in fields)})\b"
    return re.compile(member + r"\s*(?:!==?|===?)"), re.compile(member)


def _word_boundary(text: str, at: int) -> bool:
    r"""`\b` at `at`: a word character on one side only (the string's ends are not words)."""

    def word(i: int) -> bool:
        return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")

    return word(at - 1) != word(at)


def _holder(value: str) -> str:
    """`row` of `row.id` or `row?.id`: the one name a result could be for `value` to read a
    member of it (a result name is an identifier: no `.`, no `?`); "" when there is none."""
    end = next((i for i, c in enumerate(value) if c in ".?"), -1)
    if end <= 0 or not (value[end] == "." or value.startswith("?.", end)):
        return ""
    return value[:end]


class FunctionText:
    """One function's source, decoded once: character offsets of its bytes, and where each
    word stands in it."""

    def __init__(self, data: bytes, start_byte: int) -> None:
        self.text = data.decode("utf-8", "replace")
        self._start = start_byte
        # byte offset of each character, kept only when they differ from character offsets
        self._char_bytes: list[int] | None = (
            None
            if len(self.text) == len(data)
            else list(accumulate((len(c.encode("utf-8", "replace")) for c in self.text), initial=0))
        )

    def offset(self, byte: int) -> int:
        """The character offset in `text` of an absolute byte offset inside the function."""
        relative = byte - self._start
        if self._char_bytes is None:
            return relative
        return bisect_left(self._char_bytes, relative)

    @cached_property
    def _words(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for m in _WORD.finditer(self.text):
            out.setdefault(m.group(), []).append(m.start())
        return out

    def uses(self, var: str, after: int) -> list[int]:
        r"""Where `var` stands as a whole word from character `after` on (`\bvar\b`)."""
        if _WORD.fullmatch(var):
            positions = self._words.get(var, [])
            return positions[bisect_left(positions, after) :]
        pattern = re.compile(rf"\b{re.escape(var)}\b")
        return [m.start() for m in pattern.finditer(self.text, after)]

    def existence_only(self, var: str, after: int) -> bool:
        """The row fetched into `var` is only tested for existence from `after` on (`if
        (existing) throw …`, `!row`): nothing is read from it."""
        uses = self.uses(var, after)
        return bool(uses) and all(
            self._tested(after, at) and not _MEMBER_ACCESS.match(self.text, at + len(var))
            for at in uses
        )

    def _tested(self, lo: int, at: int) -> bool:
        """The use at `at` follows `if (`, `if (!`, `!` or `!!` (whitespace between), not
        looking before `lo`."""
        k = _skip_space_back(self.text, lo, at)
        if k > lo and self.text[k - 1] == "!":
            return True
        if k > lo and self.text[k - 1] == "(":
            k = _skip_space_back(self.text, lo, k - 1)
            return k - 2 >= lo and self.text[k - 2 : k] == "if"
        return False


def _skip_space_back(text: str, lo: int, at: int) -> int:
    while at > lo and text[at - 1].isspace():
        at -= 1
    return at


def _row_in_hand(p: PrismaCall) -> bool:
    """`where: { id: envelope.id }` on the `envelope` delegate, or `{ id: recipient.envelopeId }`:
    the id of a row the code already holds, or a row's foreign key to it (checked upstream)."""
    from tenantlint.frontends.typescript.syntax import text, unwrap

    ids = [unwrap(v) for k, v in (p.where.values if p.where else []) if k == "id"]
    if len(ids) != 1 or ids[0].type != "member_expression":
        return False
    holder, _, prop = text(ids[0]).rpartition(".")
    holder = holder.rstrip("?").rsplit(".", 1)[-1].lower()
    model = p.delegate.lower()
    return (prop == "id" and model in holder) or prop.lower() == model + "id"


def result_name(call: Node) -> str | None:
    """`row` in `const row = await prisma.x.findFirst(…)`."""
    from tenantlint.frontends.typescript.syntax import parent_past, text

    parent = parent_past(call, _RESULT_WRAPPERS)
    if parent is not None and parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        if name is not None and name.type == "identifier":
            return text(name)
    return None
