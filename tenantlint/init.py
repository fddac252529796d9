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
- tenant resolvers: server-side functions named after the tenant (`getCurrentOrgId`,
  `resolve_tenant`) that read the request or the session, or FastAPI dependencies named after it;
  not hooks, client-side code, lists, nor lookups taking the tenant (of those, the ones the code
  calls, when it calls any);
- scope helpers: functions whose one statement returns a filter on the tenant column
  (`return { orgId }`, `Model.org_id == org_id`), not a serialised record;
- guards: `register…Guard(client)` calls; tenancy flags: environment switches named `*TENAN*`,
  `MULTI_TENAN*`, `MULTI_ORG` (not `MAINTENANCE_MODE`, not another MULTI).

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
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_VERBS = frozenset(
    {
        "get",
        "resolve",
        "require",
        "current",
        "load",
        "fetch",
        "ensure",
        "assert",
        "check",
        "throw",
        "verify",
        "authorize",
    }
)
_PREPOSITIONS = frozenset({"by", "for", "and", "or", "from", "of", "in", "with", "to", "on", "per"})
# what a resolver's name may say it reads after the tenant: `get_org_for_request`, not `ById`
_SOURCES = frozenset({"for", "from", "of", "in", "or"})
_ORG = frozenset({"org", "organization", "organisation"})
# what may follow the concept in a resolver's name: `getOrgId`, `require_team_access`
_OBJECT_SUFFIXES = frozenset(
    {"id", "slug", "uuid", "context", "ctx", "access", "member", "membership"}
)


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
    names = set(found.tenant_fields or Config().tenant_fields)
    models = {e.name for e in entities}
    defs = {d.name: d for d in initscan.definitions(texts, names, models) if not d.client}
    _detect_resolvers(found, defs, texts)
    _detect_code(found, defs, texts)
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


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def _concept_words(found: Detection) -> set[str]:
    """The words that name the tenant: `org`, `organization` for `org_id` and Organization."""
    default = Config()
    upper = found.offers.get("tenant-models")
    names = [
        *(found.tenant_fields or default.tenant_fields),
        *(found.tenant_models or default.tenant_models),
        *(n for values in (upper.settings.values() if upper else ()) for n in values),
    ]
    words = {w for n in names for w in _words(n) if w not in _OBJECT_SUFFIXES}
    return words | (_ORG if words & _ORG else set())


def _names_tenant(name: str, concepts: set[str]) -> bool:
    """`getCurrentOrgId`, `resolve_tenant`, `get_workspace_for_request`: a verb, then the tenant
    in the singular as what it yields. Not a hook (`useOrg`), a list (`getOrgs`), a lookup by the
    tenant (`get_by_org`, `getEventsForOrg`) nor something of the tenant (`get_org_role`)."""
    w = _words(name)
    hits = [i for i, x in enumerate(w) if x in concepts]
    plural = any(x.endswith("s") and x[:-1] in concepts for x in w)
    if not hits or plural or w[0] not in _VERBS or any(w[i - 1] in _PREPOSITIONS for i in hits):
        return False
    rest = w[hits[-1] + 1 :]
    rest = rest[1:] if rest and rest[0] in _OBJECT_SUFFIXES else rest
    return not rest or rest[0] in _SOURCES


def _takes_tenant(d: initscan.Definition, concepts: set[str]) -> bool:
    """A parameter that is the tenant or its key (`org`, `teamId`, `workspace_slug`): the
    function looks the tenant up rather than finding the caller's."""
    return any(
        x in concepts or x == "slug" or (x.endswith("s") and x[:-1] in concepts)
        for p in d.params
        for x in _words(p)
    )


def _detect_resolvers(
    found: Detection, defs: dict[str, initscan.Definition], texts: dict[str, str]
) -> None:
    """Server-side functions named after the tenant that read the request, the session or the
    signed-in user, and FastAPI dependencies named after it; not those taking the tenant as an
    argument (lookups). Of those, the ones the code uses, when any is used (a resolver nobody
    calls, such as a public page's fallback, is not the one requests go through)."""
    concepts = _concept_words(found)

    def resolver(name: str, depended: bool) -> bool:
        d = defs.get(name)
        return (
            _names_tenant(name, concepts)
            and not name.startswith("_")
            and name not in found.rls_wrappers
            and (d is None or (not d.method and not _takes_tenant(d, concepts)))
            and (depended or (d is not None and d.reads_request))
        )

    resolvers = Counter({n: 1 for n in defs if resolver(n, depended=False)})
    resolvers.update(n for n in initscan.dependencies(texts).elements() if resolver(n, True))
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
        + " — named after the tenant, reading the request or used as a dependency"
        + (f" (left out, called nowhere: {', '.join(unused)})" if unused else "")
    )


def _detect_code(
    found: Detection, defs: dict[str, initscan.Definition], texts: dict[str, str]
) -> None:
    """Scope helpers, guards and tenancy flags, from the product code."""
    found.scope_helpers = [
        n for n, d in defs.items() if d.predicate and n not in found.rls_wrappers
    ][:5]
    found.guards = [n for n, _ in initscan.guards(texts).most_common(5)]
    found.tenancy_flags = [n for n, _ in initscan.tenancy_flags(texts).most_common(5)]
    found.notes += [
        "scope helpers: "
        + (", ".join(found.scope_helpers) or "none found")
        + " — they return a filter on the tenant column",
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
