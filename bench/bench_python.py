"""Throughput of the Python front end on a generated project of Python files only.

    python bench/bench_python.py [--files 5000] [--seed 1] [--repeat 3] [--keep DIR]

Generates N files with `generate.py`'s Python kinds (SQLAlchemy models, FastAPI routers, Django
models and views, utilities with no data access, in its proportions), then measures, best of
`--repeat`:

- the front end alone, in process: files/s and MB/s (`ast` parse included), beside the bare
  stdlib `ast.parse` of the same files (the parser's share);
- `tenantlint check --no-cache` in a fresh process with `--jobs 1` and `--jobs 2` (start-up,
  discovery, the tenancy map and every rule included): wall time and files/s.
"""

from __future__ import annotations

import ast
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _shared import bench_args, generate_kinds, print_cli_walls  # noqa: E402

from tenantlint.config import load_config  # noqa: E402
from tenantlint.frontends.python import PythonFrontEnd  # noqa: E402


def best_of(repeat: int, texts: list[tuple[str, str]], fn: Callable[[str, str], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for rel, text in texts:
            fn(rel, text)
        best = min(best, time.perf_counter() - start)
    return best


def in_process(root: Path, paths: list[Path], repeat: int) -> None:
    config = load_config(root / "tenantlint.toml")
    texts = [(p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")) for p in paths]
    mb = sum(len(t.encode()) for _, t in texts) / 1e6
    frontend = PythonFrontEnd()
    runs: dict[str, Callable[[str, str], object]] = {
        "front end": lambda rel, text: frontend.parse(rel, text, config),
        "ast.parse alone": lambda rel, text: ast.parse(text),
    }
    for name, fn in runs.items():
        seconds = best_of(repeat, texts, fn)
        print(f"{name}: {len(texts)} files, {mb:.1f} MB in {seconds:.2f} s: "
              f"{len(texts) / seconds:.0f} files/s, {mb / seconds:.2f} MB/s")  # fmt: skip


def main() -> None:
    args = bench_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        paths = generate_kinds(root, args.files, args.seed, ("py_",), "py_util")
        in_process(root, paths, args.repeat)
        print_cli_walls(root, len(paths), args.repeat)


if __name__ == "__main__":
    main()
