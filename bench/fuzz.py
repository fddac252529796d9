"""Fuzz every front end through the real CLI: crashes, hangs, and broken files passed over silently.

    python bench/fuzz.py [--seed 1] [--files-per-frontend 200] [--batch-size 100] [--timeout 30]
                         [--frontends prisma,sql,typescript,python] [--jobs 1] [--parallel N]
                         [--typescript-module DIR] [--keep DIR] [--json FILE]
    python bench/fuzz.py --seed 1 --reproduce python:123 --keep /tmp/repro   # one mutant again

The seeds are the tracked files of `fixtures/*/` (Prisma schemas, SQL migrations, seeds and
tests, TypeScript, Python with Alembic and Django migrations). Each mutant is one seed with one
to five mutations drawn from a seeded RNG: byte-level (delete, duplicate, swap or move a span;
insert NUL, quotes, `$$`, `/*`, brackets, a BOM, odd Unicode, random or non-UTF-8 bytes; deep
nesting; LF/CRLF/CR changes; truncation, even inside a UTF-8 sequence; a very long line) and
token-level (delete, duplicate, swap or replace a token; splice in a span of another seed of the
same language). A mutant depends only on `--seed`, its front end and its index, never on the
batch size, so `--reproduce FRONTEND:INDEX` rebuilds it alone.

Mutants are written in batches into temporary projects: the seed's fixture (its tenantlint.toml
and every other file, unchanged, so the tenancy map and the rules have something to join the
mutants with) plus each mutant at `fzNNNNN/<its path in the fixture>`, so that path-based
decisions (migrations, route files, tests) are the seed's. Each batch is one run of the installed
`tenantlint check --no-cache --format json` in a fresh process, killed after `--timeout` seconds.

Per front end it counts:

- crashes: an exit code other than 0/1, a traceback or "internal error" on stderr, output that
  is not the JSON report, or a TL001 that says "internal error" (a front end raised). A crashed
  or hung batch is split in halves until the file(s) at fault are found, and each is run alone
  with `--verbose` for the traceback;
- hangs: batches still running after `--timeout` (default 30 s);
- silently dropped: a mutant that the language's own parser rejects, yet has no TL001, no other
  finding, no suppressed finding, no unverified or skipped entry and no entity in the audit report
  (`tenantlint report --no-cache --format json`, asked only about such mutants) and no facts at
  all from the front end (`tenantlint.collect.parse_bytes`, what the CLI's workers run).

The language's own parser ("oracle"), run in this process: Python `ast.parse` (what no Python
accepts; `compile()` errors that `ast.parse` does not raise, such as `return` outside a function,
are counted apart: they are the compiler's, not the grammar's); SQL `pglast.parse_sql` of the whole
file, and a NUL anywhere (PostgreSQL rejects 0x00 in query text; pglast stops reading at it);
TypeScript the TypeScript compiler's parser (`ts.createSourceFile` diagnostics, through `node`)
when `--typescript-module` names a directory holding the `typescript` package (`npm install
typescript` anywhere), otherwise tree-sitter's `has_error` (what tenantlint reads too), with no
verdict for mutants of a seed that already has error nodes (valid TypeScript tree-sitter cannot
read, such as `<in out T>`: tenantlint excuses those grammar gaps); Prisma
has no parser outside tenantlint here, so an unbalanced `{`/`}` outside strings and comments is
the only rejection it recognises. A file that is not UTF-8 is rejected for every language (it
cannot be read as text).

It also counts, for information, mutants the oracle rejects that tenantlint analysed without a
TL001 (it reported or extracted something), and mutants the oracle accepts that got a TL001.
Exit 1 when there is a crash, a hang or a silent drop.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
FRONTENDS = ("prisma", "sql", "typescript", "python")
_SUFFIXES = {".prisma": "prisma", ".sql": "sql", ".py": "python", ".ts": "typescript"}
_SUFFIXES |= dict.fromkeys((".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts"), "typescript")
_MAX_BYTES = 3_000_000  # stop stacking mutations on a file past this size


# --- seeds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    fixture: str  # the fixture project's directory name
    rel: str  # path inside it
    data: bytes
    frontend: str


def fixture_files(fixture: Path) -> list[str]:
    """The fixture's tracked files (no caches or editor litter), else every file under it."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--", "."],
            cwd=fixture,
            capture_output=True,
            check=True,
        ).stdout.decode()
        rels = [r for r in out.split("\0") if r]
    except (OSError, subprocess.CalledProcessError):
        rels = []
    if not rels:
        rels = [
            p.relative_to(fixture).as_posix()
            for p in fixture.rglob("*")
            if p.is_file() and ".tenantlint_cache" not in p.parts
        ]
    return sorted(rels)


def load_seeds(fixtures: Path = FIXTURES) -> dict[str, list[Seed]]:
    """Every front end's seed files, from the fixture projects that have a tenantlint.toml."""
    seeds: dict[str, list[Seed]] = {f: [] for f in FRONTENDS}
    for fixture in sorted(p for p in fixtures.iterdir() if (p / "tenantlint.toml").is_file()):
        for rel in fixture_files(fixture):
            frontend = _SUFFIXES.get(Path(rel).suffix.lower())
            if frontend is not None and not rel.endswith(".d.ts"):
                data = (fixture / rel).read_bytes()
                seeds[frontend].append(Seed(fixture.name, rel, data, frontend))
    return seeds


