"""`tenantlint init`: look at a project and write a starter configuration, saying why.

What it detects, from the facts the front ends extract (with the default configuration) and,
for what no fact records, from the text of the product code (`initscan`; never tests or seeds):
- the ORMs and SQL sources declaring tables;
- the tenant column: the most common tenant-like column (`*tenant*`, `*org*`, `*team*`,
  `*workspace*`, `*account*`, `*company*`, `*group*`) that looks like a foreign key, counted
  over tables, with the name queries use beside it: a Django foreign key's field
  (`organization` for `organization_id`), the SQLAlchemy relationship (`org` for `org_id`);
- the tenant root: the model those columns reference, by its model name (or the one named after
  the concept); when it belongs to another tenant-like model, that level is offered commented out;
- RLS wrappers: the top-level functions that write a session setting an RLS policy reads
  (`set_config`, `SET LOCAL`);
- tenant resolvers: functions named after the concept (`getCurrentOrgId`, `resolve_tenant`) or
  used as a FastAPI dependency (of those, the ones the code calls, when it calls any);
- scope helpers: functions whose body returns a tenant predicate (`return { orgId }`);
- guards: `register…Guard(client)` calls; tenancy flags: environment reads named `*TENAN*`,
  `*MULTI*` that are switches.

What the evidence only suggests is written commented out (`Offer`), for a person to confirm.

The table goes to the existing config file with `--force`, else appended to `pyproject.toml`,
else to a new `tenantlint.toml`. An existing configuration is never overwritten without `--force`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tenantlint import initscan
from tenantlint.collect import collect
from tenantlint.config import NON_PRODUCT_CODE, Config, find_config_file, load_config
from tenantlint.discovery import discover, find_root, globspec
from tenantlint.errors import UserError
from tenantlint.facts import Entity, FieldFact, FileFacts
from tenantlint.tenancy import EntityInfo, TenancyMap

CONCEPTS = ("tenant", "organization", "org", "workspace", "team", "account", "company", "group")
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
_DEPENDS = re.compile(r"\bDepends\(\s*(\w+)\s*\)")


@dataclass(frozen=True)
class Offer:
    """Settings the evidence only suggests: written commented out, for a person to confirm."""

    why: str
    settings: dict[str, list[str]]


@dataclass
class Detection:
    """What init found, and why (`notes`, printed for the user)."""

    orms: list[str] = field(default_factory=list)
    tenant_fields: list[str] = field(default_factory=list)
    tenant_models: list[str] = field(default_factory=list)
    rls_wrappers: list[str] = field(default_factory=list)
    tenant_resolvers: list[str] = field(default_factory=list)
    scope_helpers: list[str] = field(default_factory=list)
    guards: list[str] = field(default_factory=list)
    tenancy_flags: list[str] = field(default_factory=list)
    offers: dict[str, Offer] = field(default_factory=dict)  # by the key they are written under
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
    texts = initscan.product_code(root, files)
    _detect_tenant(found, entities)
    _detect_global_candidates(found, files)
    _detect_wrappers(found, files, texts)
    _detect_resolvers(found, texts)
    _detect_code(found, texts)
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
        # SQLAlchemy's `org = relationship(…)` beside `org_id`: `filter(M.org == org)` uses it
        relationships = {f.name for f in ent.fields if f.relation and not f.relation.fields}
        for f in ent.fields:
            concept = _concept(f)
            if concept is None or (f.relation is not None and not _FK_SUFFIX.search(f.column)):
                continue
            on_tables.setdefault(concept, set()).add(ent.table)
            names = spellings.setdefault(concept, Counter())
            names[f.column] += 1
            if f.relation is None or ent.source == "django":  # `filter(organization=…)`
                names[f.name] += 1
            elif (
                ent.source == "sqlalchemy" and (a := _FK_SUFFIX.sub("", f.column)) in relationships
            ):
                names[a] += 1
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
    models = _model_names(entities)
    targets: Counter[str] = Counter()
    for ent in entities:
        for f in ent.fields:
            ref = f.relation
            if ref is not None and any(
                n in found.tenant_fields for n in (*ref.fields, f.column, f.name)
            ):
                targets[models.get(ref.target, ref.target)] += 1
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
    _detect_parent(found, entities, spellings)


def _model_names(entities: list[Entity]) -> dict[str, str]:
    """Table → ORM model name: a foreign key names a table, the config names the model."""
    return {e.table: e.name for e in entities if e.source != "sql"}


def _detect_parent(
    found: Detection, entities: list[Entity], spellings: dict[str, Counter[str]]
) -> None:
    """A tenant root that itself belongs to another tenant-like model (an Organization's
    Workspaces): which level isolates tenants is a person's call, so the upper one is offered
    commented out."""
    root = found.tenant_models[0]
    models = _model_names(entities)
    for ent in (e for e in entities if e.name == root):
        columns = {f.column: f for f in ent.fields}
        for f in ent.fields:
            ref = f.relation
            fk = columns.get(ref.fields[0]) if ref and ref.fields else f
            if ref is None or fk is None or f.optional or fk.unique:  # 1:1 is not a parent
                continue
            target = models.get(ref.target, ref.target)
            concept = _concept(fk) if _FK_SUFFIX.search(fk.column) else None
            if target == root or concept is None or concept not in spellings:
                continue
            fact = f"{root} belongs to {target} ({root}.{fk.column})"
            found.offers["tenant-models"] = Offer(
                f"{fact}: if the tenant is the {target}, use instead",
                {
                    "tenant-fields": [n for n, _ in spellings[concept].most_common()],
                    "tenant-models": [target],
                },
            )
            found.notes.append(
                f"tenant root: {fact}; if the tenant is the {target}, "
                "use the alternative left commented out"
            )
            return


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

    names = sorted(
        info.name
        for info in tmap.entities
        if info.classification == "unscoped" and info.decl.kind != "view" and not linked(info)
    )
    if names:
        found.offers["global-models"] = Offer(
            "candidates: no tenant column and no link to a tenant table; confirm each",
            {"global-models": names},
        )
        found.notes.append(
            f"global-model candidates: {len(names)} models have no tenant column "
            "and no link to a tenant table (left commented out: confirm each)"
        )


def _detect_wrappers(found: Detection, files: dict[str, FileFacts], texts: dict[str, str]) -> None:
    """The functions that write a session setting the RLS policies read, named as callers call
    them: the top-level function around a callback (`$allOperations` inside `forTenant`) or the
    method itself. A tenant-named setting no policy in the project reads is only offered."""
    read = {
        s for f in files.values() for op in f.sql_ops if op.policy for s in op.policy.settings_read
    }
    writers: dict[str, Counter[str]] = {}
    for path, facts in files.items():
        if path not in texts and not path.endswith(".sql"):
            continue  # test, seed and script code
        sites = [(s.function, s.loc.line, s.setting) for s in facts.settings]
        sites += [
            (r.function, r.loc.line, w.setting)
            for r in facts.raw_sql
            for st in r.statements
            for w in st.settings_written
        ]
        for function, line, setting in sites:
            if function and path in texts:
                function = initscan.top_level_at(texts[path], line) or function.rsplit(".")[-1]
            if function:
                writers.setdefault(setting, Counter())[function] += 1
    used = Counter({n: c for s in read & set(writers) for n, c in writers[s].items()})
    found.rls_wrappers = [name for name, _ in used.most_common(5)]
    offered = sorted(
        {n for s, names in writers.items() if s not in read and _CONCEPT.search(s) for n in names}
        - set(found.rls_wrappers)
    )
    if offered:
        found.offers["rls-wrappers"] = Offer(
            "they write a tenant setting that no RLS policy in the project reads",
            {"rls-wrappers": offered},
        )
    found.notes.append(
        "RLS wrappers: "
        + (
            ", ".join(found.rls_wrappers)
            + " — they set "
            + ", ".join(sorted(read & set(writers)))
            + ", which the RLS policies read"
            if used
            else "none (no function sets a setting that an RLS policy reads)"
        )
        + (f" (left commented out: {', '.join(offered)})" if offered else "")
    )


def _detect_resolvers(found: Detection, texts: dict[str, str]) -> None:
    """Functions named after the concept with a resolving verb, or FastAPI dependencies named
    after it; of those, the ones the code uses, when any is used (a resolver nobody calls, such
    as a public page's fallback, is not the one requests go through)."""
    resolvers: Counter[str] = Counter()
    for text in texts.values():
        for name in _FUNC.findall(text):
            if _RESOLVER.search(name) and name not in found.rls_wrappers:
                resolvers[name] += 1
        resolvers.update(n for n in _DEPENDS.findall(text) if _CONCEPT.search(n))
    uses = {
        n: sum(len(re.findall(rf"(?<![\w$]){re.escape(n)}\b", t)) for t in texts.values()) - 1
        for n in resolvers
    }
    used = [n for n, _ in resolvers.most_common() if uses[n] > 0]
    found.tenant_resolvers = (used or [n for n, _ in resolvers.most_common()])[:5]
    unused = sorted(set(resolvers) - set(found.tenant_resolvers)) if used else []
    found.notes.append(
        "tenant resolvers: "
        + (", ".join(found.tenant_resolvers) or "none found")
        + " — by name, or used as a dependency"
        + (f" (left out, called nowhere: {', '.join(unused)})" if unused else "")
    )


def _detect_code(found: Detection, texts: dict[str, str]) -> None:
    """Scope helpers, guards and tenancy flags, from the product code's text."""
    names = set(found.tenant_fields or Config().tenant_fields)
    helpers = initscan.scope_helpers(texts, names)
    found.scope_helpers = [n for n, _ in helpers.most_common(5) if n not in found.rls_wrappers]
    found.guards = [n for n, _ in initscan.guards(texts).most_common(5)]
    found.tenancy_flags = [n for n, _ in initscan.tenancy_flags(texts).most_common(5)]
    found.notes += [
        "scope helpers: "
        + (", ".join(found.scope_helpers) or "none found")
        + " — they return a tenant predicate",
        "guards: " + (", ".join(found.guards) or "none found") + " — called on a client",
        "tenancy flags: "
        + (", ".join(found.tenancy_flags) or "none found")
        + " — read from the environment",
    ]


def _detect_cross_tenant_code(found: Detection, rels: list[str]) -> None:
    """Test, seed and script code found in the project, which the code rules skip by default
    (`non-product-code`): said, so that nobody wonders where its findings went."""
    code = [r for r in rels if r.endswith(initscan.CODE_SUFFIXES)]
    counts = {g: sum(map(globspec([g]).match_file, code)) for g in NON_PRODUCT_CODE}
    found.cross_tenant_globs = [g for g, n in counts.items() if n]
    if found.cross_tenant_globs:
        found.notes.append(
            "test, seed and script code, not linted by the code rules (non-product-code): "
            + ", ".join(f"{g} ({counts[g]} files)" for g in found.cross_tenant_globs)
        )


def render_toml(found: Detection, table: bool) -> str:
    """The config, as `[tool.tenantlint]` (pyproject) or top-level keys (tenantlint.toml); what
    the evidence only suggests is written commented out under its key."""
    lines = ["[tool.tenantlint]"] if table else []
    lines.append("# Written by `tenantlint init`; review it, then run `tenantlint check`.")
    keys: tuple[tuple[str, list[str]], ...] = (
        ("tenant-fields", found.tenant_fields),
        ("tenant-models", found.tenant_models),
        ("rls-wrappers", found.rls_wrappers),
        ("tenant-resolvers", found.tenant_resolvers),
        ("scope-helpers", found.scope_helpers),
        ("guards", found.guards),
        ("tenancy-flags", found.tenancy_flags),
        ("global-models", []),
    )
    for key, values in keys:
        if values:
            lines.append(f"{key} = {_toml_list(values)}")
        if key == "global-models":
            lines.append("global-models = []  # models shared by all tenants on purpose")
        if key in found.offers:
            offer = found.offers[key]
            lines.append(f"# {offer.why}:")
            lines += [f"# {k} = {_toml_list(v)}" for k, v in offer.settings.items()]
    return "\n".join(lines) + "\n"


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


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
