"""The tree-sitter side of the TypeScript front end: grammars, parsers and compiled queries.

A grammar (TypeScript, TSX or JavaScript) is chosen by file suffix; languages, parsers and queries
are built once per process and cached. tree-sitter is imported on first use only.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Query

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
