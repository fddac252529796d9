"""Where each format names a file: text and Markdown from the current directory (openable from
the terminal and the editor), SARIF, GitHub annotations and JUnit from the repository's top
level (where code scanning and CI resolve them), JSON's `path` from the project root."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint.cli import main

SCHEMA = (
    "model Tenant {\n  id String @id\n}\n"
    "model Project {\n"
    "  id       String  @id\n"
    "  tenantId String\n"
    "  slug     String  @unique\n"
    "  @@index([tenantId])\n"
    "}\n"
)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A monorepo: git at the top, the tenantlint project in `services/api`."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write_project(tmp_path / "repo" / "services" / "api", {"prisma/schema.prisma": SCHEMA})
    (tmp_path / "elsewhere").mkdir()
    return tmp_path / "repo"


def check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", "--no-cache", *args])
    assert result.exit_code == 1, result.output
    return result.stdout


def ci_paths(target: str) -> tuple[str, str]:
    """The file as GitHub annotations, SARIF and JUnit name it, and SARIF's %SRCROOT%."""
    github = check(target, "--format", "github")
    file = github.split("file=", 1)[1].split(",", 1)[0]
    run = json.loads(check(target, "--format", "sarif"))["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uriBaseId"] == "%SRCROOT%"
    case = ET.fromstring(check(target, "--format", "junit")).find("testsuite/testcase")
    assert case is not None
    assert file == location["uri"] == case.get("file")
    return file, run["originalUriBaseIds"]["%SRCROOT%"]["uri"]


@pytest.mark.parametrize(
    ("cwd", "target", "shown"),
    [
        ("", "services/api", "services/api/prisma/schema.prisma"),  # the repository's top
        ("services/api/prisma", "..", "schema.prisma"),  # a subfolder of the project
        ("services/api", ".", "prisma/schema.prisma"),  # the project root
    ],
)
def test_each_format_from_inside_the_repository(
    repo: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, target: str, shown: str
) -> None:
    monkeypatch.chdir(repo / cwd)
    assert check(target).startswith(f"{shown}:7:3: TL102 [error]")
    assert f"`{shown}:7`" in check(target, "--format", "markdown")
    file, srcroot = ci_paths(target)
    assert file == "services/api/prisma/schema.prisma"
    assert srcroot == repo.resolve().as_uri() + "/"
    data = json.loads(check(target, "--format", "json"))
    assert [f["path"] for f in data["findings"]] == ["prisma/schema.prisma"]  # SPEC: root-relative


def test_each_format_from_outside_the_project(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.parent / "elsewhere")
    project = repo / "services" / "api"
    absolute = f"{project.resolve().as_posix()}/prisma/schema.prisma"
    assert check(str(project)).startswith(f"{absolute}:7:3: TL102")  # not under "." : absolute
    assert ci_paths(str(project))[0] == "services/api/prisma/schema.prisma"
    data = json.loads(check(str(project), "--format", "json"))
    assert [f["path"] for f in data["findings"]] == ["prisma/schema.prisma"]
    monkeypatch.chdir(repo.parent)  # above the repository: relative again
    assert check(str(project)).startswith("repo/services/api/prisma/schema.prisma:7:3:")


def test_without_git_ci_formats_name_files_from_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "p", {"prisma/schema.prisma": SCHEMA})
    monkeypatch.chdir(tmp_path)
    assert check("p").startswith("p/prisma/schema.prisma:7:3:")
    file, srcroot = ci_paths("p")
    assert file == "prisma/schema.prisma" and srcroot == project.resolve().as_uri() + "/"


def test_the_bundled_example_from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES.parent)
    lines = check("fixtures/next-prisma-rls", "--quiet").splitlines()
    assert lines and all(line.startswith("fixtures/next-prisma-rls/") for line in lines[:-1]), (
        lines[:3]
    )
    assert (FIXTURES.parent / lines[0].split(":", 1)[0]).is_file()  # it opens


def test_database_locations_are_shown_as_they_are(repo: Path) -> None:
    from tenantlint.reporters.paths import PathStyle

    style = PathStyle.of(repo / "services" / "api", cwd=repo.parent / "elsewhere")
    assert style.shown("db:public.docs") == style.in_repo("db:public.docs") == "db:public.docs"
    assert style.in_repo("prisma/schema.prisma") == "services/api/prisma/schema.prisma"
