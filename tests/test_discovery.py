"""Root detection and discovery: markers, .gitignore, default excludes, include/exclude."""

from __future__ import annotations

from pathlib import Path

from tenantlint.discovery import discover, find_root


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
