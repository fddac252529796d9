"""Project root detection and file discovery (root markers, .gitignore, include/exclude).

Files are named by their *project path*: root-relative, with `/`, and printable as text. A file
name that is not valid UTF-8 (on POSIX, bytes the file system decoding could only carry as lone
surrogates) gets each undecodable byte written `\\xHH`, and a real backslash is written `\\\\`,
so the escaping can be undone: `os_path` gives back the name to open. Every output (text, JSON,
SARIF, the audit report) and the fact cache use the project path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pathspec

from tenantlint.config import CONFIG_FILES, find_config_file
from tenantlint.errors import PathError
from tenantlint.frontends import frontend_for

ALWAYS_EXCLUDED = frozenset(
    {"node_modules", ".venv", "venv", "dist", "build", ".git", ".tenantlint_cache", "__pycache__"}
)


_ESCAPED = re.compile(r"\\(?:\\|x([0-9a-f]{2})|u([0-9a-f]{4}))")


def project_path(name: str) -> str:
    """The printable project path of a root-relative OS path (see the module docstring)."""
    if "\\" not in name:
        try:
            name.encode("utf-8")
            return name
        except UnicodeEncodeError:
            pass
    out = []
    for ch in name:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:  # any other lone surrogate (Windows names)
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def os_path(path: str) -> str:
    """The OS path of a project path: `project_path` undone."""
    if "\\" not in path:
        return path

    def plain(m: re.Match[str]) -> str:
        if m[1]:
            return chr(0xDC00 + int(m[1], 16))
        return chr(int(m[2], 16)) if m[2] else "\\"

    return _ESCAPED.sub(plain, path)


def find_root(start: Path) -> Path:
    """Nearest ancestor with a tenantlint config, a pyproject with our table, or `.git`."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for candidate in (here, *here.parents):
        if find_config_file(candidate) is not None or (candidate / ".git").exists():
            return candidate
    return here


def find_repo_root(root: Path) -> Path:
    """The git top level holding `root` (the nearest ancestor with `.git`, a directory or, in a
    worktree or submodule, a file); `root` itself when it is in no repository. SARIF and GitHub
    annotations name files relative to it, as code scanning resolves them."""
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            return candidate
    return root


def globspec(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def discover(
    root: Path,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    dirs: list[str] | None = None,
) -> list[str]:
    """Every analysable file under `root`, as sorted root-relative POSIX paths. `dirs`, when
    given, receives every directory walked (the file cache revalidates the listing by them)."""
    inc = globspec(include) if include else None
    exc = globspec(exclude)
    found: list[str] = []
    for name in _walk(root, dirs):
        rel = project_path(name)
        if frontend_for(rel) is None or exc.match_file(rel):
            continue
        if inc is None or inc.match_file(rel):
            found.append(rel)
    return sorted(found)


def _walk(root: Path, dirs: list[str] | None = None) -> Iterator[str]:
    """Files under root, honouring every `.gitignore` on the way down."""
    stack: list[tuple[str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [("", [])]
    while stack:
        rel_dir, specs = stack.pop()
        if dirs is not None:
            dirs.append(project_path(rel_dir))
        abs_dir = root / rel_dir if rel_dir else root
        specs = specs + _gitignore(abs_dir, rel_dir)
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if _ignored(rel, is_dir, specs):
                continue
            if is_dir:
                if entry.name not in ALWAYS_EXCLUDED:
                    stack.append((rel, specs))
            elif entry.is_file(follow_symlinks=False):
                yield rel


def _gitignore(abs_dir: Path, rel_dir: str) -> list[tuple[str, pathspec.GitIgnoreSpec]]:
    path = abs_dir / ".gitignore"
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [(rel_dir, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ignored(rel: str, is_dir: bool, specs: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        if spec.match_file(sub + "/" if is_dir else sub):
            return True
    return False


def resolve_targets(root: Path, paths: Iterable[Path]) -> list[str] | None:
    """The root-relative prefixes findings are reported for; None means the whole root."""
    targets: list[str] = []
    for path in paths:
        if not path.exists():
            raise PathError(f"{path}: no such file or directory")
        absolute = path.resolve()
        if absolute == root:
            return None
        try:
            targets.append(project_path(absolute.relative_to(root).as_posix()))
        except ValueError:
            raise PathError(f"{path}: outside the project root {root}") from None
    return targets


def in_targets(rel: str, targets: list[str] | None) -> bool:
    if targets is None:
        return True
    return any(rel == t or rel.startswith(t + "/") for t in targets)


__all__ = [
    "CONFIG_FILES",
    "discover",
    "find_repo_root",
    "find_root",
    "globspec",
    "in_targets",
    "os_path",
    "project_path",
    "resolve_targets",
]
