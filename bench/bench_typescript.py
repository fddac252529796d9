"""Throughput of the TypeScript front end on a generated project of TypeScript files only.

    python bench/bench_typescript.py [--files 5000] [--seed 1] [--repeat 3] [--keep DIR]

Generates N files with `generate.py`'s TypeScript kinds (route handlers and services using Prisma,
React components and utilities with no data access, in its proportions) plus the Prisma schema,
then measures, best of `--repeat`:

- the front end alone, in process: files/s and MB/s (tree-sitter parse included);
- `tenantlint check --no-cache` in a fresh process with `--jobs 1` and `--jobs 2` (start-up,
  discovery, the tenancy map and every rule included): wall time and files/s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _shared import bench_args, generate_kinds, print_cli_walls  # noqa: E402

from tenantlint.config import load_config  # noqa: E402
from tenantlint.frontends.typescript import TypeScriptFrontEnd  # noqa: E402


def front_end(root: Path, paths: list[Path], repeat: int) -> tuple[float, float]:
    config = load_config(root / "tenantlint.toml")
    texts = [(p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")) for p in paths]
    frontend = TypeScriptFrontEnd()
    frontend.parse("warm/up.ts", "prisma.task.findMany({ where: { tenantId } });\n", config)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for rel, text in texts:
            frontend.parse(rel, text, config)
        best = min(best, time.perf_counter() - start)
    return best, sum(len(t.encode()) for _, t in texts) / 1e6


def main() -> None:
    args = bench_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        paths = generate_kinds(root, args.files, args.seed, ("ts_", "tsx_"), "ts_util")
        seconds, mb = front_end(root, paths, args.repeat)
        print(f"front end: {len(paths)} TS files, {mb:.1f} MB in {seconds:.2f} s: "
              f"{len(paths) / seconds:.0f} files/s, {mb / seconds:.1f} MB/s")  # fmt: skip
        print_cli_walls(root, len(paths), args.repeat)


if __name__ == "__main__":
    main()
