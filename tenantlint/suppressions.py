"""Suppression comments: `tenantlint: ignore[TL301,TL303] because …` and `ignore-file[…]`.

Read from the comments each front end extracts with its language's tokenizer, so a directive
inside a string literal does nothing. A directive covers its own line and, when the comment
stands alone on its line, the next line; `ignore-file` covers the whole file. Blanket
suppressions without codes are malformed (TL003), and a directive that matches no finding is
reported as unused (TL002).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tenantlint.facts import Comment, Loc
from tenantlint.registry import Registry

_DIRECTIVE = re.compile(r"tenantlint:\s*(?P<kind>ignore-file|ignore)\b(?P<rest>.*)", re.DOTALL)
_CODES = re.compile(r"^\[(?P<codes>[^\]]*)\]\s*(?P<reason>.*)$", re.DOTALL)


@dataclass
class Directive:
    loc: Loc
    file_wide: bool
    codes: list[str]  # resolved rule codes
    lines: frozenset[int]
    reason: str
    used: set[str] = field(default_factory=set)


@dataclass
class Problem:
    """A malformed directive, or one naming an unknown rule (TL003)."""

    loc: Loc
    message: str


def parse_directives(
    path: str, comments: tuple[Comment, ...], registry: Registry
) -> tuple[list[Directive], list[Problem]]:
    directives: list[Directive] = []
    problems: list[Problem] = []
    for c in comments:
        m = _DIRECTIVE.search(c.text)
        if m is None:
            continue
        text = c.text.strip().lstrip("/#-*! ").rstrip("*/ ").strip()
        loc = Loc(
            path=path,
            line=c.line,
            column=c.column,
            end_line=c.line,
            end_column=c.column + len(c.text),
            snippet=text,
        )
        kind, rest = m["kind"], m["rest"].strip().rstrip("*/").strip()
        cm = _CODES.match(rest)
        if cm is None or not cm["codes"].strip():
            problems.append(
                Problem(
                    loc, f"suppression must name the rules it silences: `tenantlint: {kind}[TL301]`"
                )
            )
            continue
        codes: list[str] = []
        for raw in cm["codes"].split(","):
            rule = registry.lookup(raw)
            if rule is None:
                problems.append(Problem(loc, f"suppression names unknown rule '{raw.strip()}'"))
            else:
                codes.append(rule.code)
        if not codes:
            continue
        lines = frozenset({c.line, c.line + 1} if c.standalone else {c.line})
        directives.append(Directive(loc, kind == "ignore-file", codes, lines, cm["reason"].strip()))
    return directives, problems


def match(directives: list[Directive], code: str, line: int) -> Directive | None:
    """The directive that suppresses `code` at `line`, marking it used."""
    for d in directives:
        if code in d.codes and (d.file_wide or line in d.lines):
            d.used.add(code)
            return d
    return None