# --- mutations -------------------------------------------------------------------------------

_TOKEN = re.compile(
    rb"[A-Za-z_$][A-Za-z0-9_$]*|\d+(?:\.\d+)?|\s+|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|.",
    re.DOTALL,
)
_SPECIAL = [
    b"\0", b"'", b'"', b"`", b"$$", b"$body$", b"/*", b"*/", b"--", b"#", b"//", b"\\",
    b"(", b")", b"[", b"]", b"{", b"}", b"<", b">", b"${", b"}`", b";", b",", b":", b"@", b"@@",
    b'"""', b"'''", b"\r", b"\n", b"\r\n", b"\t", b"\f", b"\v", b"<div>", b"</", b"=>", b"?.",
    b"\xef\xbb\xbf", "\u2028".encode(), "\u00e9".encode(), "\U0001d518".encode(),
    "\u202e".encode(), "\u200b".encode(), "e\u0301".encode(), b"\x1b[31m", b"\x7f",
]  # fmt: skip
_NOT_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]
_OPENERS = [b"(", b"[", b"{", b"<", b"f(", b"[[", b"{a:", b"(1+", b"`${", b'"', b"'", b"/*"]
_CLOSERS = {b"(": b")", b"[": b"]", b"{": b"}", b"<": b">", b"f(": b")", b"[[": b"]]"}
_CLOSERS |= {b"{a:": b"}", b"(1+": b"1)", b"`${": b"}`", b'"': b'"', b"'": b"'", b"/*": b"*/"}
_KEYWORDS = {
    "prisma": [b"model", b"enum", b"view", b"type", b"datasource", b"generator", b"@@map",
               b"@@unique", b"@relation", b"@id", b"@default", b"String?", b"Int[]"],
    "sql": [b"CREATE", b"TABLE", b"POLICY", b"ALTER", b"ENABLE ROW LEVEL SECURITY", b"DO",
            b"BEGIN", b"END", b"$$", b"FUNCTION", b"LANGUAGE plpgsql", b"E'\\", b"COPY", b"\\."],
    "typescript": [b"async", b"await", b"function", b"=>", b"class", b"<T>", b"as", b"type",
                   b"interface", b"export", b"import", b"yield", b"#priv", b"@dec", b"enum"],
    "python": [b"async", b"await", b"def", b"class", b"lambda", b"yield", b"return", b"match",
               b"case", b"type", b"global", b"nonlocal", b"f'{", b"t'", b"except*", b"\\\n"],
}  # fmt: skip


def _span(rng: random.Random, n: int) -> tuple[int, int]:
    """A random [start, end) within n, usually short."""
    start = rng.randrange(n + 1)
    length = min(n - start, int(rng.expovariate(1 / 24)) if rng.random() < 0.9 else n)
    return start, start + length


def _tokens(data: bytes) -> list[bytes]:
    return _TOKEN.findall(data)


