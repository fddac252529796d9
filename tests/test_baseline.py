"""`--write-baseline` / `--baseline`: fingerprints survive unrelated edits; every format honours it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from support import write_project
from tenantlint.cli import main

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Tenant {
  id String @id @default(cuid())
}

model Project {
  id       String @id @default(cuid())
  tenantId String
  slug     String @unique
  @@index([tenantId])
}

model Invoice {
  id       String @id @default(cuid())
  tenantId String
  number   String
  @@index([tenantId])
  @@unique([tenantId, number])
}
"""
PATH = "prisma/schema.prisma"


def cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["check", str(root), "--no-cache", *args])


def check_json(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    res = cli(root, "--format", "json", *args)
    assert res.exit_code in (0, 1), res.output
    return res.exit_code, json.loads(res.stdout)


def codes_at(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["path"], f["rule"]) for f in data["findings"]}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", {PATH: SCHEMA})
    code, data = check_json(root)
    assert code == 1 and codes_at(data) == {(PATH, "TL102")}
    res = cli(root, "--write-baseline", str(tmp_path / "baseline.json"))
    assert res.exit_code == 0, res.output
    return root


def baseline(root: Path) -> str:
    return str(root.parent / "baseline.json")


def edit(root: Path, old: str, new: str, path: str = PATH) -> None:
    target = root / path
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))


def test_baseline_file_is_sorted_json_of_fingerprints(project: Path) -> None:
    data = json.loads(Path(baseline(project)).read_text())
    assert data["version"] == 1
    assert [(f["path"], f["rule"]) for f in data["findings"]] == [(PATH, "TL102")]
    assert len(data["findings"][0]["fingerprint"]) >= 16


def test_baselined_finding_is_hidden_and_counted(project: Path) -> None:
    code, data = check_json(project, "--baseline", baseline(project))
    assert code == 0
    assert data["findings"] == []
    assert data["summary"]["baselined"] == 1


def test_lines_inserted_above_keep_the_baseline(project: Path) -> None:
    edit(
        project,
        "model Tenant {",
        "// a comment\n\nenum Role {\n  ADMIN\n  USER\n}\n\nmodel Tenant {",
    )
    code, data = check_json(project, "--baseline", baseline(project))
    assert (code, data["findings"], data["summary"]["baselined"]) == (0, [], 1)


def test_reformatted_neighbour_keeps_the_baseline(project: Path) -> None:
    edit(
        project,
        "  id       String @id @default(cuid())\n  tenantId String\n  slug",
        ("  id String     @id    @default(cuid())\n  tenantId    String\n  name String?\n  slug"),
    )
    code, data = check_json(project, "--baseline", baseline(project))
    assert (code, data["findings"], data["summary"]["baselined"]) == (0, [], 1)


def test_renamed_file_reports_the_finding_as_new(project: Path) -> None:
    (project / PATH).rename(project / "prisma/main.prisma")
    code, data = check_json(project, "--baseline", baseline(project))
    assert code == 1
    assert codes_at(data) == {("prisma/main.prisma", "TL102")}
    assert data["summary"]["baselined"] == 0


def test_a_new_identical_finding_is_reported(project: Path) -> None:
    edit(
        project,
        "model Invoice {",
        "model Ticket {\n  id String @id @default(cuid())\n"
        "  tenantId String\n  slug String @unique\n  @@index([tenantId])\n}\n\nmodel Invoice {",
    )
    code, data = check_json(project, "--baseline", baseline(project))
    assert code == 1
    assert [(f["rule"], f["line"]) for f in data["findings"]] == [("TL102", 20)]
    assert data["summary"]["baselined"] == 1


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit", "markdown"])
def test_every_format_honours_the_baseline(project: Path, fmt: str) -> None:
    hidden = cli(project, "--format", fmt, "--baseline", baseline(project))
    assert hidden.exit_code == 0, hidden.output
    shown = cli(project, "--format", fmt)
    assert shown.exit_code == 1
    assert "TL102" in shown.stdout
    assert "schema.prisma" in shown.stdout
    if fmt == "sarif":
        results = json.loads(hidden.stdout)["runs"][0]["results"]
        assert all(r.get("suppressions") for r in results)
    else:
        assert "schema.prisma:" not in hidden.stdout
        assert 'file="prisma/schema.prisma"' not in hidden.stdout
        assert "prisma/schema.prisma" not in hidden.stdout.replace("schema.prisma\n", "")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read baseline"),
        ("{not json", "invalid JSON"),
        ('{"version": 7, "findings": []}', "expected version 1"),
        ('{"version": 1, "findings": [1]}', "bad 'findings'"),
    ],
)
def test_bad_baseline_is_a_one_line_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    root = write_project(tmp_path / "p", {PATH: SCHEMA})
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    res = cli(root, "--baseline", str(path))
    assert res.exit_code == 2
    assert message in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert "Traceback" not in res.output
