"""`check --changed-files`, as the pre-commit hook runs it: the staged files are reported, and
the whole project when one of them decides findings in other files. The hook's definition fires
on every such file. (tests/test_precommit.py runs the hook itself in a git repository.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint.cli import main

REPO = Path(__file__).resolve().parent.parent
SCHEMA = """model Tenant {
  id String @id
}
model Plan {
  id String @id
}
"""
INVOICE = """model Invoice {
  id       String @id @default(cuid())
  tenantId String
  @@index([tenantId])
}
"""
ROUTE = """import { prisma } from "@/lib/prisma";

export async function GET() {
  return Response.json(await prisma.invoice.findMany());
}
"""


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_project(
        tmp_path,
        {
            "tenantlint.toml": 'global-models = ["Plan"]\n',
            "prisma/schema.prisma": SCHEMA,
            "lib/prisma.ts": 'import { PrismaClient } from "@prisma/client";\n'
            "export const prisma = new PrismaClient();\n",
            "app/api/invoices/route.ts": ROUTE,
        },
    )


def changed(*paths: str) -> tuple[int, set[tuple[str, str]], str]:
    result = CliRunner().invoke(
        main, ["check", "--no-cache", "--changed-files", "--format", "json", *paths]
    )
    found = {(f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"]}
    return result.exit_code, found, result.stderr


def test_a_config_change_reports_the_whole_project(root: Path) -> None:
    assert changed("tenantlint.toml")[:2] == (0, set())
    (root / "tenantlint.toml").write_text("global-models = []\n")
    code, found, err = changed("tenantlint.toml")
    assert code == 1 and found == {("prisma/schema.prisma", "TL101")}
    assert "tenantlint.toml can change findings in other files" in err


def test_a_schema_change_reports_what_it_causes_elsewhere(root: Path) -> None:
    assert changed("prisma/schema.prisma")[:2] == (0, set())
    (root / "prisma/schema.prisma").write_text(SCHEMA + INVOICE)  # the route's model appears
    code, found, _ = changed("prisma/schema.prisma")
    assert code == 1
    assert found == {("app/api/invoices/route.ts", "TL301"), ("app/api/invoices/route.ts", "TL401")}


def test_python_models_and_migrations_widen_too(root: Path) -> None:
    write_project(
        root,
        {
            "app/models.py": "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
            "class Base(DeclarativeBase):\n    pass\n\n\n"
            "class Invoice(Base):\n"
            '    __tablename__ = "invoices"\n'
            "    id: Mapped[int] = mapped_column(primary_key=True)\n"
            "    tenant_id: Mapped[int] = mapped_column(index=True)\n",
        },
    )
    _, found, err = changed("app/models.py")
    assert ("app/api/invoices/route.ts", "TL301") in found
    assert "app/models.py can change findings in other files" in err


def test_a_code_change_reports_the_changed_file_alone(root: Path) -> None:
    (root / "prisma/schema.prisma").write_text(SCHEMA + INVOICE)
    (root / "lib/other.ts").write_text(ROUTE.replace("GET", "POST"))
    code, found, err = changed("app/api/invoices/route.ts")
    assert code == 1 and {path for path, _ in found} == {"app/api/invoices/route.ts"}
    assert "can change findings" not in err


def test_the_hook_fires_on_config_schema_sql_and_migrations_and_passes_changed_files() -> None:
    hook = (REPO / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"^\s*entry: (.+)$", hook, re.MULTILINE)
    files = re.search(r"^\s*files: (.+)$", hook, re.MULTILINE)
    assert entry and entry[1] == "tenantlint check --changed-files"
    assert files and "pass_filenames: false" not in hook
    pattern = re.compile(files[1])
    fires = [
        "tenantlint.toml",
        ".tenantlint.toml",
        "pyproject.toml",
        "apps/web/tenantlint.toml",
        "prisma/schema.prisma",
        "prisma/schema/billing.prisma",
        "prisma/migrations/20240101_init/migration.sql",
        "supabase/migrations/20240110_init.sql",
        "alembic/versions/e3f1a9c07b21_initial.py",
        "projects/migrations/0001_initial.py",
        "app/api/users/route.ts",
        "src/server.mjs",
    ]
    assert [p for p in fires if not pattern.search(p)] == []
    assert [p for p in ("README.md", "package.json", "notes.toml") if pattern.search(p)] == []
