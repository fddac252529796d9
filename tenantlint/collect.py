"""Files → facts: run the right front end on each file, through the fact cache and worker processes.

Unreadable or unparsable files become TL001 facts; nothing here raises for a user's file.

The cache is one *pack* per cache key in `.tenantlint_cache/` at the root: a line per file holding
its stat (mtime, ctime, inode, size), the hash of the content its facts were made from and the
facts as JSON. The key covers the tenantlint version, the installed tenantlint code and
`Config.parsing_key()`, so a change to any of them starts a fresh pack. A file whose mtime, ctime,
inode and size are all unchanged is a hit without being read (an edit that restores the mtime,
`cp -p`, `rsync -t`, `touch -d`, still moves the ctime or the inode); any other file is read and
is a hit only if its content hash is the entry's. All hits are validated in a single pydantic-core
call with the cyclic GC paused, which is what makes a warm run cheap (bench/bench_check.py). The
file listing is cached beside it (`project_files`), revalidated by the stat of the directories
walked. Misses are parsed in worker processes (`--jobs`), which end with the run: an interrupted
run (SIGINT, SIGTERM) terminates them before it exits.

A file bigger than `max-file-size` is never read: its facts say it was skipped (an `Unverified`
of kind `skipped`, listed in the audit report and by `--verbose`). Paths are project paths
(`discovery.project_path`): printable, with undecodable bytes of a file name escaped.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import signal
import stat
import sys
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from tenantlint import __version__
from tenantlint.atomic import write_atomic
from tenantlint.config import Config, format_size
from tenantlint.discovery import discover, os_path
from tenantlint.facts import CONTEXT_FIELDS, FileFacts, Loc, ParseError, Unverified
from tenantlint.frontends import frontend_for, load_frontend

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

CACHE_DIR = ".tenantlint_cache"
# Below this many files to parse, worker start-up costs more than it saves. Measured on 2 cores
# (TS/Python files): 32 files 0.30 s serial vs 0.37 s with 2 workers; 64 files 0.58 vs 0.52.
POOL_THRESHOLD = 64
# A file modified this recently may change again within the filesystem's mtime granularity:
# record no stat for it, so the next run confirms it by content hash.
_RACY_NS = 2_000_000_000
SKIPPED = "skipped"  # the `Unverified.kind` of a file that was not analysed
_CACHEDIR_SIGNATURE = "8a477f597d28d172789f06886806bc55"  # bford.info/cachedir


def parse_bytes(rel: str, data: bytes, config: Config, verbose: bool = False) -> FileFacts:
    """Facts of one file's content."""
    name = frontend_for(rel) or "unknown"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failed(rel, name, f"not UTF-8 text (byte {exc.start})")
    try:
        return load_frontend(name).parse(rel, text, config)
    except RecursionError:
        return _failed(rel, name, "too deeply nested to analyse")
    except Exception as exc:  # a front-end bug must not stop the run or hide the file
        if verbose:
            traceback.print_exc()
        return _failed(
            rel, name, f"internal error while analysing this file: {type(exc).__name__}: {exc}"
        )


def _failed(rel: str, frontend: str, message: str) -> FileFacts:
    return FileFacts(
        path=rel,
        frontend=frontend,
        parse_errors=(ParseError(loc=Loc(path=rel, line=1), message=message),),
    )


def skipped_facts(rel: str, reason: str) -> FileFacts:
    """The facts of a file that was not analysed, saying why (reported, never silent)."""
    return FileFacts(
        path=rel,
        frontend=frontend_for(rel) or "unknown",
        unverified=(Unverified(loc=Loc(path=rel, line=1), kind=SKIPPED, reason=reason),),
    )