class Mutator:
    """The mutations of one front end; `splice` draws on the other seeds of that front end."""

    def __init__(self, frontend: str, corpus: list[bytes]) -> None:
        self.frontend = frontend
        self.corpus = corpus
        self.ops: list[tuple[str, float, Callable[[random.Random, bytes], bytes]]] = [
            ("delete-span", 3, self.delete_span),
            ("duplicate-span", 2, self.duplicate_span),
            ("swap-spans", 2, self.swap_spans),
            ("move-span", 1, self.move_span),
            ("insert-special", 4, self.insert_special),
            ("insert-random-bytes", 1, self.insert_random),
            ("insert-not-utf8", 0.5, self.insert_not_utf8),
            ("deep-nesting", 1, self.deep_nesting),
            ("line-endings", 1.5, self.line_endings),
            ("truncate", 1.5, self.truncate),
            ("long-line", 0.7, self.long_line),
            ("token-delete", 3, self.token_delete),
            ("token-duplicate", 2, self.token_duplicate),
            ("token-swap", 2, self.token_swap),
            ("token-replace", 2, self.token_replace),
            ("insert-keyword", 1.5, self.insert_keyword),
            ("splice", 1.5, self.splice),
            ("reindent", 1, self.reindent),
        ]

    def mutate(self, rng: random.Random, data: bytes) -> tuple[bytes, list[str]]:
        names = [n for n, _, _ in self.ops]
        weights = [w for _, w, _ in self.ops]
        funcs = {n: f for n, _, f in self.ops}
        applied: list[str] = []
        for _ in range(1 + min(4, int(rng.expovariate(1.2)))):
            if len(data) > _MAX_BYTES:
                break
            name = rng.choices(names, weights)[0]
            data = funcs[name](rng, data)
            applied.append(name)
        return data, applied

    # byte level
    def delete_span(self, rng: random.Random, data: bytes) -> bytes:
        a, b = _span(rng, len(data))
        return data[:a] + data[b:]

    def duplicate_span(self, rng: random.Random, data: bytes) -> bytes:
        a, b = _span(rng, len(data))
        return data[:b] + data[a:b] * rng.choice((1, 1, 2, 10)) + data[b:]

    def swap_spans(self, rng: random.Random, data: bytes) -> bytes:
        cuts = sorted(rng.randrange(len(data) + 1) for _ in range(4))
        a, b, c, d = cuts
        return data[:a] + data[c:d] + data[b:c] + data[a:b] + data[d:]

    def move_span(self, rng: random.Random, data: bytes) -> bytes:
        a, b = _span(rng, len(data))
        rest = data[:a] + data[b:]
        at = rng.randrange(len(rest) + 1)
        return rest[:at] + data[a:b] + rest[at:]

    def _insert(self, rng: random.Random, data: bytes, piece: bytes) -> bytes:
        at = rng.randrange(len(data) + 1)
        return data[:at] + piece + data[at:]

    def insert_special(self, rng: random.Random, data: bytes) -> bytes:
        piece = b"".join(rng.choice(_SPECIAL) for _ in range(rng.choice((1, 1, 1, 2, 3))))
        return self._insert(rng, data, piece)

    def insert_random(self, rng: random.Random, data: bytes) -> bytes:
        return self._insert(rng, data, rng.randbytes(rng.randint(1, 16)))

    def insert_not_utf8(self, rng: random.Random, data: bytes) -> bytes:
        return self._insert(rng, data, rng.choice(_NOT_UTF8))

    def deep_nesting(self, rng: random.Random, data: bytes) -> bytes:
        opener = rng.choice(_OPENERS)
        depth = rng.choice((50, 120, 300, 1000, 5000, 30000))
        closed = rng.random() < 0.6
        piece = opener * depth + (b"1" + _CLOSERS[opener] * depth if closed else b"")
        return self._insert(rng, data, piece)

    def line_endings(self, rng: random.Random, data: bytes) -> bytes:
        lines = re.split(rb"\r\n|\r|\n", data)
        style = rng.choice((b"\r\n", b"\r", b"\n", b"mixed"))
        if style != b"mixed":
            return style.join(lines)
        ends = (b"\r\n", b"\r", b"\n")
        out = [line + rng.choice(ends) for line in lines[:-1]]
        return b"".join(out) + lines[-1]

    def truncate(self, rng: random.Random, data: bytes) -> bytes:
        return data[: rng.randrange(len(data) + 1)]

    def long_line(self, rng: random.Random, data: bytes) -> bytes:
        unit = rng.choice((b"a", b"x + ", b"'s', ", b"1,", b"(", b"-- c", b"/", b"\\", b" "))
        piece = unit * rng.choice((5_000, 50_000, 300_000))
        if rng.random() < 0.5:  # a line of its own
            starts = [m.end() for m in re.finditer(rb"\n", data)] or [0]
            at = rng.choice(starts)
            return data[:at] + piece + b"\n" + data[at:]
        return self._insert(rng, data, piece)

    def reindent(self, rng: random.Random, data: bytes) -> bytes:
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        body = lines[i].lstrip(b" \t")
        lines[i] = rng.choice((b"", b" ", b"\t", b"    ", b"        ", b" \t ")) + body
        return b"\n".join(lines)

    # token level
    def token_delete(self, rng: random.Random, data: bytes) -> bytes:
        toks = _tokens(data)
        if not toks:
            return data
        i = rng.randrange(len(toks))
        return b"".join(toks[:i] + toks[i + rng.choice((1, 1, 2, 5)) :])

    def token_duplicate(self, rng: random.Random, data: bytes) -> bytes:
        toks = _tokens(data)
        if not toks:
            return data
        i = rng.randrange(len(toks))
        return b"".join(toks[: i + 1] + [toks[i]] * rng.choice((1, 1, 3)) + toks[i + 1 :])

    def token_swap(self, rng: random.Random, data: bytes) -> bytes:
        toks = _tokens(data)
        if len(toks) < 2:
            return data
        i, j = rng.randrange(len(toks)), rng.randrange(len(toks))
        toks[i], toks[j] = toks[j], toks[i]
        return b"".join(toks)

    def token_replace(self, rng: random.Random, data: bytes) -> bytes:
        toks = _tokens(data)
        pool = _tokens(rng.choice(self.corpus))
        if not toks or not pool:
            return data
        toks[rng.randrange(len(toks))] = rng.choice(pool)
        return b"".join(toks)

    def insert_keyword(self, rng: random.Random, data: bytes) -> bytes:
        word = rng.choice(_KEYWORDS[self.frontend])
        return self._insert(rng, data, rng.choice((b" ", b"", b"\n")) + word + b" ")

    def splice(self, rng: random.Random, data: bytes) -> bytes:
        other = rng.choice(self.corpus)
        a, b = _span(rng, len(other))
        return self._insert(rng, data, other[a : b + rng.choice((0, 40, 400))])


@dataclass
class Mutant:
    frontend: str
    index: int
    seed: Seed
    rel: str  # path in the batch project
    data: bytes
    mutations: list[str]
    rejected: str | None = None  # why the oracle rejects it; None: accepted
    compile_only: str | None = None  # Python: rejected by compile() alone
    oracle_failed: str | None = None  # the oracle itself failed: no verdict
    outcome: str = ""  # tl001 | reported | facts | silent | accepted | crash | hang


