"""tenantlint against semgrep on the same generated project of Python files.

    python bench/bench_semgrep.py [--files 1500] [--seed 1] [--repeat 3] [--keep DIR]
                                  [--tenantlint PATH] [--semgrep PATH] [--rules FILE]

Generates N files with `generate.py`'s Python kinds (as `bench_python.py` does), then times, best
of `--repeat`, each in a fresh process with `--jobs 1` and `--jobs 2`:

- `tenantlint check --no-cache` (start-up, discovery, the tenancy map and every rule included);
- `semgrep scan --config bench/semgrep/python.yml --metrics=off --quiet`, whose rules approximate
  tenantlint's Python code rules by syntax patterns (TL301, TL302, TL303, TL305, TL402, TL501,
  TL502; see that file), with semgrep's version check off (it waits on the network otherwise).

Prints files scanned, wall seconds, files/s and findings of each run, and the ratio of the wall
times tenantlint/semgrep (below 1: tenantlint is faster). Semgrep is not a dependency of
tenantlint (`pip install semgrep` in a scratch venv and pass `--semgrep`): without it the script
says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _shared import bench_args, generate_kinds  # noqa: E402


def timed(cmd: list[str], cwd: Path, repeat: int, env: dict[str, str]) -> tuple[float, str]:
    """Best wall time of `cmd` in a fresh process, and the stdout of the last run."""
    best = float("inf")
    out = ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        best, out = min(best, wall), done.stdout
    return best, out


def run_tenantlint(exe: str, root: Path, jobs: int, repeat: int) -> tuple[float, int, int]:
    cmd = [exe, "check", ".", "--no-cache", "--jobs", str(jobs), "--format", "json"]
    wall, out = timed(cmd, root, repeat, dict(os.environ))
    summary = json.loads(out)["summary"]
    return wall, summary["files_scanned"], summary["findings"]


def run_semgrep(
    exe: str, rules: Path, root: Path, jobs: int, repeat: int
) -> tuple[float, int, int]:
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    cmd = [exe, "scan", "--config", str(rules), "--metrics=off", "--disable-version-check"]
    cmd += ["--jobs", str(jobs), "--quiet", "--json", "."]
    wall, out = timed(cmd, root, repeat, env)
    report = json.loads(out)
    return wall, len(report["paths"]["scanned"]), len(report["results"])


def main() -> None:
    def executables(ap: argparse.ArgumentParser) -> None:
        ap.add_argument("--tenantlint", default="tenantlint", help="the tenantlint executable")
        ap.add_argument("--semgrep", default="semgrep", help="the semgrep executable")
        ap.add_argument("--rules", type=Path, default=HERE / "semgrep" / "python.yml")

    args = bench_args(__doc__, files=1500, extra=executables)
    semgrep = shutil.which(args.semgrep)
    if semgrep is None:
        print(f"semgrep not found ({args.semgrep}): nothing to compare; pass --semgrep PATH")
        return
    tenantlint = shutil.which(args.tenantlint)
    if tenantlint is None:
        sys.exit(f"tenantlint not found ({args.tenantlint}); pass --tenantlint PATH")
    rules = args.rules.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        root = (args.keep or Path(tmp)).resolve()
        paths = generate_kinds(root, args.files, args.seed, ("py_",), "py_util")
        print(f"project: {len(paths)} Python files; tenantlint: {tenantlint}; semgrep: {semgrep}")
        for jobs in (1, 2):
            t_wall, t_files, t_found = run_tenantlint(tenantlint, root, jobs, args.repeat)
            s_wall, s_files, s_found = run_semgrep(semgrep, rules, root, jobs, args.repeat)
            for name, wall, files, found in (
                ("tenantlint check", t_wall, t_files, t_found),
                ("semgrep scan", s_wall, s_files, s_found),
            ):
                print(f"{name} --jobs {jobs}: {files} files, {wall:.2f} s wall, "
                      f"{files / wall:.0f} files/s, {found} findings")  # fmt: skip
            print(f"tenantlint/semgrep wall --jobs {jobs}: {t_wall / s_wall:.2f}")


if __name__ == "__main__":
    main()
