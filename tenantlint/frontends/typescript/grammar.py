"""The tree-sitter side of the TypeScript front end: grammars, parsers and compiled queries.

A grammar (TypeScript, TSX or JavaScript) is chosen by file suffix; languages, parsers and queries
are built once per process and cached. tree-sitter is imported on first use only.
"""

from __future__ import annotations

import time
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Query, Tree

    from tenantlint.frontends.typescript.syntax import Source


@cache
def language(kind: str) -> Language:
    from tree_sitter import Language

    if kind == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript

    return Language(
        tree_sitter_typescript.language_tsx()
        if kind == "tsx"
        else tree_sitter_typescript.language_typescript()
    )


@cache
def parser(kind: str) -> Parser:
    from tree_sitter import Parser

    return Parser(language(kind))


# tree-sitter's parse of one file gets this long; past it the file is one TL001. Real files parse
# in a tenth of a second; a pathological run of comment openers in a .tsx took 48 s, in few
# parser steps of great cost (so the budget is time: a step count does not see it).
PARSE_SECONDS = 10


def parse_within(p: Parser, data: bytes, seconds: float) -> Tree | None:
    """The tree of `data`, or None when parsing takes longer than `seconds` (tree-sitter offers
    its progress callback only in the chunked form of `parse`)."""
    deadline = time.monotonic() + seconds

    def read(offset: int, _point: object) -> bytes:
        return data[offset : offset + 65536]

    try:
        return p.parse(read, progress_callback=lambda *_: time.monotonic() > deadline)
    except ValueError:  # "Parsing failed": cancelled by the callback
        p.reset()  # else the next parse resumes this one (the parser is cached per process)
        return None


def grammar(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower()
    if suffix in ("js", "jsx", "mjs", "cjs"):
        return "javascript"
    return "tsx" if suffix == "tsx" else "typescript"


@cache
def query(kind: str, source: str) -> Query:
    from tree_sitter import Query

    compiled: Query = Query(language(kind), source)
    return compiled


def captures(src: Source, source: str) -> dict[str, list[Node]]:
    from tree_sitter import QueryCursor

    kind = (
        "javascript"
        if src.tree.language == language("javascript")
        else "tsx"
        if src.path.endswith(".tsx")
        else "typescript"
    )
    return QueryCursor(query(kind, source)).captures(src.root)