def _too_big(rel: str, size: int, limit: int) -> FileFacts:
    return skipped_facts(
        rel,
        f"over max-file-size ({format_size(size)} > {format_size(limit)}): not read",
    )


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def collect(
    root: Path,
    rels: list[str],
    config: Config,
    verbose: bool = False,
    *,
    jobs: int | None = None,
    use_cache: bool = True,
    progress: bool = False,
    context_only: Callable[[str], bool] | None = None,
) -> dict[str, FileFacts]:
    """Facts of every file in `rels` (in that order), from the cache where the file is unchanged.

    For cached files that `context_only` selects, only the CONTEXT_FIELDS are loaded, and files
    without any are left out: a run that reports on a few files needs no more of the others
    (loading them all is the costly part of a pre-commit run)."""
    pack = _Pack(root / CACHE_DIR, _cache_key(config)) if use_cache else None
    # Reporting on a few files: the others' context from the small pack, the few re-parsed,
    # nothing written (the full pack is neither read nor rewritten).
    partial = context_only is not None
    with _collector_paused():
        cached = pack.load(context_only=partial) if pack else {}
        entries: dict[str, _Entry] = {}
        base = str(root)
        limit = config.max_file_size
        for rel in rels:
            if context_only is not None and not context_only(rel):
                continue
            if rel in cached and (entry := _revalidate(base, rel, cached[rel], limit)) is not None:
                entries[rel] = entry
        facts = _validate_entries(entries, context_only)
    dirty = entries.keys() != cached.keys() or any(e is not cached[r] for r, e in entries.items())
    misses = [rel for rel in rels if rel not in entries]
    tracker = _Progress(len(misses), progress)
    parsing = _parse_all(root, misses, config, verbose, jobs or default_jobs(), tracker)
    with contextlib.closing(parsing):  # an interruption here stops the workers at once
        for rel, entry, ff in parsing:
            entries[rel], facts[rel] = entry, ff
            dirty = True
    if pack is not None and dirty and not partial:
        pack.save(entries, rels)
    return {rel: facts[rel] for rel in rels if rel in facts}


def project_files(
    root: Path, include: tuple[str, ...], exclude: tuple[str, ...], use_cache: bool = True
) -> list[str]:
    """`discovery.discover`, answered from the cache when no directory walked last time (nor
    any `.gitignore` in them) has changed: adding, removing or renaming a file changes its
    directory's mtime and ctime. Saves walking and gitignore-matching the whole tree on warm
    runs."""
    if not use_cache:
        return discover(root, include, exclude)
    raw = "\n".join((__version__, repr(include), repr(exclude), _code_stamp()))
    path = (
        root / CACHE_DIR / f"files-{hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()}.json"
    )
    base = str(root)
    try:
        listing = json.loads(path.read_text(encoding="utf-8"))
        if all(_stamp(base, rel) == stamp for rel, stamp in listing["stamps"].items()):
            files: list[str] = listing["files"]
            return files
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    with contextlib.suppress(OSError):
        _prepare(path.parent)  # first, since creating it changes the root's mtime
    dirs: list[str] = []
    files = discover(root, include, exclude, dirs)
    stamps = {rel: _stamp(base, rel) for rel in dirs}
    stamps |= {
        ignore: _stamp(base, ignore)
        for rel in dirs
        if os.path.isfile(
            os.path.join(base, os_path(ignore := f"{rel}/.gitignore" if rel else ".gitignore"))
        )
    }
    if all(stamp[0] for stamp in stamps.values()):  # no directory changed a moment ago
        _write_atomic(path, json.dumps({"stamps": stamps, "files": files}))
    return files


def _stamp(base: str, rel: str) -> list[int]:
    """[mtime_ns, ctime_ns, inode, size] of a directory or file; mtime 0 when too recent to
    trust; [-1] when gone."""
    try:
        st = os.stat(os.path.join(base, os_path(rel)))
    except OSError:
        return [-1]
    return [_trusted_mtime(st), st.st_ctime_ns, st.st_ino, st.st_size]


