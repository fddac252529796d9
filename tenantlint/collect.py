"""Files → facts: run the right front end on each file; unreadable files become TL001 facts."""

from __future__ import annotations

import traceback
from pathlib import Path

from tenantlint.config import Config
from tenantlint.facts import FileFacts, Loc, ParseError
from tenantlint.frontends import frontend_for, load_frontend


def parse_file(root: Path, rel: str, config: Config, verbose: bool = False) -> FileFacts:
    """Facts of one file. Never raises: whatever goes wrong is a ParseError fact (TL001)."""
    name = frontend_for(rel) or "unknown"
    try:
        data = (root / rel).read_bytes()
    except OSError as exc:
        return _failed(rel, name, f"cannot read file: {exc.strerror}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failed(rel, name, f"not UTF-8 text (byte {exc.start})")
    try:
        return load_frontend(name).parse(rel, text, config)
    except RecursionError:
        return _failed(rel, name, "too deeply nested to analyse")
    except Exception as exc:  # a front-end bug must not stop the run or hide the file
        if verbose:
            traceback.print_exc()
        return _failed(rel, name, f"internal error while analysing this file: {type(exc).__name__}: {exc}")


def _failed(rel: str, frontend: str, message: str) -> FileFacts:
    return FileFacts(path=rel, frontend=frontend, parse_errors=(ParseError(loc=Loc(path=rel, line=1), message=message),))


def collect(root: Path, rels: list[str], config: Config, verbose: bool = False) -> dict[str, FileFacts]:
    return {rel: parse_file(root, rel, config, verbose) for rel in rels}
