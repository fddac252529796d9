"""`tenantlint init`: look at a project and write a starter configuration, saying why.

What it detects, from the facts the front ends extract (with the default configuration):
- the ORMs and SQL sources declaring tables;
- the tenant column: the most common tenant-like column (`*tenant*`, `*org*`, `*team*`,
  `*workspace*`, `*account*`, `*company*`) that looks like a foreign key, counted over tables;
- the tenant root: the model those columns reference (or the one named after the concept);
- RLS wrapper candidates: functions that write a session setting (`set_config`, `SET LOCAL`);
- resolver and scope-helper candidates: functions named after the concept (`getCurrentOrgId`,
  `resolve_tenant`, `orgFilter`), found by a name scan of the TypeScript and Python sources.

The table goes to the existing config file with `--force`, else appended to `pyproject.toml`,
else to a new `tenantlint.toml`. An existing configuration is never overwritten without `--force`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tenantlint.collect import collect
from tenantlint.config import NON_PRODUCT_CODE, Config, find_config_file, load_config
from tenantlint.discovery import discover, find_root, globspec
from tenantlint.errors import UserError
from tenantlint.facts import Entity, FieldFact, FileFacts
from tenantlint.tenancy import EntityInfo, TenancyMap

CONCEPTS = ("tenant", "organization", "org", "workspace", "team", "account", "company")
_CONCEPT = re.compile("|".join(CONCEPTS), re.IGNORECASE)
_FK_SUFFIX = re.compile(r"(?:_id|Id|ID|_uuid|Uuid)$")
_FUNC = re.compile(
    r"(?:function\s+|def\s+|(?:const|let)\s+)(\w*(?:"
    + "|".join(c.capitalize() for c in CONCEPTS)
    + "|"
    + "|".join(CONCEPTS)
    + r")\w*)"
)
_RESOLVER = re.compile(r"^(?:get|resolve|require|current|use|load|fetch)", re.IGNORECASE)
_HELPER = re.compile(r"(?:filter|scope|where)$", re.IGNORECASE)
_CODE_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".py")


@dataclass
class Detection:
    """What init found, and why (`notes`, printed for the user)."""

    orms: list[str] = field(default_factory=list)
    tenant_fields: list[str] = field(default_factory=list)
    tenant_models: list[str] = field(default_factory=list)
    rls_wrappers: list[str] = field(default_factory=list)
    tenant_resolvers: list[str] = field(default_factory=list)
    scope_helpers: list[str] = field(default_factory=list)
    global_candidates: list[str] = field(default_factory=list)  # suggested, never enabled
    cross_tenant_globs: list[str] = field(default_factory=list)  # non-product code it holds
    notes: list[str] = field(default_factory=list)


def detect(root: Path, files: dict[str, FileFacts]) -> Detection:
    found = Detection()
    entities = [e for f in files.values() for e in f.entities if not e.abstract]
    entities += [op.entity for f in files.values() for op in f.sql_ops if op.entity is not None]
    tables = Counter(e.source for e in {(e.source, e.table): e for e in entities}.values())
    queries = Counter(q.orm for f in files.values() for q in f.queries)
    found.orms = sorted(set(tables) | set(queries))
    found.notes.append(
        "sources: "
        + (
            ", ".join(f"{s} ({n} tables)" for s, n in sorted(tables.items()))
            or "no models or tables"
        )
        + (
            ", queries: " + ", ".join(f"{o} ({n})" for o, n in sorted(queries.items()))
            if queries
            else ""
        )
    )
    _detect_tenant(found, entities)
    _detect_global_candidates(found, files)
    _detect_wrappers(found, files)
    _detect_functions(found, root, list(files))
    _detect_cross_tenant_code(found, list(files))
    return found


def _concept(f: FieldFact) -> str | None:
    """`tenantId`, `tenant_id`, `org_uuid` → `tenant` / `org`; None for non-FK-like columns."""
    for name in (f.column, f.name):
        m = _FK_SUFFIX.search(name)
        if (m or f.relation is not None) and _CONCEPT.search(name):
            base = name[: m.start()] if m else name
            return base.lower().replace("_", "")
    return None


def _detect_tenant(found: Detection, entities: list[Entity]) -> None:
    on_tables: dict[str, set[str]] = {}
    spellings: dict[str, Counter[str]] = {}
    for ent in entities:
        for f in ent.fields:
            concept = _concept(f)
            if concept is None or (f.relation is not None and not _FK_SUFFIX.search(f.column)):
                continue
            on_tables.setdefault(concept, set()).add(ent.table)
            names = spellings.setdefault(concept, Counter())
            names[f.column] += 1
            if f.relation is None:
                names[f.name] += 1
    per_concept = Counter({c: len(t) for c, t in on_tables.items()})
    if not per_concept:
        found.notes.append(
            "tenant column: no tenant-like foreign-key column found; keeping the defaults"
        )
        return
    concept, count = per_concept.most_common(1)[0]
    found.tenant_fields = [n for n, _ in spellings[concept].most_common()]
    tables = len({e.table for e in entities})
    others = ", ".join(f"{c} ({n})" for c, n in per_concept.most_common()[1:4])
    found.notes.append(
        f"tenant column: {', '.join(found.tenant_fields)} — on {count} of {tables} tables"
        + (f" (other candidates: {others})" if others else "")
    )
    targets: Counter[str] = Counter()
    for ent in entities:
        for f in ent.fields:
            ref = f.relation
            if ref is not None and any(
                n in found.tenant_fields for n in (*ref.fields, f.column, f.name)
            ):
                targets[ref.target] += 1
    if targets:
        root_model = targets.most_common(1)[0][0]
        found.notes.append(
            f"tenant root: {root_model} — referenced by the tenant column {targets[root_model]} times"
        )
    else:
        named = [e.name for e in entities if e.name.lower().replace("_", "").rstrip("s") == concept]
        if not named:
            found.notes.append(
                f"tenant root: no model named after '{concept}' found; keeping the default"
            )
            return
        root_model = named[0]
        found.notes.append(f"tenant root: {root_model} — named after the tenant column")
    found.tenant_models = [root_model]


def _detect_global_candidates(found: Detection, files: dict[str, FileFacts]) -> None:
    """Models without the tenant column that link to no tenant table: likely global (users,
    sessions, lookup tables). Only suggested: declaring a model global stops its queries being
    checked, so a person decides. Models that link to tenant data are left to TL101."""
    if not found.tenant_fields:
        return
    cfg = Config(tenant_fields=tuple(found.tenant_fields), tenant_models=tuple(found.tenant_models))
    tmap = TenancyMap(cfg, files)

    def linked(info: EntityInfo) -> bool:
        targets = (tmap.entity(f.relation.target) for f in info.fields if f.relation is not None)
        return any(t is not None and t.classification in ("root", "scoped") for t in targets)

    found.global_candidates = sorted(
        info.name
        for info in tmap.entities
        if info.classification == "unscoped" and info.decl.kind != "view" and not linked(info)
    )
    if found.global_candidates:
        found.notes.append(
            f"global-model candidates: {len(found.global_candidates)} models have no tenant column "
            "and no link to a tenant table (left commented out: confirm each)"
        )


def _detect_wrappers(found: Detection, files: dict[str, FileFacts]) -> None:
    writers: Counter[str] = Counter()
    for facts in files.values():
        for s in facts.settings:
            if s.function:
                writers[s.function] += 1
        for r in facts.raw_sql:
            if r.function and any(st.settings_written for st in r.statements):
                writers[r.function] += 1
    found.rls_wrappers = [name for name, _ in writers.most_common(5)]
    found.notes.append(
        "RLS wrappers: "
        + (
            ", ".join(found.rls_wrappers) + " — they write a session setting"
            if writers
            else "none (no function writes a session setting)"
        )
    )


def _detect_functions(found: Detection, root: Path, rels: list[str]) -> None:
    resolvers: Counter[str] = Counter()
    helpers: Counter[str] = Counter()
    for rel in rels:
        if not rel.endswith(_CODE_SUFFIXES):
            continue
        try:
            text = (root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for name in _FUNC.findall(text):
            if name in found.rls_wrappers:
                continue
            if _RESOLVER.search(name):
                resolvers[name] += 1
            elif _HELPER.search(name):
                helpers[name] += 1
    found.tenant_resolvers = [n for n, _ in resolvers.most_common(5)]
    found.scope_helpers = [n for n, _ in helpers.most_common(5)]
    found.notes.append(
        "tenant resolvers: " + (", ".join(found.tenant_resolvers) or "none found") + " — by name"
    )
    found.notes.append(
        "scope helpers: " + (", ".join(found.scope_helpers) or "none found") + " — by name"
    )


def _detect_cross_tenant_code(found: Detection, rels: list[str]) -> None:
    """Test, seed and script code found in the project, which the code rules skip by default
    (`non-product-code`): said, so that nobody wonders where its findings went."""
    code = [r for r in rels if r.endswith(_CODE_SUFFIXES)]
    counts = {g: sum(map(globspec([g]).match_file, code)) for g in NON_PRODUCT_CODE}
    found.cross_tenant_globs = [g for g, n in counts.items() if n]
    if found.cross_tenant_globs:
        found.notes.append(
            "test, seed and script code, not linted by the code rules (non-product-code): "
            + ", ".join(f"{g} ({counts[g]} files)" for g in found.cross_tenant_globs)
        )


def render_toml(found: Detection, table: bool) -> str:
    """The config, as `[tool.tenantlint]` (pyproject) or top-level keys (tenantlint.toml)."""
    lines = ["[tool.tenantlint]"] if table else []
    lines.append("# Written by `tenantlint init`; review it, then run `tenantlint check`.")
    keys = (
        ("tenant-fields", found.tenant_fields),
        ("tenant-models", found.tenant_models),
        ("rls-wrappers", found.rls_wrappers),
        ("tenant-resolvers", found.tenant_resolvers),
        ("scope-helpers", found.scope_helpers),
    )
    for key, values in keys:
        if values:
            lines.append(f"{key} = [{', '.join(json.dumps(v) for v in values)}]")
    lines.append("global-models = []  # models shared by all tenants on purpose")
    if found.global_candidates:
        names = ", ".join(json.dumps(n) for n in found.global_candidates)
        lines.append("# candidates: no tenant column and no link to a tenant table; confirm each:")
        lines.append(f"# global-models = [{names}]")
    return "\n".join(lines) + "\n"


def _without_table(text: str) -> str:
    """pyproject text minus its `[tool.tenantlint]` table (and sub-tables)."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        header = re.match(r"\s*\[\[?\s*([^\]]+?)\s*\]", line)
        if header:
            name = header.group(1).replace('"', "")
            skipping = name == "tool.tenantlint" or name.startswith("tool.tenantlint.")
        if not skipping:
            out.append(line)
    return "".join(out)


def init(path: Path, force: bool = False) -> tuple[Path, Detection]:
    """Detect and write; returns the file written and what was detected."""
    root = find_root(path)
    existing = find_config_file(root)
    if existing is not None and not force:
        raise UserError(
            f"{existing.name}: a tenantlint configuration exists already (use --force to replace it)"
        )
    files = collect(root, discover(root), Config(), progress=True)
    found = detect(root, files)
    pyproject = root / "pyproject.toml"
    target = existing or (pyproject if pyproject.is_file() else root / "tenantlint.toml")
    try:
        if target.name == "pyproject.toml":
            old = _without_table(target.read_text(encoding="utf-8"))
            sep = (
                "" if not old or old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
            )
            target.write_text(old + sep + render_toml(found, table=True), encoding="utf-8")
        else:
            target.write_text(render_toml(found, table=False), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{target}: cannot write config: {exc.strerror}") from None
    load_config(target, target.name)  # what we wrote must load
    return target, found