# --- cache ---------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One file's line in the pack: the stat and the content hash of the bytes its facts were
    made from (the stat read before those bytes, so a later change always shows)."""

    mtime_ns: int  # 0: not trusted, confirm by hash
    ctime_ns: int
    ino: int
    size: int
    digest: str  # "": the content was not read (unreadable, or over max-file-size)
    context_json: str  # the CONTEXT_FIELDS alone ("" when none): what runs on other files need
    facts_json: str | None  # None: loaded for its context only


def _revalidate(root: str, rel: str, cached: _Entry, limit: int) -> _Entry | None:
    """The cached entry if the file is unchanged: the same mtime, ctime, inode and size, or else
    the same content hash."""
    path = os.path.join(root, os_path(rel))  # not pathlib: this runs for every file of a warm run
    try:
        st = os.stat(path)
        if cached.mtime_ns and (cached.mtime_ns, cached.ctime_ns, cached.ino, cached.size) == (
            st.st_mtime_ns,
            st.st_ctime_ns,
            st.st_ino,
            st.st_size,
        ):
            return cached
        if not cached.digest or st.st_size > limit:
            return None
        st, data = _read(path, limit)
    except OSError:
        return None
    if data is None or _digest(data) != cached.digest:
        return None
    return replace(
        cached,
        mtime_ns=_trusted_mtime(st),
        ctime_ns=st.st_ctime_ns,
        ino=st.st_ino,
        size=st.st_size,
    )


def _read(path: str, limit: int) -> tuple[os.stat_result, bytes | None]:
    """The stat and content of a regular file; None for the content when over `limit` (then it
    is not read). The stat is taken before the content: should the file change while it is
    read, the next run sees a different stat and checks the hash. Raises OSError."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        if st.st_size > limit:
            return st, None
        data = fh.read(limit + 1)
    return st, (None if len(data) > limit else data)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _trusted_mtime(st: os.stat_result) -> int:
    """The mtime, or 0 when it is too recent to be trusted (as git does; a later edit that
    restores the mtime moves the ctime, which the stat shortcut compares too)."""
    return 0 if time.time_ns() - st.st_mtime_ns < _RACY_NS else st.st_mtime_ns


@cache
def _facts_list() -> TypeAdapter[list[FileFacts]]:
    return TypeAdapter(list[FileFacts])


def _validate(jsons: list[str]) -> list[FileFacts]:
    """Many facts JSON documents in one pydantic-core call (far cheaper than one call each)."""
    if not jsons:
        return []
    return _facts_list().validate_json("[" + ",".join(jsons) + "]")


def _validate_entries(
    entries: dict[str, _Entry], context_only: Callable[[str], bool] | None
) -> dict[str, FileFacts]:
    """The facts of cached entries (only their context where `context_only` says so); an entry
    that does not validate (corrupt) is dropped."""
    heavy = {  # a file with no context at all is not needed by a run reporting on others
        r: e
        for r, e in entries.items()
        if e.context_json or context_only is None or not context_only(r)
    }

    def text(rel: str, e: _Entry) -> str:
        if context_only is not None and context_only(rel):
            return e.context_json
        return e.facts_json or ""  # no facts: fails validation, so the file is re-parsed

    try:
        jsons = [text(r, e) for r, e in heavy.items()]
        return dict(zip(heavy, _validate(jsons), strict=True))
    except ValidationError:
        pass
    out: dict[str, FileFacts] = {}
    for rel, entry in heavy.items():
        try:
            out[rel] = FileFacts.model_validate_json(text(rel, entry))
        except ValidationError:
            del entries[rel]
    return out


def _entry(st: os.stat_result | None, digest: str, facts: FileFacts) -> _Entry:
    """A cache entry; its context is "" when the file has none beyond its path. No stat: the
    file could not be read, and its entry is never a hit."""
    has_context = any(getattr(facts, k) for k in CONTEXT_FIELDS - {"path", "frontend"})
    return _Entry(
        _trusted_mtime(st) if st else 0,
        st.st_ctime_ns if st else 0,
        st.st_ino if st else 0,
        st.st_size if st else -1,
        digest,
        facts.model_dump_json(include=set(CONTEXT_FIELDS), exclude_defaults=True)
        if has_context
        else "",
        facts.model_dump_json(exclude_defaults=True),
    )


