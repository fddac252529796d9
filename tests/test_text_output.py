"""Text output as a person reads it: the fix and the docs under each finding, colour where it
belongs (a terminal, --color, NO_COLOR, FORCE_COLOR), a summary that counts files with findings,
and a warning when a target holds nothing to check."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint.cli import main

SCHEMA = (
    "model Tenant {\n  id String @id\n}\n"
    "model Project {\n"
    "  id       String @id\n"
    "  tenantId String\n"
    "  slug     String @unique\n"
    "  @@index([tenantId])\n"
    "}\n"
)
ESC = "\x1b["


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return write_project(tmp_path, {"prisma/schema.prisma": SCHEMA})


def check(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--no-cache", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_help_and_docs_under_each_finding(root: Path) -> None:
    code, out, _ = check(str(root))
    assert code == 1
    assert out.splitlines() == [
        "prisma/schema.prisma:7:3: TL102 [error] unique (slug) on tenant-scoped 'Project' does "
        "not include tenantId: it is enforced across all tenants",
        "     7 |   slug     String @unique",
        "       |   ^^^^^^^^^^^^^^^^^^^^^^^",
        "       = help: add tenantId to the key, first: `@@unique([tenantId, slug])`",
        "       = docs: tenantlint explain TL102",
        "Found 1 finding (1 error) in 1 file (1 scanned).",
    ]
    quiet = check(str(root), "--quiet")[1].splitlines()
    assert len(quiet) == 2 and "help:" not in quiet[1]  # the finding and the summary


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, False),  # not a terminal
        (("--color", "always"), {}, True),
        (("--color", "always"), {"NO_COLOR": "1"}, True),  # the flag wins
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins
        ((), {"FORCE_COLOR": "0"}, False),
    ],
)
def test_colour_choice(
    root: Path, args: tuple[str, ...], env: dict[str, str], coloured: bool
) -> None:
    _, out, _ = check(str(root), *args, env=env)
    assert (ESC in out) is coloured
    assert "TL102" in out


def test_colour_never_goes_into_a_file_or_other_formats(root: Path) -> None:
    check(str(root), "-o", "out.txt", env={"FORCE_COLOR": "1"})
    assert ESC not in (root / "out.txt").read_text()
    assert ESC not in check(str(root), "--format", "json", "--color", "always")[1]


def test_colour_on_a_terminal(root: Path) -> None:
    """Auto colours a real terminal (a pseudo-terminal here) and not when NO_COLOR is set."""

    def on_tty(extra_env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        env = {**os.environ, "TERM": "xterm", **extra_env}
        env.pop("FORCE_COLOR", None)
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from tenantlint.cli import main; main()",
                "check",
                "--no-cache",
                ".",
            ],
            cwd=root,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            env=env,
            timeout=120,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: all read
                break
            if not data:
                break
            chunks.append(data)
        os.close(leader)
        assert proc.returncode == 1
        return b"".join(chunks).decode()

    assert ESC in on_tty({})
    assert ESC not in on_tty({"NO_COLOR": "1"})


def test_summary_counts_files_with_findings_and_files_scanned(root: Path) -> None:
    write_project(root, {"prisma/other.prisma": "model Note {\n  id String @id\n}\n"})
    (root / "lib").mkdir()
    (root / "lib/util.ts").write_text("export const one = 1;\n")
    out = check(str(root))[1]
    assert out.splitlines()[-1] == "Found 2 findings (2 errors) in 2 files (3 scanned)."


@pytest.mark.parametrize("target", ["empty", "docs/readme.md", "node_modules"])
def test_a_target_with_nothing_to_check_says_so(root: Path, target: str) -> None:
    (root / "empty").mkdir()
    (root / "docs").mkdir()
    (root / "docs/readme.md").write_text("# notes\n")
    (root / "node_modules").mkdir()
    (root / "node_modules/x.ts").write_text("export const x = 1;\n")
    code, out, err = check(target)
    assert code == 0
    assert f"tenantlint: warning: no files to check in {target}" in err
    assert out == "No files checked.\n"
    assert "warning" not in check(target, "--quiet")[2]
