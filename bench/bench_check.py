"""Benchmark `tenantlint check` on a project: cold/warm full runs, a one-file pre-commit run, jobs.

    python bench/bench_check.py PROJECT [--repeat 3] [--jobs N]
    python bench/bench_check.py --generate 10000 [--repeat 3]   # a synthetic project first

Each figure is the best of `--repeat` runs of the installed `tenantlint` in a fresh process
(start-up included, as a user or pre-commit sees it). Peak memory is measured two ways: the
largest single process (`ru_maxrss` from wait4, which covers workers the run waited for) and the
whole process tree summed (sampled from /proc every 10 ms, Linux only).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUFFIXES = (".prisma", ".sql", ".py", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


@dataclass
class Measure:
    wall: float
    max_rss_mb: float  # the largest single process
    tree_mb: float  # the sum over the process tree, sampled
    code: int


def tenantlint_exe() -> str:
    exe = Path(sys.executable).parent / "tenantlint"
    return str(exe) if exe.exists() else shutil.which("tenantlint") or "tenantlint"


def _tree_rss_kb(root_pid: int) -> int:
    """Sum of VmRSS over root_pid and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                status = fh.read()
        except OSError:
            continue
        ppid = kb = 0
        for line in status.splitlines():
            if line.startswith("PPid:"):
                ppid = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                kb = int(line.split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = kb
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measure(args: list[str], cwd: Path) -> Measure:
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    if os.path.isdir("/proc"):
        sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{stderr}")
    return Measure(wall, usage.ru_maxrss / 1024, peak[0] / 1024, proc.returncode)


def best(args: list[str], cwd: Path, repeat: int, before: object = None) -> Measure:
    runs = []
    for _ in range(repeat):
        if callable(before):
            before()
        runs.append(measure(args, cwd))
    return min(runs, key=lambda m: m.wall)


def project_stats(root: Path) -> tuple[int, float]:
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [
            d for d in dirnames if d not in {".git", "node_modules", ".tenantlint_cache"}
        ]
        for name in filenames:
            if name.endswith(SUFFIXES):
                files += 1
                size += os.path.getsize(os.path.join(dirpath, name))
    return files, size / 1e6


def pick_one_file(root: Path) -> Path:
    """A route handler if there is one (what a pre-commit run typically sees), else any file."""
    for pattern in ("**/route.ts", "**/*.ts", "**/*.py", "**/*.prisma"):
        for path in sorted(root.glob(pattern)):
            if ".tenantlint_cache" not in path.parts and "node_modules" not in path.parts:
                return path
    raise SystemExit(f"{root}: no source file found")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("project", type=Path, nargs="?")
    ap.add_argument(
        "--generate", type=int, metavar="FILES", help="benchmark a generated project of this size"
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="workers of the default runs"
    )
    args = ap.parse_args()
    if args.generate:
        sys.path.insert(0, str(HERE))
        from generate import Generator

        root = Path(tempfile.mkdtemp(prefix="tenantlint-bench-")) / f"gen{args.generate}"
        Generator(root, args.generate, seed=1).run()
    elif args.project is not None:
        root = args.project.resolve()
    else:
        ap.error("give a PROJECT or --generate N")
    exe = tenantlint_exe()
    files, mb = project_stats(root)
    cache = root / ".tenantlint_cache"
    check = [exe, "check", "--quiet", "--format", "json", "--fail-on", "never"]

    def clear_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    print(f"project: {root.name}: {files} analysable files, {mb:.1f} MB; tenantlint: {exe}")
    rows: list[tuple[str, Measure, str]] = []
    cold = best([*check, f"--jobs={args.jobs}", "."], root, args.repeat, clear_cache)
    rows.append(
        (
            f"cold full check (--jobs {args.jobs}, cache written)",
            cold,
            f"{files / cold.wall:,.0f} files/s",
        )
    )
    warm = best([*check, f"--jobs={args.jobs}", "."], root, args.repeat)
    rows.append(("warm full check (nothing changed)", warm, f"{files / warm.wall:,.0f} files/s"))
    one = pick_one_file(root)
    rel = one.relative_to(root).as_posix()
    original = one.read_bytes()
    counter = [0]

    def change_one() -> None:
        counter[0] += 1
        one.write_bytes(original + f"\n// edit {counter[0]}\n".encode())

    try:
        edited = best([*check, rel], root, args.repeat, change_one)
        rows.append((f"one-file pre-commit run, file changed ({rel})", edited, ""))
    finally:
        one.write_bytes(original)
    unchanged = best([*check, rel], root, args.repeat)
    rows.append(("one-file pre-commit run, file unchanged", unchanged, ""))
    serial = best([*check, "--no-cache", "--jobs=1", "."], root, args.repeat)
    rows.append(("cold --jobs 1 (--no-cache)", serial, f"{files / serial.wall:,.0f} files/s"))
    parallel = best([*check, "--no-cache", "--jobs=2", "."], root, args.repeat)
    rows.append(
        ("cold --jobs 2 (--no-cache)", parallel, f"speed-up {serial.wall / parallel.wall:.2f}x")
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'run':<{width}}  {'wall s':>7}  {'max RSS MB':>10}  {'tree MB':>8}")
    for name, m, note in rows:
        print(f"{name:<{width}}  {m.wall:7.3f}  {m.max_rss_mb:10.0f}  {m.tree_mb:8.0f}  {note}")


if __name__ == "__main__":
    main()
