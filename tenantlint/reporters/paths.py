"""Where each format names a file. Findings carry project paths (root-relative); text and
Markdown show them relative to the current directory, as ruff does (absolute when the file is
not under it), so a terminal or an editor opens them; SARIF, GitHub annotations and JUnit name
them relative to the repository (git top level), as code scanning and CI resolve them. What
`db-audit` reports at (`db:<schema>.<table>`) is no file, and is shown as it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tenantlint.discovery import find_repo_root, project_path

DATABASE = "db:"  # the prefix of db-audit's locations


@dataclass(frozen=True)
class PathStyle:
    """Rewrites project paths of one root: `shown` for people, `in_repo` for CI."""

    repo: Path  # the repository's top level, or the root
    _cwd_prefix: str | None  # prepended when the root is in the current directory
    _cwd_strip: str | None  # removed when the current directory is in the root
    _absolute: str  # the root, as a project path, with a trailing `/`
    _repo_prefix: str  # the root relative to the repository, with a trailing `/`, or ""

    @classmethod
    def of(cls, root: Path, cwd: Path | None = None) -> PathStyle:
        root = root.resolve()
        absolute = project_path(root.as_posix()).rstrip("/") + "/"
        try:
            here = (cwd or Path.cwd()).resolve()
        except OSError:  # the current directory was removed
            here = None
        prefix = strip = None
        if here is not None and root.is_relative_to(here):
            prefix = _prefix(root.relative_to(here))
        elif here is not None and here.is_relative_to(root):
            strip = _prefix(here.relative_to(root))
        repo = find_repo_root(root)
        return cls(repo, prefix, strip, absolute, _prefix(root.relative_to(repo)))

    def shown(self, path: str) -> str:
        """Relative to the current directory when the file is under it, else absolute."""
        if path.startswith(DATABASE):
            return path
        if self._cwd_prefix is not None:
            return self._cwd_prefix + path
        if self._cwd_strip is not None and path.startswith(self._cwd_strip):
            return path[len(self._cwd_strip) :]
        return self._absolute + path

    def in_repo(self, path: str) -> str:
        """Relative to the repository's top level (the project root when there is no git)."""
        return path if path.startswith(DATABASE) else self._repo_prefix + path


def _prefix(rel: Path) -> str:
    posix = rel.as_posix()
    return "" if posix == "." else project_path(posix) + "/"
