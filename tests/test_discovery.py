"""Root detection and discovery: markers, .gitignore, default excludes, include/exclude."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tenantlint.discovery import discover, find_root, os_path, project_path


def touch(root: Path, *rels: str) -> None:
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_root_is_nearest_marker(tmp_path: Path) -> None:
    touch(tmp_path, ".git/HEAD", "app/sub/x.prisma", "svc/pyproject.toml", "svc/y.prisma")
    assert find_root(tmp_path / "app/sub/x.prisma") == tmp_path.resolve()
    # a pyproject without [tool.tenantlint] is not a root marker
    assert find_root(tmp_path / "svc/y.prisma") == tmp_path.resolve()
    (tmp_path / "svc/pyproject.toml").write_text("[tool.tenantlint]\n")
    assert find_root(tmp_path / "svc/y.prisma") == (tmp_path / "svc").resolve()


def test_gitignore_and_default_excludes(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "schema.prisma",
        "node_modules/pkg/schema.prisma",
        "dist/schema.prisma",
        "generated/schema.prisma",
        "sub/keep.prisma",
        "sub/tmp/skip.prisma",
        "notes.txt",
    )
    (tmp_path / ".gitignore").write_text("generated/\n")
    (tmp_path / "sub/.gitignore").write_text("tmp/\n")
    assert discover(tmp_path) == ["schema.prisma", "sub/keep.prisma"]


def test_include_exclude_globs(tmp_path: Path) -> None:
    touch(tmp_path, "a/one.prisma", "b/two.prisma", "b/seed/three.prisma")
    assert discover(tmp_path, include=("b/**",)) == ["b/seed/three.prisma", "b/two.prisma"]
    assert discover(tmp_path, exclude=("**/seed/**",)) == ["a/one.prisma", "b/two.prisma"]


# --- file names that are not UTF-8 (or hold a backslash) ------------------------------------


def test_undecodable_file_name_gets_a_printable_project_path(tmp_path: Path) -> None:
    raw = os.fsdecode(b"b\xff.py")  # the name as os.scandir gives it: a lone surrogate
    (tmp_path / raw).write_text("x = 1\n")
    (tmp_path / "back\\slash.py").write_text("x = 1\n")
    found = discover(tmp_path)
    assert found == ["b\\xff.py", "back\\\\slash.py"]
    assert all(p.encode("utf-8") for p in found)  # printable: no surrogates left
    assert [os_path(p) for p in found] == [raw, "back\\slash.py"]
    assert (tmp_path / os_path("b\\xff.py")).read_text() == "x = 1\n"


@given(st.lists(st.sampled_from(["a", "/", "\\", "x", "ff", "é", "\udcff", "\udc80", "\ud800"])))
def test_project_path_round_trips(parts: list[str]) -> None:
    name = "".join(parts)
    shown = project_path(name)
    shown.encode("utf-8")  # always encodable
    assert os_path(shown) == name
    assert project_path("plain/path.py") == "plain/path.py"
