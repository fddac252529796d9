"""The per-file fact cache: hits, invalidation, corruption, concurrency, `--no-cache`."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support import write_project
from tenantlint import collect as collect_mod
from tenantlint.collect import CACHE_DIR, collect, project_files
from tenantlint.config import Config
from tenantlint.discovery import discover
from tenantlint.facts import FileFacts

MODEL = """model {name} {{
  id       String @id @default(cuid())
  tenantId String
  slug     String
  @@unique([slug])
}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {f"prisma/schema/m{i}.prisma": MODEL.format(name=f"Thing{i}") for i in range(5)}
    return write_project(tmp_path, files)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the front ends are asked to parse (in this process: jobs=1)."""
    calls: list[str] = []
    real = collect_mod.parse_bytes

    def spy(rel: str, data: bytes, config: Config, verbose: bool = False) -> FileFacts:
        calls.append(rel)
        return real(rel, data, config, verbose)

    monkeypatch.setattr(collect_mod, "parse_bytes", spy)
    return calls


def rels(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / "prisma").rglob("*.prisma"))


def run(root: Path, config: Config | None = None, **kw: object) -> dict[str, FileFacts]:
    return collect(root, rels(root), config or Config(), jobs=1, **kw)  # type: ignore[arg-type]


def age(path: Path, seconds: int = 60) -> None:
    """Make a file look modified long ago, so its stat is trusted (not racily clean)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def age_all(root: Path) -> None:
    for p in (root / "prisma").rglob("*.prisma"):
        age(p)


def test_warm_run_parses_nothing_and_gives_the_same_facts(project: Path, parsed: list[str]) -> None:
    age_all(project)
    cold = run(project)
    assert sorted(parsed) == rels(project)
    parsed.clear()
    warm = run(project)
    assert parsed == []
    assert warm == cold
    assert list(warm) == rels(project)
    assert any(f.entities for f in warm.values())


def test_changed_file_is_reparsed_alone(project: Path, parsed: list[str]) -> None:
    age_all(project)
    run(project)
    parsed.clear()
    target = project / "prisma/schema/m2.prisma"
    target.write_text(MODEL.format(name="Renamed"), encoding="utf-8")
    facts = run(project)
    assert parsed == ["prisma/schema/m2.prisma"]
    assert [e.name for e in facts["prisma/schema/m2.prisma"].entities] == ["Renamed"]


def test_touched_but_unchanged_file_is_a_hit_by_content_hash(
    project: Path, parsed: list[str]
) -> None:
    age_all(project)
    run(project)
    parsed.clear()
    os.utime(project / "prisma/schema/m1.prisma")  # new mtime, same bytes
    run(project)
    assert parsed == []


def test_recently_modified_file_is_confirmed_by_hash_not_stat(
    project: Path, parsed: list[str]
) -> None:
    run(project)  # files were just written: their mtimes are not trusted
    target = project / "prisma/schema/m3.prisma"
    st = target.stat()
    # same size, same mtime, different content: only the hash can tell
    target.write_text(MODEL.format(name="Thing9"), encoding="utf-8")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    parsed.clear()
    facts = run(project)
    assert parsed == ["prisma/schema/m3.prisma"]
    assert facts["prisma/schema/m3.prisma"].entities[0].name == "Thing9"


def test_parsing_config_change_invalidates(project: Path, parsed: list[str]) -> None:
    age_all(project)
    run(project)
    parsed.clear()
    run(project, Config(tenant_fields=("orgId",)))
    assert sorted(parsed) == rels(project)
    parsed.clear()
    run(project, Config(select=("TL1",)))  # rule selection does not affect parsing: first pack
    assert parsed == []


def test_no_cache_neither_reads_nor_writes(project: Path, parsed: list[str]) -> None:
    run(project, use_cache=False)
    assert not (project / CACHE_DIR).exists()
    age_all(project)
    run(project)
    parsed.clear()
    run(project, use_cache=False)
    assert sorted(parsed) == rels(project)


def test_cache_dir_is_marked_and_gitignored(project: Path) -> None:
    run(project)
    cache = project / CACHE_DIR
    assert (cache / ".gitignore").read_text() == "*\n"
    assert (
        (cache / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )
    assert len(list(cache.glob("facts-*.jsonl"))) == 1


@pytest.mark.parametrize(
    ("damage", "reparsed"),
    [
        (lambda text: text[: len(text) // 2], {2, 3}),  # truncated mid-line
        (lambda text: "garbage\n\x00\x01 not json\t{\n" + text, {0}),
        (lambda text: text.replace('"entities"', '"entitiez"', 1), {1}),  # facts do not validate
        (lambda text: text.replace('"prisma/schema/m1.prisma"', "17", 1), {1}),  # bad meta
        (lambda text: "", {5}),
    ],
    ids=["truncated", "garbage", "invalid-facts", "bad-meta", "empty"],
)
def test_corrupt_cache_is_ignored(
    project: Path, parsed: list[str], damage: Callable[[str], str], reparsed: set[int]
) -> None:
    age_all(project)
    cold = run(project)
    (pack,) = (project / CACHE_DIR).glob("facts-*.jsonl")
    pack.write_text(damage(pack.read_text()))
    parsed.clear()
    assert run(project) == cold
    assert len(parsed) in reparsed  # intact lines are still served


def test_binary_garbage_pack_is_ignored(project: Path) -> None:
    cold = run(project)
    (pack,) = (project / CACHE_DIR).glob("facts-*.jsonl")
    pack.write_bytes(os.urandom(4096))
    assert run(project) == cold


def test_unwritable_cache_is_not_an_error(project: Path) -> None:
    (project / CACHE_DIR).write_text("a file where the directory should be")
    cold = run(project)
    assert run(project) == cold


def test_deleted_file_leaves_the_pack(project: Path) -> None:
    age_all(project)
    run(project)
    (project / "prisma/schema/m0.prisma").unlink()
    facts = run(project)
    assert "prisma/schema/m0.prisma" not in facts
    (pack,) = (project / CACHE_DIR).glob("facts-*.jsonl")
    assert "m0.prisma" not in pack.read_text()


def _concurrent_run(root: str) -> int:
    return len(collect(Path(root), rels(Path(root)), Config(), jobs=1))


def test_concurrent_runs_leave_a_valid_pack(project: Path, parsed: list[str]) -> None:
    for i in range(5, 40):
        (project / f"prisma/schema/m{i}.prisma").write_text(MODEL.format(name=f"Thing{i}"))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        assert pool.map(_concurrent_run, [str(project)] * 8) == [40] * 8
    assert not list((project / CACHE_DIR).glob("*.tmp"))
    age_all(project)
    parsed.clear()
    facts = run(project)
    assert len(facts) == 40
    assert parsed == []  # the last writer's pack is complete and valid


# --- the cached file listing -----------------------------------------------------------------


def age_tree(root: Path) -> None:
    """Age every file and directory (the cache directory exists first: creating it is a change)."""
    (root / CACHE_DIR).mkdir(exist_ok=True)
    for p in [root, *root.rglob("*")]:
        if CACHE_DIR not in p.parts:
            age(p)


def listing(root: Path, monkeypatch: pytest.MonkeyPatch, walked: bool) -> list[str]:
    """project_files, asserting whether it walked the tree or answered from the cache."""
    calls: list[int] = []
    real = collect_mod.discover

    def spy(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(collect_mod, "discover", spy)
    files = project_files(root, (), ())
    assert bool(calls) == walked
    assert files == discover(root)  # always the truth
    return files


def test_listing_is_reused_until_a_directory_changes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    age_tree(project)
    listing(project, monkeypatch, walked=True)
    listing(project, monkeypatch, walked=False)
    (project / "prisma/schema/new.prisma").write_text(MODEL.format(name="New"))
    assert "prisma/schema/new.prisma" in listing(project, monkeypatch, walked=True)
    age_tree(project)
    listing(project, monkeypatch, walked=True)  # the previous listing was too recent to keep
    listing(project, monkeypatch, walked=False)
    (project / "prisma/schema/deep/er").mkdir(parents=True)
    (project / "prisma/schema/deep/er/x.prisma").write_text(MODEL.format(name="Deep"))
    assert "prisma/schema/deep/er/x.prisma" in listing(project, monkeypatch, walked=True)
    (project / "prisma/schema/m0.prisma").unlink()
    assert "prisma/schema/m0.prisma" not in listing(project, monkeypatch, walked=True)


def test_listing_follows_gitignore_edits_in_place(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ignore = project / "prisma/.gitignore"
    ignore.write_text("# nothing\n")
    age_tree(project)
    assert "prisma/schema/m1.prisma" in listing(project, monkeypatch, walked=True)
    listing(project, monkeypatch, walked=False)
    folder = (project / "prisma").stat()
    ignore.write_text("schema/m1.prisma\n")  # in place: the directory's mtime does not move
    os.utime(project / "prisma", ns=(folder.st_atime_ns, folder.st_mtime_ns))
    assert "prisma/schema/m1.prisma" not in listing(project, monkeypatch, walked=True)


def test_listing_without_cache_writes_nothing(project: Path) -> None:
    assert project_files(project, (), (), use_cache=False) == discover(project)
    assert not (project / CACHE_DIR).exists()


def test_corrupt_listing_is_ignored(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    age_tree(project)
    listing(project, monkeypatch, walked=True)
    for damaged in ("{", '{"stamps": 3, "files": []}', '{"stamps": {"": [1, 2]}}', "[]"):
        (cached,) = (project / CACHE_DIR).glob("files-*.json")
        cached.write_text(damaged)
        listing(project, monkeypatch, walked=True)


# --- a same-size edit that restores the mtime -------------------------------------------------


def _same_size_edit_in_place(target: Path, new: str) -> None:
    """`cp -p other target`: the bytes and the mtime of another file, written into this one."""
    other = target.with_name("other.txt")
    other.write_text(new, encoding="utf-8")
    os.utime(other, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns))
    shutil.copy2(other, target)
    other.unlink()


def _same_size_edit_by_rename(target: Path, new: str) -> None:
    """`rsync -t`: a new file with the old mtime, renamed over the old one (a new inode)."""
    st = target.stat()
    tmp = target.with_name(".target.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, target)


def _same_size_edit_then_touch_d(target: Path, new: str) -> None:
    """An editor's save, then `touch -d` back to the old date."""
    st = target.stat()
    target.write_text(new, encoding="utf-8")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize(
    "edit",
    [_same_size_edit_in_place, _same_size_edit_by_rename, _same_size_edit_then_touch_d],
    ids=["cp-p", "rsync-t", "touch-d"],
)
def test_same_size_edit_with_the_mtime_restored_is_reparsed(
    project: Path, parsed: list[str], edit: Callable[[Path, str], None]
) -> None:
    age_all(project)  # trusted stats: the shortcut applies
    run(project)
    target = project / "prisma/schema/m2.prisma"
    before = target.stat()
    time.sleep(0.05)  # past the file system's timestamp granularity, so the ctime can move
    edit(target, MODEL.format(name="Thing7"))  # same length as "Thing2"
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    parsed.clear()
    facts = run(project)
    assert parsed == ["prisma/schema/m2.prisma"]
    assert [e.name for e in facts["prisma/schema/m2.prisma"].entities] == ["Thing7"]
    parsed.clear()
    assert run(project) == facts and parsed == []  # and the new entry serves the next run


def test_entry_is_served_only_for_the_content_it_was_made_from(
    project: Path, parsed: list[str]
) -> None:
    """A well-formed entry whose stat no longer matches is checked against the file's content
    hash: the hash it carries is that of the bytes its facts came from."""
    age_all(project)
    run(project)
    (pack,) = (project / CACHE_DIR).glob("facts-*.jsonl")
    lines = pack.read_text().splitlines()
    meta = [json.loads(line.partition("\t")[0]) for line in lines]
    (m1,) = [i for i, m in enumerate(meta) if m[0] == "prisma/schema/m1.prisma"]
    (m2,) = [i for i, m in enumerate(meta) if m[0] == "prisma/schema/m2.prisma"]
    # m1's line with m2's facts and hash, and a stat that does not match m1 (its ctime)
    wrong = [*meta[m1][:2], meta[m1][2] - 1, *meta[m1][3:5], meta[m2][5]]
    lines[m1] = json.dumps(wrong) + "\t" + lines[m2].partition("\t")[2]
    pack.write_text("\n".join(lines) + "\n")
    parsed.clear()
    facts = run(project)
    assert parsed == ["prisma/schema/m1.prisma"]
    assert [e.name for e in facts["prisma/schema/m1.prisma"].entities] == ["Thing1"]


# --- max-file-size ---------------------------------------------------------------------------


def test_file_over_max_file_size_is_skipped_and_never_read(
    project: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = project / "prisma/schema/m4.prisma"
    big.write_text(MODEL.format(name="Thing4") + "// padding\n" * 50)
    config = Config(max_file_size=400)
    reads: list[str] = []
    real_read = collect_mod._read

    def spy(path: str, limit: int) -> Any:
        st, data = real_read(path, limit)
        reads.append(os.path.basename(path) if data is not None else "")
        return st, data

    monkeypatch.setattr(collect_mod, "_read", spy)
    age_all(project)
    for _ in ("cold", "warm"):
        facts = run(project, config)
        assert "prisma/schema/m4.prisma" not in parsed and "m4.prisma" not in reads
        skipped = facts["prisma/schema/m4.prisma"]
        assert skipped.entities == () and [u.kind for u in skipped.unverified] == ["skipped"]
        assert "over max-file-size (" in skipped.unverified[0].reason
    # under the limit again: analysed; over it again, by growing: skipped again
    big.write_text(MODEL.format(name="Thing4"))
    assert [e.name for e in run(project, config)["prisma/schema/m4.prisma"].entities] == ["Thing4"]
    big.write_text(MODEL.format(name="Thing4") + "// padding\n" * 50)
    assert run(project, config)["prisma/schema/m4.prisma"].unverified[0].kind == "skipped"
