"""`check --stdin-filename PATH`: the text on stdin is linted as PATH, in place of the file on
disk, with the rest of the project as context (what editors send on every keystroke)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint.cli import main

SCHEMA = """model Tenant {
  id String @id
}
model Project {
  id       String @id @default(uuid())
  tenantId String
  name     String
  @@index([tenantId])
}
"""
ON_DISK = """import { prisma } from "@/lib/prisma";

export async function GET(req: Request) {
  return Response.json(await prisma.project.findMany({ where: { tenantId: "t1" } }));
}
"""
EDITED = """import { prisma } from "@/lib/prisma";

export async function renameDemo() {
  // tenantlint: ignore[TL301] an admin tool
  await prisma.project.update({ where: { id: "demo" }, data: { name: "Demo" } });
  return prisma.project.findUnique({ where: { id: "demo" } });
}
"""


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_project(
        tmp_path,
        {
            "prisma/schema.prisma": SCHEMA,
            "lib/prisma.ts": 'import { PrismaClient } from "@prisma/client";\n'
            "export const prisma = new PrismaClient();\n",
            "lib/projects.ts": ON_DISK,
        },
    )


def check(*args: str, text: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--no-cache", *args], input=text)
    return result.exit_code, result.stdout, result.stderr


def findings(out: str) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["rule"]) for f in json.loads(out)["findings"]]


def test_stdin_replaces_the_file_with_the_project_as_context(root: Path) -> None:
    code, out, _ = check("--stdin-filename", "lib/projects.ts", "--format", "json", text=EDITED)
    assert code == 1
    # the schema on disk makes Project tenant-scoped; the suppression is read from stdin's text
    assert findings(out) == [("lib/projects.ts", 6, "TL301")]
    assert json.loads(out)["summary"]["suppressed"] == 1
    text = check("--stdin-filename", "lib/projects.ts", text=EDITED)[1]
    assert '     6 |   return prisma.project.findUnique({ where: { id: "demo" } });' in text
    assert (root / "lib/projects.ts").read_text() == ON_DISK  # nothing written


def test_stdin_gives_what_the_same_file_on_disk_gives(root: Path) -> None:
    from_stdin = check("--stdin-filename", "lib/projects.ts", "--format", "json", text=EDITED)[1]
    (root / "lib/projects.ts").write_text(EDITED)
    on_disk = check("lib/projects.ts", "--format", "json", text="")[1]
    assert json.loads(from_stdin)["findings"] == json.loads(on_disk)["findings"]


def test_a_file_not_yet_on_disk_and_the_dash_path(root: Path) -> None:
    code, out, _ = check(
        "-", "--stdin-filename", "app/api/new/route.ts", "--format", "json", text=EDITED
    )
    assert code == 1 and findings(out) == [("app/api/new/route.ts", 6, "TL301")]
    assert not (root / "app").exists()


def test_a_path_beside_stdin_is_a_usage_error(root: Path) -> None:
    code, _, err = check("lib", "--stdin-filename", "lib/projects.ts", text=EDITED)
    assert code == 2
    assert err == "tenantlint: error: --stdin-filename lints stdin: give no PATH, or `-`\n"