def _code_stamp() -> str:
    """Size and mtime of every installed tenantlint module: an edited front end invalidates."""
    base = Path(__file__).parent
    parts = []
    for path in sorted(base.rglob("*.py")):
        st = path.stat()
        parts.append(f"{path.relative_to(base)}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def _cache_key(config: Config) -> str:
    raw = "\n".join((__version__, sys.version, config.parsing_key(), _code_stamp()))
    return hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()


class _Pack:
    """The cache of one key, two files rewritten atomically (temp + rename): `facts-<key>.jsonl`
    with every file's facts, and `context-<key>.jsonl` with their context facts alone, which is
    all a run reporting on a few files reads."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.path = directory / f"facts-{key}.jsonl"
        self.context_path = directory / f"context-{key}.jsonl"

    def load(self, context_only: bool = False) -> dict[str, _Entry]:
        """The entries of the pack (without their facts when `context_only`); a missing,
        unreadable or corrupt pack (or line) is ignored."""
        contexts = _read_lines(self.context_path)
        if context_only:
            return {rel: replace(e, facts_json=None) for rel, e in contexts.items()}
        return {
            rel: replace(e, context_json=contexts[rel].context_json)
            for rel, e in _read_lines(self.path).items()
            if rel in contexts and contexts[rel].digest == e.digest
        }

    def save(self, entries: dict[str, _Entry], order: list[str]) -> None:
        """Write the pack; a cache that cannot be written is no error (read-only checkout)."""
        kept = [(rel, e) for rel in order if (e := entries.get(rel)) is not None]
        for path, part in ((self.context_path, "context_json"), (self.path, "facts_json")):
            lines = [
                json.dumps([rel, e.mtime_ns, e.ctime_ns, e.ino, e.size, e.digest])
                + "\t"
                + (getattr(e, part) or "")
                + "\n"
                for rel, e in kept
            ]
            _write_atomic(path, "".join(lines))

    def _prepare(self) -> None:
        """Create the directory, mark it for git and backup tools, drop packs unused for a week."""
        self.directory.mkdir(exist_ok=True)
        marker = self.directory / "CACHEDIR.TAG"
        if not marker.exists():
            marker.write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# tenantlint fact cache\n"
            )
            (self.directory / ".gitignore").write_text("*\n")
        week_ago = time.time() - 7 * 86400
        for old in [*self.directory.glob("facts-*.jsonl"), *self.directory.glob("context-*.jsonl")]:
            with contextlib.suppress(OSError):
                if old not in (self.path, self.context_path) and old.stat().st_mtime < week_ago:
                    old.unlink()


def _read_lines(path: Path) -> dict[str, _Entry]:
    """`meta<TAB>json` lines of one pack file; the JSON goes to both parts, the caller picks."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    entries: dict[str, _Entry] = {}
    for line in text.splitlines():
        meta, sep, payload = line.partition("\t")
        try:
            rel, mtime_ns, ctime_ns, ino, size, digest = json.loads(meta)
            if sep and isinstance(rel, str) and isinstance(digest, str):
                entries[rel] = _Entry(
                    int(mtime_ns), int(ctime_ns), int(ino), int(size), digest, payload, payload
                )
        except (ValueError, TypeError):
            continue
    return entries


def _write_atomic(path: Path, text: str) -> None:
    """Write a cache file via a temporary file and a rename, so concurrent runs never see half
    of one. A cache that cannot be written is no error (read-only checkout)."""
    with contextlib.suppress(OSError):
        _prepare(path.parent)
        write_atomic(path, text, private=True)


def _prepare(directory: Path) -> None:
    """Create the cache directory, mark it for git and backup tools, drop week-old files."""
    directory.mkdir(exist_ok=True)
    marker = directory / "CACHEDIR.TAG"
    if not marker.exists():
        marker.write_text(f"Signature: {_CACHEDIR_SIGNATURE}\n# tenantlint fact cache\n")
        (directory / ".gitignore").write_text("*\n")
        return
    week_ago = time.time() - 7 * 86400
    for old in (*directory.glob("facts-*.jsonl"), *directory.glob("files-*.json")):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < week_ago:
                old.unlink()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Creating a million small fact objects triggers the cyclic GC over and over (measured:
    3x the validation time on a 10,000-file project); facts hold no cycles, so pause it. They
    live as long as the run: freeze them, or the first collection after would scan them all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# --- parsing, in this process or in workers -------------------------------------------------


def _parse_all(
    root: Path, rels: list[str], config: Config, verbose: bool, jobs: int, progress: _Progress
) -> Generator[tuple[str, _Entry, FileFacts], None, None]:
    """Parse the files; in worker processes when there are enough to repay their start-up."""
    if jobs <= 1 or len(rels) < POOL_THRESHOLD:
        for rel in rels:
            yield (rel, *_parse_entry(root, rel, config, verbose))
            progress.step()
    else:
        chunks = _chunks(root, rels, jobs * 16)
        with _workers(jobs) as pool:
            n = len(chunks)
            results = pool.map(_parse_chunk, [root] * n, chunks, [config] * n, [verbose] * n)
            for chunk, entries in zip(chunks, results, strict=True):
                with _collector_paused():
                    facts = _validate([e.facts_json or "" for e in entries])
                yield from zip(chunk, entries, facts, strict=True)
                progress.step(len(chunk))
    progress.done()


@contextlib.contextmanager
def _workers(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool that never outlives the block: on any exit but a normal one (an error,
    SIGINT's KeyboardInterrupt, the CLI's SIGTERM exception, a generator closed early) its
    workers are terminated at once rather than left to finish the queue, or orphaned to keep
    the run's output pipes open."""
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=_mp_context(),
        initializer=_worker_init,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now: SIGTERM, then SIGKILL for any still alive after a second."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()
    deadline = time.monotonic() + 1.0
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)


def _worker_init(parent: int) -> None:
    """In each worker: leave SIGINT to the parent (it stops the pool), take SIGTERM's default
    action (the parent's handler would turn it into an exception the pool would report and
    survive), and on Linux die with the parent even if it is killed outright."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)


def _parse_entry(root: Path, rel: str, config: Config, verbose: bool) -> tuple[_Entry, FileFacts]:
    """Read, hash and parse one file; one over `max-file-size` is not read, but skipped."""
    limit = config.max_file_size
    try:
        st, data = _read(os.path.join(root, os_path(rel)), limit)
    except OSError as exc:
        ff = _failed(rel, frontend_for(rel) or "unknown", f"cannot read file: {exc.strerror}")
        return _entry(None, "", ff), ff
    if data is None:
        ff = _too_big(rel, max(st.st_size, limit + 1), limit)
        return _entry(st, "", ff), ff
    ff = parse_bytes(rel, data, config, verbose)
    return _entry(st, _digest(data), ff), ff


def _parse_chunk(root: Path, rels: list[str], config: Config, verbose: bool) -> list[_Entry]:
    """Worker side: entries with facts as JSON (the cache's form, cheaper to ship than models)."""
    return [_parse_entry(root, rel, config, verbose)[0] for rel in rels]


def _chunks(root: Path, rels: list[str], n: int) -> list[list[str]]:
    """About `n` chunks of similar total size, biggest files first so the last ones are small."""
    sizes = {}
    for rel in rels:
        try:
            sizes[rel] = max(os.stat(os.path.join(root, os_path(rel))).st_size, 1)
        except OSError:
            sizes[rel] = 1
    ordered = sorted(rels, key=lambda r: -sizes[r])
    target = max(1, sum(sizes.values()) // n)
    chunks: list[list[str]] = [[]]
    total = 0
    for rel in ordered:
        if total >= target:
            chunks.append([])
            total = 0
        chunks[-1].append(rel)
        total += sizes[rel]
    return chunks


def _mp_context() -> BaseContext:
    """`fork` where it exists: workers start in milliseconds with the parent's imports."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _Progress:
    """`analysed n/N files` on stderr, only on a terminal and only once a run passes a second."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.count = 0
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()
        self.shown = False
        self.last = 0.0

    def step(self, n: int = 1) -> None:
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start >= 1.0 and now - self.last >= 0.1:
            self.last = now
            self.shown = True
            sys.stderr.write(f"\rtenantlint: analysed {self.count}/{self.total} files")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
