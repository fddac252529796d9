"""What the per-language benchmarks share: a project of one language's files, and a timed CLI run."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from generate import MIX, Generator


def generate_kinds(
    out: Path, files: int, seed: int, prefixes: tuple[str, ...], filler: str
) -> list[Path]:
    """`files` generated files of the kinds whose names start with `prefixes`, in MIX's shares."""
    gen = Generator(out, files, seed)
    gen.write(".gitignore", "node_modules/\n.tenantlint_cache/\n")
    gen.write("tenantlint.toml", 'tenant-fields = ["tenantId", "tenant_id"]\n')
    if any(p.startswith("ts") for p in prefixes):
        gen.schema()
    kinds = {k: share for k, share in MIX.items() if k.startswith(prefixes)}
    total = sum(kinds.values())
    plan = [k for k, share in kinds.items() for _ in range(round(files * share / total))]
    plan += [filler] * (files - len(plan))
    paths = []
    for i, kind in enumerate(plan[:files]):
        rel, text = getattr(gen, kind)(i)
        gen.write(rel, text)
        paths.append(out / rel)
    return paths


def check_wall(root: Path, jobs: int, repeat: int) -> float:
    """Best wall time of a cold `tenantlint check` (a fresh process, no cache)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            ["tenantlint", "check", str(root), "--no-cache", "--jobs", str(jobs), "--quiet"],
            capture_output=True,
            text=True,
        )
        if done.returncode not in (0, 1):
            sys.exit(f"tenantlint check failed: {done.stderr.strip()}")
        best = min(best, time.perf_counter() - start)
    return best


def print_cli_walls(root: Path, files: int, repeat: int) -> None:
    for jobs in (1, 2):
        wall = check_wall(root, jobs, repeat)
        print(f"tenantlint check --jobs {jobs}: {wall:.2f} s wall, {files / wall:.0f} files/s")


def bench_args(
    doc: str | None,
    files: int = 5000,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """The per-language benchmarks' options: project size, seed, repetitions, where to keep it,
    and a benchmark's own (`extra`)."""
    ap = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if extra is not None:
        extra(ap)
    ap.add_argument("--files", type=int, default=files)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    return ap.parse_args()
