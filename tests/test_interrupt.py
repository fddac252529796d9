"""SIGINT and SIGTERM: the workers stop with the run, nothing is half written, exit 130 / 143."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint import atomic
from tenantlint.cli import Terminated, main

ROUTE_FUNCTION = (
    "export async function get{i}(id: string) {{\n"
    "  return prisma.doc.findUnique({{ where: {{ id }} }});\n"
    "}}\n"
)


@pytest.fixture(scope="module")
def big_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred files, enough to keep two workers busy for seconds."""
    root = tmp_path_factory.mktemp("big")
    body = 'import { prisma } from "./db";\n' + "".join(
        ROUTE_FUNCTION.format(i=i) for i in range(150)
    )
    files = {f"src/m{n}.ts": body for n in range(300)}
    return write_project(root, {"tenantlint.toml": 'tenant-fields = ["tenant_id"]\n', **files})


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ps --ppid and fork")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_the_workers_and_writes_nothing(
    big_project: Path, tmp_path: Path, signum: int, code: int
) -> None:
    output = tmp_path / "out.json"
    command = ["check", str(big_project), "--no-cache", "--jobs", "2", "--format", "json"]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tenantlint.cli import main; main()", *command, "-o", output],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # as from a terminal or CI runner, whatever this test process inherited
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    workers: list[int] = []
    try:
        start = time.monotonic()
        while len(workers) < 2 and time.monotonic() - start < 30 and proc.poll() is None:
            time.sleep(0.05)
            workers = _children(proc.pid)
        assert len(workers) == 2, "the run never started its workers"
        time.sleep(max(0.0, 0.5 - (time.monotonic() - start)))  # ~0.5 s in, mid-analysis
        proc.send_signal(signum)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)  # the pipes close: no worker holds them open
        assert time.monotonic() - sent < 5  # not after finishing the queue
        assert proc.returncode == code, err
        assert b"Traceback" not in err
        assert [p for p in workers if _alive(p)] == []
        assert not output.exists()
        assert list(tmp_path.iterdir()) == []  # no temporary file either
    finally:
        for pid in [proc.pid, *workers]:  # only what this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()


def test_interrupted_write_leaves_the_old_output_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path / "p", {"schema.prisma": "model Tenant {\n  id String @id\n}\n"})
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    out.write_text("the previous report\n")

    def interrupted(src: str, dst: str) -> None:
        raise Terminated

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    result = CliRunner().invoke(main, ["check", str(root), "--format", "json", "-o", str(out)])
    assert result.exit_code == 143
    assert result.stderr == "tenantlint: terminated\n"
    assert out.read_text() == "the previous report\n"
    assert [p.name for p in out.parent.iterdir()] == ["report.json"]


def test_output_file_gets_the_usual_mode(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"schema.prisma": "model Tenant {\n  id String @id\n}\n"})
    out = tmp_path / "report.json"
    umask = os.umask(0o022)
    try:
        CliRunner().invoke(main, ["check", str(root), "--format", "json", "-o", str(out)])
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644  # not the temporary file's 0o600
