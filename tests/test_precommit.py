"""The pre-commit hook of `.pre-commit-hooks.yaml`, run by pre-commit itself in a scratch repo:
a finding blocks the commit, and a config or schema change is checked across the whole project.

The hook repository is a git copy of this work tree (so the code under test is what runs);
pre-commit installs it with pip into its own environment once, then both the blocked commit and
the passing one reuse it. Needs `pre-commit` (dev extra) and PyPI for the hook's dependencies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tenantlint import __version__

REPO = Path(__file__).resolve().parent.parent

CLEAN = """model Tenant {
  id String @id @default(cuid())
}

model Project {
  id       String @id @default(cuid())
  tenantId String
  slug     String
  @@unique([tenantId, slug])
  @@index([tenantId])
}
"""
BAD_MODEL = """
model Invoice {
  id       String @id @default(cuid())
  tenantId String
  number   String @unique
  @@index([tenantId])
}
"""
GOOD_MODEL = """
model Invoice {
  id       String @id @default(cuid())
  tenantId String
  number   String
  @@unique([tenantId, number])
  @@index([tenantId])
}
"""


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def hook_repo(dest: Path) -> str:
    """A git repo holding this work tree's files (tracked and new, not ignored); its HEAD sha."""
    files = git(REPO, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file() and not rel.startswith(("fixtures/", "bench/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "hook repo")
    return git(dest, "rev-parse", "HEAD")


def precommit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("precommit")
    hooks = base / "hooks"
    hooks.mkdir()
    rev = hook_repo(hooks)
    app = base / "app"
    (app / "prisma").mkdir(parents=True)
    (app / "prisma/schema.prisma").write_text(CLEAN)
    (app / "tenantlint.toml").write_text("")
    (app / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks.as_posix()}\n  rev: {rev}\n  hooks:\n  - id: tenantlint\n"
    )
    git(app, "init", "-q")
    git(app, "add", "-A")
    git(app, "commit", "-qm", "clean start")
    env = {**os.environ, "PRE_COMMIT_HOME": str(base / "cache")}
    env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    installed = precommit(app, env, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return app, hooks, env


def commit(app: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    """`git commit`; the hook's output (stderr under git) is folded into stdout."""
    return subprocess.run(
        ["git", "commit", "-m", message],
        cwd=app,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_commit_with_a_finding_is_blocked_and_a_clean_one_passes(
    setup: tuple[Path, Path, dict[str, str]],
) -> None:
    app, _, env = setup
    head = git(app, "rev-parse", "HEAD")
    schema = app / "prisma/schema.prisma"

    schema.write_text(CLEAN + BAD_MODEL)
    git(app, "add", "prisma/schema.prisma")
    blocked = commit(app, env, "add invoices")
    assert blocked.returncode == 1, blocked.stdout
    assert "tenantlint" in blocked.stdout and "Failed" in blocked.stdout
    assert "prisma/schema.prisma:16:3: TL102" in blocked.stdout
    assert git(app, "rev-parse", "HEAD") == head  # nothing was committed

    schema.write_text(CLEAN + GOOD_MODEL)
    git(app, "add", "prisma/schema.prisma")
    passed = commit(app, env, "add invoices, scoped")
    assert passed.returncode == 0, passed.stdout
    assert "tenantlint" in passed.stdout and "Passed" in passed.stdout
    assert git(app, "rev-parse", "HEAD") != head


def test_try_repo_blocks_staged_finding(setup: tuple[Path, Path, dict[str, str]]) -> None:
    """`pre-commit try-repo` as a user would first try the hook (it installs afresh each time)."""
    app, hooks, env = setup
    rev = git(hooks, "rev-parse", "HEAD")
    (app / "prisma/extra.prisma").write_text(BAD_MODEL.replace("Invoice", "Receipt"))
    git(app, "add", "prisma/extra.prisma")
    bad = precommit(app, env, "try-repo", str(hooks), "tenantlint", "--ref", rev)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "prisma/extra.prisma:5:3: TL102" in bad.stdout
    assert "prisma/schema.prisma" not in bad.stdout  # only the staged file is reported


PLAN_SCHEMA = CLEAN + "\nmodel Plan {\n  id String @id\n}\n"
INVOICES_ROUTE = """import { PrismaClient } from "@prisma/client";

const prisma = new PrismaClient();

export async function GET() {
  return Response.json(await prisma.invoice.findMany());
}
"""


def test_config_and_schema_changes_check_the_whole_project(
    setup: tuple[Path, Path, dict[str, str]],
) -> None:
    """A dropped `global-models` entry, staged alone, is blocked by the finding it causes in the
    untouched schema; a schema change, staged alone, by the one it causes in a route."""
    _, hooks, env = setup
    app = hooks.parent / "app-context"
    (app / "prisma").mkdir(parents=True)
    (app / "app/api/invoices").mkdir(parents=True)
    (app / "prisma/schema.prisma").write_text(PLAN_SCHEMA)
    (app / "tenantlint.toml").write_text('global-models = ["Plan"]\n')
    (app / "app/api/invoices/route.ts").write_text(INVOICES_ROUTE)  # no Invoice model yet
    git(hooks, "tag", "-f", f"v{__version__}")  # what the release step makes; the docs' `rev:`
    (app / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks.as_posix()}\n  rev: v{__version__}\n  hooks:\n  - id: tenantlint\n"
    )
    git(app, "init", "-q")
    assert precommit(app, env, "install").returncode == 0
    git(app, "add", "-A")
    first = commit(app, env, "clean start")
    assert first.returncode == 0, first.stdout

    (app / "tenantlint.toml").write_text("global-models = []\n")
    git(app, "add", "tenantlint.toml")
    blocked = commit(app, env, "drop Plan from global-models")
    assert blocked.returncode == 1, blocked.stdout
    plan = PLAN_SCHEMA.splitlines().index("model Plan {") + 1
    assert f"prisma/schema.prisma:{plan}:1: TL101" in blocked.stdout
    git(app, "checkout", "HEAD", "--", "tenantlint.toml")

    (app / "prisma/schema.prisma").write_text(PLAN_SCHEMA + GOOD_MODEL)
    git(app, "add", "prisma/schema.prisma")
    blocked = commit(app, env, "add invoices")
    assert blocked.returncode == 1, blocked.stdout
    assert re.search(r"^app/api/invoices/route\.ts:6:\d+: TL301", blocked.stdout, re.MULTILINE)
