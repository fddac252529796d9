"""Front ends: each turns one file into `FileFacts`. Loaded lazily, by file suffix.

A front end is a class with a `name` and `parse(path, text, config) -> FileFacts`; it must not
raise on bad input (a syntax error becomes a `ParseError` fact, reported as TL001). Heavy parser
imports happen inside the front end's module, so a run that never meets a `.ts` file never loads
tree-sitter.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Protocol

from tenantlint.config import Config
from tenantlint.facts import FileFacts

# front-end name → "module:Class"
FRONTENDS: dict[str, str] = {
    "prisma": "tenantlint.frontends.prisma:PrismaFrontEnd",
    "typescript": "tenantlint.frontends.typescript:TypeScriptFrontEnd",
    "sql": "tenantlint.frontends.sql:SqlFrontEnd",
    "python": "tenantlint.frontends.python:PythonFrontEnd",
}

SUFFIXES: dict[str, str] = {
    ".prisma": "prisma",
    ".sql": "sql",
    ".py": "python",
    **dict.fromkeys((".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"), "typescript"),
}


class FrontEnd(Protocol):
    name: str

    def parse(self, path: str, text: str, config: Config) -> FileFacts: ...


def frontend_for(rel_path: str) -> str | None:
    """The name of the front end that reads this file, or None."""
    name = rel_path.rsplit("/", 1)[-1]
    if name.endswith((".d.ts", ".d.mts", ".d.cts", ".min.js")):
        return None
    dot = name.rfind(".")
    return SUFFIXES.get(name[dot:].lower()) if dot > 0 else None


@cache
def load_frontend(name: str) -> FrontEnd:
    module_name, _, attr = FRONTENDS[name].partition(":")
    frontend: FrontEnd = getattr(importlib.import_module(module_name), attr)()
    return frontend
