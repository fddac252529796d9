"""`--jobs N`: parallel front ends give exactly the results of `--jobs 1`."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from tenantlint import collect as collect_mod
from tenantlint.cli import main
from tenantlint.engine import RunResult, load_project, run

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    _generator().Generator(root, 160, seed=3).run()
    return root


def _run(root: Path, jobs: int, use_cache: bool = False) -> RunResult:
    return run(load_project([root]), [root], jobs=jobs, use_cache=use_cache)


def _outcome(result: RunResult) -> tuple[object, ...]:
    return (
        result.findings,
        result.unverified,
        [(s.finding, s.reason) for s in result.suppressed],
        result.files_scanned,
    )


def test_parallel_run_equals_serial_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collect_mod, "POOL_THRESHOLD", 1)  # use the pool even for few files
    serial = _run(project, jobs=1)
    parallel = _run(project, jobs=2)
    assert list(parallel.tmap.files) == list(serial.tmap.files)
    assert parallel.tmap.files == serial.tmap.files
    assert _outcome(parallel) == _outcome(serial)
    assert serial.findings  # the generated project plants findings


def test_cache_written_by_workers_serves_a_serial_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect_mod, "POOL_THRESHOLD", 1)
    cold = _run(project, jobs=2, use_cache=True)
    warm = _run(project, jobs=1, use_cache=True)
    assert warm.tmap.files == cold.tmap.files
    assert _outcome(warm) == _outcome(cold)


def test_pool_is_not_started_for_small_runs(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*_: object, **__: object) -> None:
        raise AssertionError("a process pool was started")

    monkeypatch.setattr(collect_mod, "ProcessPoolExecutor", no_pool)
    small = sorted(
        p.relative_to(project).as_posix() for p in (project / "prisma").rglob("*.prisma")
    )
    assert len(small) < collect_mod.POOL_THRESHOLD
    facts = collect_mod.collect(
        project, small, load_project([project]).config, jobs=8, use_cache=False
    )
    assert list(facts) == small


def test_cli_jobs_option(project: Path) -> None:
    outputs = []
    for jobs in ("1", "2"):
        args = ["check", str(project), "--format", "json", "--no-cache", "--jobs", jobs]
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1, res.output
        outputs.append(json.loads(res.stdout)["findings"])
    assert outputs[0] == outputs[1]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "enabled", "shown"), [(True, True, True), (False, True, False), (True, False, False)]
)
def test_progress_only_on_a_terminal_after_a_second(
    monkeypatch: pytest.MonkeyPatch, tty: bool, enabled: bool, shown: bool
) -> None:
    err = _Tty() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    clock = iter([100.0, 100.2, 101.5, 101.7, 103.0])
    monkeypatch.setattr(collect_mod.time, "monotonic", lambda: next(clock))
    progress = collect_mod._Progress(4, enabled)  # starts at t=100.0
    progress.step()  # 0.2 s: too early
    assert err.getvalue() == ""
    progress.step(2)  # 1.5 s
    progress.step()  # 1.7 s
    progress.done()
    if shown:
        assert err.getvalue().startswith(
            "\rtenantlint: analysed 3/4 files\rtenantlint: analysed 4/4 files"
        )
        assert err.getvalue().endswith("\r\033[K")  # the line is cleared at the end
    else:
        assert err.getvalue() == ""