def make_mutant(
    seed: int, frontend: str, index: int, seeds: list[Seed], mutator: Mutator
) -> Mutant:
    """Mutant `index` of a front end: a function of (seed, front end, index) alone."""
    rng = random.Random(f"{seed}/{frontend}/{index}")
    base = rng.choice(seeds)
    data, applied = mutator.mutate(rng, base.data)
    rel = base.rel
    if frontend == "typescript" and rel.endswith(".ts") and rng.random() < 0.25:
        rel = rel[:-3] + ".tsx"  # the TSX grammar too (the fixtures hold no .tsx)
    return Mutant(frontend, index, base, f"fz{index:05d}/{rel}", data, applied)


# --- the language's own parser ---------------------------------------------------------------

_TSC = r"""
const ts = require(process.argv[1]);
const fs = require("fs");
const out = {};
for (const f of JSON.parse(fs.readFileSync(0, "utf8"))) {
  const kind = /\.tsx$/.test(f) ? ts.ScriptKind.TSX : /\.jsx$/.test(f) ? ts.ScriptKind.JSX
    : /\.[cm]?js$/.test(f) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  try {
    const sf = ts.createSourceFile(f, fs.readFileSync(f, "utf8"), ts.ScriptTarget.Latest, false, kind);
    const d = sf.parseDiagnostics;
    out[f] = d.length ? ts.flattenDiagnosticMessageText(d[0].messageText, "\n") : null;
  } catch (e) {  // the parser itself fails (its stack, on deep nesting): no verdict
    out[f] = {failed: String(e && e.message || e)};
  }
}
process.stdout.write(JSON.stringify(out));
"""


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _python_verdict(text: str) -> tuple[str | None, str | None]:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        return f"ast.parse: {type(exc).__name__}: {exc}", None
    except (RecursionError, MemoryError) as exc:
        return f"ast.parse: {type(exc).__name__}", None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the compiler's SyntaxWarnings: not a verdict
            compile(text, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return None, f"compile: {exc}"
    except (RecursionError, MemoryError) as exc:
        return None, f"compile: {type(exc).__name__}"
    return None, None


def _sql_verdict(text: str) -> str | None:
    import pglast

    if "\0" in text:
        return "NUL byte (PostgreSQL rejects 0x00 in query text)"
    try:
        pglast.parse_sql(text)
    except pglast.parser.ParseError as exc:
        return f"pglast: {exc}"
    return None


def _prisma_verdict(text: str) -> str | None:
    """Unbalanced braces outside strings and `//` comments: Prisma's grammar rejects those."""
    depth = 0
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        code = re.sub(r'"(?:[^"\\]|\\.)*"?|//.*', "", line)
        for ch in code:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if depth < 0:
                return f"unbalanced `}}` on line {number}"
    return f"{depth} unclosed `{{`" if depth else None


def _tree_sitter_verdict(rel: str, data: bytes) -> str | None:
    from tenantlint.frontends.typescript.grammar import grammar, parser

    tree = parser(grammar(rel)).parse(data)
    return "tree-sitter: error node" if tree.root_node.has_error else None


def judge(mutants: list[Mutant], root: Path, typescript_module: Path | None) -> None:
    """Set each mutant's oracle verdict (`rejected`, `compile_only`)."""
    tsc: list[Mutant] = []
    for m in mutants:
        text = _decode(m.data)
        if text is None:
            m.rejected = "not UTF-8"
        elif m.frontend == "python":
            m.rejected, m.compile_only = _python_verdict(text)
        elif m.frontend == "sql":
            m.rejected = _sql_verdict(text)
        elif m.frontend == "prisma":
            m.rejected = _prisma_verdict(text)
        elif typescript_module is not None:
            tsc.append(m)
        elif _tree_sitter_verdict(m.seed.rel, m.seed.data) is not None:
            # valid TypeScript tree-sitter cannot read (`<in out T>` …): no verdict from it
            m.oracle_failed = "tree-sitter: the seed itself has error nodes (a grammar gap)"
        else:
            m.rejected = _tree_sitter_verdict(m.rel, text.encode())
    if tsc and typescript_module is not None:
        files = [str(root / m.rel) for m in tsc]
        done = subprocess.run(
            ["node", "-e", _TSC, str(typescript_module)],
            input=json.dumps(files),
            capture_output=True,
            text=True,
            check=True,
        )
        verdicts = json.loads(done.stdout)
        for m, f in zip(tsc, files, strict=True):
            if isinstance(verdicts[f], dict):
                m.oracle_failed = f"tsc: {verdicts[f]['failed']}"
            elif verdicts[f]:
                m.rejected = f"tsc: {verdicts[f]}"


# --- running the CLI -------------------------------------------------------------------------


@dataclass
class Run:
    code: int | None  # None: killed at the timeout
    wall: float
    stdout: str
    stderr: str

    @property
    def hung(self) -> bool:
        return self.code is None

    def crash(self) -> str | None:
        """Why this `check` run counts as a crash, or None."""
        if self.code is None:
            return None
        if self.code not in (0, 1):
            return f"exit {self.code}: {self.stderr.strip()[-400:]}"
        if "Traceback" in self.stderr or "internal error" in self.stderr:
            return f"stderr: {self.stderr.strip()[-400:]}"
        try:
            json.loads(self.stdout)
        except ValueError:
            return "stdout is not the JSON report"
        return None


def tenantlint_exe() -> str:
    exe = Path(sys.executable).parent / "tenantlint"
    return str(exe) if exe.exists() else shutil.which("tenantlint") or "tenantlint"


def run_cli(args: list[str], cwd: Path, timeout: float) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [tenantlint_exe(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
    text = (out or b"").decode("utf-8", "replace")
    return Run(code, time.perf_counter() - start, text, (err or b"").decode("utf-8", "replace"))


def write_project(dest: Path, fixture: str, mutants: Iterable[Mutant]) -> None:
    """The fixture, unchanged, plus the mutants at their `fzNNNNN/` paths."""
    src = FIXTURES / fixture
    for rel in fixture_files(src):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dest / rel)
    for m in mutants:
        (dest / m.rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / m.rel).write_bytes(m.data)


def check_args(jobs: int, verbose: bool = False) -> list[str]:
    return ["check", "--no-cache", "--format", "json", "--jobs", str(jobs), "--quiet"] + (
        ["--verbose"] if verbose else []
    )


@dataclass
class Problem:
    frontend: str
    kind: str  # crash | hang | silent | crash-batch | hang-batch
    indexes: list[int]
    detail: str
    seed_paths: list[str] = field(default_factory=list)
    mutations: list[list[str]] = field(default_factory=list)
    traceback: str = ""


@dataclass
class Options:
    seed: int = 1
    files_per_frontend: int = 200
    batch_size: int = 100
    timeout: float = 30.0
    frontends: tuple[str, ...] = FRONTENDS
    jobs: int = 1
    parallel: int = 2
    typescript_module: Path | None = None
    keep: Path | None = None


@dataclass
class Tally:
    files: int = 0
    rejected: int = 0
    tl001: int = 0
    crashes: int = 0
    hangs: int = 0
    silent: int = 0
    analysed_rejected: int = 0  # oracle rejects, no TL001, but reported or facts
    tl001_accepted: int = 0  # oracle accepts, TL001
    compile_only: int = 0  # Python: compile() alone rejects
    batches: int = 0
    max_wall: float = 0.0
    walls: list[float] = field(default_factory=list)


class Fuzzer:
    def __init__(self, opts: Options, work: Path) -> None:
        self.opts = opts
        self.work = work
        self.seeds = load_seeds()
        self.mutators = {
            f: Mutator(f, [s.data for s in self.seeds[f]]) for f in FRONTENDS if self.seeds[f]
        }
        self.tallies: dict[str, Tally] = {f: Tally() for f in opts.frontends}
        self.problems: list[Problem] = []
        self.notes: Counter[tuple[str, str]] = Counter()  # (frontend, category) → count
        self.examples: dict[tuple[str, str], list[int]] = {}
        self._batch_no = 0
        # tree-sitter parsers and front ends are not thread-safe: in-process work one at a time
        self._lock = threading.RLock()

    def mutant(self, frontend: str, index: int) -> Mutant:
        return make_mutant(
            self.opts.seed, frontend, index, self.seeds[frontend], self.mutators[frontend]
        )

    def batches(self) -> list[tuple[str, str, list[Mutant]]]:
        """(front end, fixture, mutants) batches, in the order of the mutants' indexes."""
        out: list[tuple[str, str, list[Mutant]]] = []
        for frontend in self.opts.frontends:
            by_fixture: dict[str, list[Mutant]] = {}
            for i in range(self.opts.files_per_frontend):
                m = self.mutant(frontend, i)
                group = by_fixture.setdefault(m.seed.fixture, [])
                group.append(m)
                if len(group) >= self.opts.batch_size:
                    out.append((frontend, m.seed.fixture, by_fixture.pop(m.seed.fixture)))
            out.extend((frontend, fx, ms) for fx, ms in by_fixture.items())
        return out

    def new_dir(self, frontend: str) -> Path:
        with self._lock:
            self._batch_no += 1
            path = self.work / frontend / f"batch-{self._batch_no:04d}"
        path.mkdir(parents=True)
        return path

    def run(self) -> None:
        with ThreadPoolExecutor(max_workers=max(1, self.opts.parallel)) as pool:
            for _ in pool.map(lambda b: self.batch(*b), self.batches()):
                pass

    def batch(self, frontend: str, fixture: str, mutants: list[Mutant]) -> None:
        root = self.new_dir(frontend)
        write_project(root, fixture, mutants)
        with self._lock:
            judge(mutants, root, self.opts.typescript_module)
        self.check(frontend, fixture, root, mutants, first=True)

    def check(
        self, frontend: str, fixture: str, root: Path, mutants: list[Mutant], first: bool
    ) -> None:
        """One `check` run of a batch; a crashed or hung batch is run again without the
        mutants at fault, so that every other mutant is still classified."""
        run = run_cli(check_args(self.opts.jobs), root, self.opts.timeout)
        with self._lock:
            tally = self.tallies[frontend]
            if first:
                tally.batches += 1
                tally.walls.append(run.wall)
                if not run.hung:
                    tally.max_wall = max(tally.max_wall, run.wall)
                tally.files += len(mutants)
        if run.hung or run.crash():
            at_fault = self.isolate(frontend, fixture, mutants, run)
            faulty = {id(m) for m in at_fault}
            rest = [m for m in mutants if id(m) not in faulty]
            if self.opts.keep is None:
                shutil.rmtree(root, ignore_errors=True)
            if rest and len(rest) < len(mutants):
                again = self.new_dir(frontend)
                write_project(again, fixture, rest)
                self.check(frontend, fixture, again, rest, first=False)
            return
        with self._lock:
            suspects = self.classify(frontend, root, mutants, json.loads(run.stdout))
        if suspects:
            self.explain_suspects(frontend, root, suspects)
        if self.opts.keep is None:
            shutil.rmtree(root, ignore_errors=True)

    def classify(
        self, frontend: str, root: Path, mutants: list[Mutant], out: dict[str, object]
    ) -> list[Mutant]:
        """Count a batch's outcomes from its `check` JSON; the mutants left to explain."""
        tally = self.tallies[frontend]
        findings: dict[str, list[dict[str, str]]] = {}
        listed = out.get("findings", [])
        for f in listed if isinstance(listed, list) else []:
            findings.setdefault(f["path"], []).append(f)
        suspects: list[Mutant] = []
        for m in mutants:
            tl001 = [f for f in findings.get(m.rel, []) if f["rule"] == "TL001"]
            internal = [f for f in tl001 if "internal error" in f["message"]]
            if internal:
                m.outcome = "crash"
                tally.crashes += 1
                self.problems.append(self.problem(m, "crash", internal[0]["message"], root))
                continue
            tally.rejected += m.rejected is not None
            tally.compile_only += m.compile_only is not None
            if tl001:
                m.outcome = "tl001"
                tally.tl001 += 1
                if m.oracle_failed is not None:
                    self.note(m, "TL001, no oracle verdict: " + _category(tl001[0]["message"]))
                elif m.rejected is None and m.compile_only is None:
                    tally.tl001_accepted += 1
                    self.note(m, "TL001, oracle accepts: " + _category(tl001[0]["message"]))
            elif m.rejected is not None:
                suspects.append(m)
            else:
                m.outcome = "accepted"
                if m.oracle_failed is not None:
                    self.note(m, "no oracle verdict, no TL001: " + _category(m.oracle_failed))
                if m.compile_only is not None:
                    self.note(m, "compile() only, no TL001: " + _category(m.compile_only))
        return suspects

    def explain_suspects(self, frontend: str, root: Path, suspects: list[Mutant]) -> None:
        """Oracle-rejected mutants without a TL001: reported otherwise, facts only, or silent."""
        tally = self.tallies[frontend]
        report = root / ".fuzz-report.json"
        args = ["report", "--no-cache", "--format", "json", "--jobs", str(self.opts.jobs), "-q"]
        run = run_cli([*args, "-o", str(report)], root, self.opts.timeout * 2)
        if run.code != 0 or not report.is_file():
            why = "hang" if run.hung else f"exit {run.code}: {run.stderr.strip()[-400:]}"
            with self._lock:
                self.problems.append(
                    Problem(frontend, "crash-batch", [m.index for m in suspects], f"report: {why}")
                )
                tally.crashes += 1
            return
        with self._lock:
            self._explain(tally, root, suspects, json.loads(report.read_text(encoding="utf-8")))

    def _explain(
        self,
        tally: Tally,
        root: Path,
        suspects: list[Mutant],
        data: dict[str, Any],
    ) -> None:
        seen: set[str] = set()
        for item in data.get("findings", []) + data.get("suppressed", []):
            seen.add(item["finding"]["path"] if "finding" in item else item.get("path", ""))
        seen |= {u["path"] for u in data.get("unverified", [])}
        seen |= {e["path"] for e in data.get("entities", []) if e.get("path")}
        config = _config(root)
        for m in suspects:
            if m.rel in seen:
                m.outcome = "reported"
            elif _has_facts(m, config):
                m.outcome = "facts"
            else:
                m.outcome = "silent"
                tally.silent += 1
                assert m.rejected is not None
                self.problems.append(self.problem(m, "silent", m.rejected, root))
                continue
            tally.analysed_rejected += 1
            self.note(m, f"rejected, no TL001, {m.outcome}: " + _category(m.rejected or ""))

    def note(self, m: Mutant, category: str) -> None:
        key = (m.frontend, category)
        self.notes[key] += 1
        self.examples.setdefault(key, [])
        if len(self.examples[key]) < 5:
            self.examples[key].append(m.index)

    def problem(self, m: Mutant, kind: str, detail: str, root: Path) -> Problem:
        p = Problem(m.frontend, kind, [m.index], detail, [f"{m.seed.fixture}/{m.seed.rel}"])
        p.mutations = [m.mutations]
        if kind == "crash":
            p.traceback = self.traceback(m.frontend, m.seed.fixture, [m])
        return p

    def traceback(self, frontend: str, fixture: str, mutants: list[Mutant]) -> str:
        """The `--verbose` stderr of a run of these mutants alone."""
        root = self.new_dir(frontend)
        write_project(root, fixture, mutants)
        run = run_cli(check_args(1, verbose=True), root, self.opts.timeout)
        if self.opts.keep is None:
            shutil.rmtree(root, ignore_errors=True)
        return run.stderr.strip()[-4000:]

    def isolate(
        self, frontend: str, fixture: str, mutants: list[Mutant], first: Run
    ) -> list[Mutant]:
        """The mutants at fault in a crashed batch (found by halving it) or a hung one (each
        mutant run alone, biggest first: halving would wait out the timeout at every level)."""
        tally = self.tallies[frontend]
        kind = "hang" if first.hung else "crash"

        def fails(group: list[Mutant]) -> Run | None:
            root = self.new_dir(frontend)
            write_project(root, fixture, group)
            run = run_cli(check_args(self.opts.jobs), root, self.opts.timeout)
            if self.opts.keep is None:
                shutil.rmtree(root, ignore_errors=True)
            bad = run.hung if kind == "hang" else run.crash() is not None
            return run if bad else None

        culprits: list[tuple[list[Mutant], Run]] = []
        if kind == "hang":
            for m in sorted(mutants, key=lambda m: -len(m.data)):
                if (r := fails([m])) is not None:
                    culprits.append(([m], r))
            if not culprits:  # slow only together
                culprits.append((mutants, first))
        stack: list[tuple[list[Mutant], Run]] = [(mutants, first)] if kind == "crash" else []
        while stack:
            group, run = stack.pop()
            if len(group) == 1:
                culprits.append((group, run))
                continue
            half = len(group) // 2
            found = False
            for part in (group[:half], group[half:]):
                if (r := fails(part)) is not None:
                    stack.append((part, r))
                    found = True
            if not found:  # only together: the batch is the reproducer
                culprits.append((group, run))
        with self._lock:
            self._record_culprits(tally, kind, fixture, culprits)
        at_fault = [m for group, _ in culprits for m in group]
        for m in at_fault:
            m.outcome = kind
        return at_fault

    def _record_culprits(
        self, tally: Tally, kind: str, fixture: str, culprits: list[tuple[list[Mutant], Run]]
    ) -> None:
        frontend = culprits[0][0][0].frontend
        if kind == "hang":
            tally.hangs += 1
        for group, run in culprits:
            detail = f"over {self.opts.timeout:.0f} s" if kind == "hang" else run.crash() or ""
            p = Problem(frontend, kind if len(group) == 1 else f"{kind}-batch", [], detail)
            p.indexes = [m.index for m in group]
            p.seed_paths = [f"{m.seed.fixture}/{m.seed.rel}" for m in group]
            p.mutations = [m.mutations for m in group]
            if kind == "crash":
                tally.crashes += len(group) if len(group) == 1 else 1
                p.traceback = self.traceback(frontend, fixture, group)
            self.problems.append(p)

    # reporting
    def table(self) -> str:
        head = (
            "front end",
            "files",
            "rejected",
            "TL001",
            "crashes",
            f"hangs>{self.opts.timeout:.0f}s",
            "silent",
            "rej.analysed",
            "TL001/acc.",
            "compile-only",
            "batches",
            "max s (not hung)",
            "total s",
        )
        rows = [head]
        for f, t in self.tallies.items():
            rows.append(
                (
                    f,
                    str(t.files),
                    str(t.rejected),
                    str(t.tl001),
                    str(t.crashes),
                    str(t.hangs),
                    str(t.silent),
                    str(t.analysed_rejected),
                    str(t.tl001_accepted),
                    str(t.compile_only) if f == "python" else "-",
                    str(t.batches),
                    f"{t.max_wall:.1f}",
                    f"{sum(t.walls):.0f}",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        return "\n".join(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in rows
        )

    def summary(self) -> dict[str, object]:
        return {
            "seed": self.opts.seed,
            "files_per_frontend": self.opts.files_per_frontend,
            "typescript_oracle": "tsc" if self.opts.typescript_module else "tree-sitter",
            "tallies": {
                f: {k: v for k, v in vars(t).items() if k != "walls"}
                for f, t in self.tallies.items()
            },
            "problems": [vars(p) for p in self.problems],
            "notes": [
                {"frontend": f, "category": c, "count": n, "examples": self.examples[(f, c)]}
                for (f, c), n in sorted(self.notes.items())
            ],
        }

    def failed(self) -> bool:
        return any(t.crashes or t.hangs or t.silent for t in self.tallies.values())


def _category(message: str) -> str:
    """A message with its positions, names and numbers blanked, to group like with like."""
    text = re.sub(r"\d+", "N", message.split("\n", 1)[0])
    text = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"", "…", text)
    return text[:110]


def _config(root: Path):  # type: ignore[no-untyped-def]
    from tenantlint.config import load_config

    return load_config(root / "tenantlint.toml")


_EMPTY = frozenset({"path", "frontend", "comments", "migration", "migration_key", "extra"})


def _has_facts(m: Mutant, config: object) -> bool:
    """Whether the front end extracted anything at all (what the CLI's workers run)."""
    from tenantlint.collect import parse_bytes

    facts = parse_bytes(m.rel, m.data, config)  # type: ignore[arg-type]
    return any(getattr(facts, k) for k in type(facts).model_fields if k not in _EMPTY)


# --- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--files-per-frontend", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per batch (a hang)")
    ap.add_argument("--frontends", default=",".join(FRONTENDS))
    ap.add_argument("--jobs", type=int, default=1, help="tenantlint --jobs of each run")
    ap.add_argument("--parallel", type=int, default=os.cpu_count() or 1, help="batches at once")
    ap.add_argument(
        "--typescript-module", type=Path, help="a directory with the typescript package"
    )
    ap.add_argument("--keep", type=Path, help="write the batch projects here and keep them")
    ap.add_argument("--json", type=Path, help="write the summary and every problem as JSON")
    ap.add_argument("--reproduce", help="FRONTEND:INDEX: write that mutant's project to --keep")
    return ap.parse_args(argv)


def options(ns: argparse.Namespace) -> Options:
    frontends = tuple(f for f in ns.frontends.split(",") if f)
    unknown = set(frontends) - set(FRONTENDS)
    if unknown:
        sys.exit(f"unknown front end(s): {', '.join(sorted(unknown))}")
    module = ns.typescript_module
    if module is not None:
        module = module.resolve()
        if (module / "typescript").is_dir():
            module = module / "typescript"
        elif (module / "node_modules" / "typescript").is_dir():
            module = module / "node_modules" / "typescript"
    return Options(
        seed=ns.seed,
        files_per_frontend=ns.files_per_frontend,
        batch_size=ns.batch_size,
        timeout=ns.timeout,
        frontends=frontends,
        jobs=ns.jobs,
        parallel=ns.parallel,
        typescript_module=module,
        keep=ns.keep,
    )


def fuzz(opts: Options) -> Fuzzer:
    """Run the whole campaign; the fuzzer holds the tallies and problems."""
    if opts.keep is not None:
        opts.keep.mkdir(parents=True, exist_ok=True)
        fuzzer = Fuzzer(opts, Path(tempfile.mkdtemp(prefix="fuzz-", dir=opts.keep)))
        fuzzer.run()
        return fuzzer
    with tempfile.TemporaryDirectory(prefix="tenantlint-fuzz-") as tmp:
        fuzzer = Fuzzer(opts, Path(tmp))
        fuzzer.run()
    return fuzzer


def reproduce(opts: Options, spec: str) -> None:
    frontend, _, index = spec.partition(":")
    if opts.keep is None or frontend not in FRONTENDS or not index.isdigit():
        sys.exit("--reproduce FRONTEND:INDEX needs --keep DIR")
    fuzzer = Fuzzer(opts, opts.keep)
    m = fuzzer.mutant(frontend, int(index))
    opts.keep.mkdir(parents=True, exist_ok=True)
    write_project(opts.keep, m.seed.fixture, [m])
    judge([m], opts.keep, opts.typescript_module)
    print(f"{opts.keep / m.rel}: from {m.seed.fixture}/{m.seed.rel} by {', '.join(m.mutations)}")
    print(f"oracle: {m.rejected or 'accepted'}")
    print(f"run: cd {opts.keep} && tenantlint check --no-cache --verbose")


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)
    opts = options(ns)
    if ns.reproduce:
        reproduce(opts, ns.reproduce)
        return 0
    start = time.perf_counter()
    fuzzer = fuzz(opts)
    oracle = "tsc" if opts.typescript_module else "tree-sitter"
    print(
        f"seed {opts.seed}, {opts.files_per_frontend} files per front end, TypeScript oracle {oracle}, {time.perf_counter() - start:.0f} s"
    )
    print(fuzzer.table())
    for (frontend, category), n in sorted(fuzzer.notes.items()):
        examples = ", ".join(str(i) for i in fuzzer.examples[(frontend, category)])
        print(f"  note {frontend}: {n}x {category} (e.g. {examples})")
    silent: dict[tuple[str, str], list[Problem]] = {}
    for p in fuzzer.problems:
        if p.kind == "silent":
            silent.setdefault((p.frontend, p.seed_paths[0]), []).append(p)
            continue
        print(f"PROBLEM {p.frontend} {p.kind} mutants {p.indexes} from {p.seed_paths}: {p.detail}")
        print(
            f"  mutations {p.mutations}; reproduce: --seed {opts.seed} --reproduce {p.frontend}:{p.indexes[0]}"
        )
        if p.traceback:
            print("  " + p.traceback[-1500:].replace("\n", "\n  "))
    for (frontend, seed_path), group in sorted(silent.items()):
        examples = ", ".join(str(p.indexes[0]) for p in group[:8])
        print(
            f"SILENT {frontend}: {len(group)} mutants of {seed_path} (e.g. {examples}): {group[0].detail[:200]}"
        )
    if ns.json is not None:
        ns.json.write_text(json.dumps(fuzzer.summary(), indent=2), encoding="utf-8")
    return 1 if fuzzer.failed() else 0


if __name__ == "__main__":
    sys.exit(main())
