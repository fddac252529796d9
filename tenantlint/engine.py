"""One run: project → facts → tenancy map → rules → findings → suppressions/baseline."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tenantlint.collect import SKIPPED, collect, parse_bytes, project_files
from tenantlint.config import CONFIG_FILES, Config, find_config_file, load_config
from tenantlint.discovery import find_root, globspec, in_targets, resolve_targets
from tenantlint.errors import ConfigError, UserError
from tenantlint.facts import FileFacts, Unverified
from tenantlint.frontends import frontend_for
from tenantlint.registry import Registry, load_registry
from tenantlint.rule import Finding
from tenantlint.suppressions import Directive, parse_directives
from tenantlint.suppressions import match as match_directive
from tenantlint.tenancy import TenancyMap


@dataclass
class Project:
    root: Path
    config: Config
    config_path: str | None  # root-relative, for messages


@dataclass
class Suppressed:
    finding: Finding
    reason: str


@dataclass(frozen=True)
class StdinFile:
    """A file's text read from stdin (`--stdin-filename`), linted in place of the file on disk."""

    rel: str  # its project path
    data: bytes


@dataclass
class RunResult:
    project: Project
    tmap: TenancyMap
    enabled: list[str]
    files_scanned: int
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    unverified: list[Unverified] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # contents not on disk (stdin)
    # a changed file that decides findings elsewhere, so the whole project was reported
    widened_by: str | None = None

    @property
    def skipped(self) -> list[Unverified]:
        """The reported files that were not analysed (too big, or skipped by a front end), with
        why; they are among `unverified`, of kind `skipped`."""
        return [u for u in self.unverified if u.kind == SKIPPED]


def load_project(paths: Sequence[Path], config_file: Path | None = None) -> Project:
    """Find the root from the first path and load its configuration: `config_file`, when given,
    supplies the settings only; the root always comes from the paths (SPEC)."""
    for p in paths:
        if not p.exists():
            raise UserError(f"{p}: no such file or directory")
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"{config_file}: config file not found")
    root = find_root(paths[0] if paths else Path.cwd())
    path = config_file or find_config_file(root)
    shown = None
    if path is not None:
        try:
            shown = path.resolve().relative_to(root).as_posix()
        except ValueError:
            shown = str(path)
    return Project(root=root, config=load_config(path, shown), config_path=shown)


def run(
    project: Project,
    paths: Sequence[Path] = (),
    *,
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    baseline: set[str] | None = None,
    verbose: bool = False,
    jobs: int | None = None,
    use_cache: bool = True,
    progress: bool = False,
    stdin: StdinFile | None = None,
    changed: bool = False,
) -> RunResult:
    """Analyse the whole root; report findings only for `paths` (all when empty), or for the
    `stdin` file. With `changed`, the paths are changed files, and one that decides findings in
    other files (the config, a schema, a migration …) makes the whole project reported."""
    cfg = project.config
    registry = load_registry()
    enabled = selected_rules(registry, cfg, select, extend_select, ignore, project.config_path)
    rels = project_files(project.root, cfg.include, cfg.exclude, use_cache)
    if stdin is not None:
        targets: list[str] | None = [stdin.rel]
        if frontend_for(stdin.rel) is not None and stdin.rel not in rels:
            rels = sorted([*rels, stdin.rel])  # a new file, or an excluded one: linted as asked
    else:
        targets = resolve_targets(project.root, paths) if paths else None
    widened = next((t for t in targets or () if t in CONFIG_FILES), None) if changed else None
    if widened is not None:
        targets = None

    def facts_for(targets: list[str] | None) -> dict[str, FileFacts]:
        on_disk = [r for r in rels if stdin is None or r != stdin.rel]
        reported = None if targets is None else (lambda rel: not in_targets(rel, targets))
        files = collect(
            project.root,
            on_disk,
            cfg,
            verbose,
            jobs=jobs,
            use_cache=use_cache,
            progress=progress,
            context_only=reported,
        )
        if stdin is None or stdin.rel not in rels:
            return files
        given = parse_bytes(stdin.rel, stdin.data, cfg, verbose)
        return {
            r: given if r == stdin.rel else files[r] for r in rels if r in files or r == stdin.rel
        }

    files = facts_for(targets)
    if changed and targets is not None:
        widened = next((r for r, f in files.items() if in_targets(r, targets) and _shared(f)), None)
        if widened is not None:
            targets = None
            files = facts_for(None)
    tmap = TenancyMap(cfg, files)
    result = RunResult(
        project,
        tmap,
        enabled,
        files_scanned=sum(in_targets(r, targets) for r in rels),
        texts={stdin.rel: stdin.data.decode("utf-8", "replace")} if stdin else {},
        widened_by=widened,
    )

    raw: list[Finding] = []
    for code in enabled:
        for item in registry.rules[code]().check(tmap):
            if isinstance(item, Unverified):
                if in_targets(item.loc.path, targets):
                    result.unverified.append(item)
            elif in_targets(item.path, targets):
                raw.append(item)
    result.unverified += [
        u for f in files.values() for u in f.unverified if in_targets(u.loc.path, targets)
    ]
    product = _product_code(cfg)
    raw = [f for f in raw if product(f.rule, f.path)]
    result.unverified = [u for u in result.unverified if product(u.kind, u.loc.path)]

    kept = _apply_per_file_ignores(raw, cfg, registry)
    kept = _apply_suppressions(kept, result, registry, targets, product)
    # suppressed findings are fingerprinted among the others, so that a finding's fingerprint is
    # the same whether it is suppressed or not (code scanning matches results by it)
    reasons = {id(s.finding): s.reason for s in result.suppressed}
    every = sorted([*kept, *(s.finding for s in result.suppressed)], key=Finding.sort_key)
    result.suppressed = []
    printed = _fingerprinted([_with_severity(f, cfg) for f in every])
    for before, f in zip(every, printed, strict=True):
        if id(before) in reasons:
            result.suppressed.append(Suppressed(f, reasons[id(before)]))
        elif baseline and f.fingerprint in baseline:
            result.baselined.append(f)
        else:
            result.findings.append(f)
    return result


_SHARED = ("entities", "sql_ops", "sql_templates", "settings", "guard_targets", "context_providers")


def _shared(f: FileFacts) -> bool:
    """Whether a file decides findings in other files: a schema, a migration, the RLS wrapper, a
    guard, a context provider, or a function whose queries are judged at its callers."""
    if f.migration or f.guard_defined or f.datasource_provider is not None:
        return True
    return any(getattr(f, key) for key in _SHARED) or any(fn.sinks for fn in f.functions)


def selected_rules(
    registry: Registry,
    cfg: Config,
    select: Sequence[str] | None,
    extend_select: Sequence[str],
    ignore: Sequence[str],
    config_path: str | None,
) -> list[str]:
    """The enabled codes, after checking every rule selector the config names."""
    named: list[tuple[str, str]] = [
        (key, sel)
        for key in ("select", "extend_select", "ignore")
        for sel in getattr(cfg, key) or ()
    ]
    named += [("severity", code) for code in cfg.severity]
    named += [("per_file_ignores", s) for sels in cfg.per_file_ignores.values() for s in sels]
    for key, sel in named:
        try:
            registry.select(sel)
        except UserError as exc:
            raise ConfigError(
                f"{config_path or 'config'}: key '{key.replace('_', '-')}': {exc}"
            ) from None
    return enabled_rules(registry, cfg, select, extend_select, ignore)


def enabled_rules(
    registry: Registry,
    cfg: Config,
    select: Sequence[str] | None,
    extend_select: Sequence[str],
    ignore: Sequence[str],
) -> list[str]:
    """The command line wins over the config, as in ruff: the config's selection first, then the
    command line's on top of it; a `--select` replaces the config's `select`, `extend-select`
    and `ignore`; `--extend-select` and `--ignore` add to what the config chose."""
    if select is not None:
        return registry.resolve(select, extend_select, ignore)
    chosen = set(registry.resolve(cfg.select, cfg.extend_select, cfg.ignore))
    chosen |= set(registry.resolve([], extend_select))
    chosen -= set(registry.resolve([], ignore))
    return sorted(chosen)


_CODE_RULES = ("TL3", "TL4", "TL5")


def _product_code(cfg: Config) -> Callable[[str, str], bool]:
    """Whether a code rule's finding at a path stands: the code rules skip `non-product-code`."""
    if not cfg.non_product_code:
        return lambda code, path: True
    spec = globspec(cfg.non_product_code)
    return lambda code, path: not (code.startswith(_CODE_RULES) and spec.match_file(path))


def _apply_per_file_ignores(
    findings: list[Finding], cfg: Config, registry: Registry
) -> list[Finding]:
    if not cfg.per_file_ignores:
        return findings
    specs = [
        (globspec([glob]), {c for s in sels for c in registry.select(s)})
        for glob, sels in cfg.per_file_ignores.items()
    ]
    return [
        f
        for f in findings
        if not any(f.rule in codes and spec.match_file(f.path) for spec, codes in specs)
    ]


def _apply_suppressions(
    findings: list[Finding],
    result: RunResult,
    registry: Registry,
    targets: list[str] | None,
    product: Callable[[str, str], bool],
) -> list[Finding]:
    """Suppressed findings aside; TL003 for malformed directives, TL002 for unused ones (a code
    rule's suppression in code the code rules skip is not unused: the rule did not run there)."""
    by_path: dict[str, list[Directive]] = {}
    meta: list[Finding] = []
    for path, facts in result.tmap.files.items():
        if not facts.comments or not in_targets(path, targets):
            continue
        directives, problems = parse_directives(path, facts.comments, registry)
        by_path[path] = directives
        if "TL003" in result.enabled:
            meta += [registry.rules["TL003"]().finding(p.loc, p.message) for p in problems]
    kept: list[Finding] = []
    for f in findings:
        d = match_directive(by_path.get(f.path, []), f.rule, f.line)
        if d is None:
            kept.append(f)
        else:
            result.suppressed.append(Suppressed(f, d.reason))
    if "TL002" in result.enabled:
        unused_rule = registry.rules["TL002"]()
        for path, directives in by_path.items():
            for d in directives:
                unused = [
                    c
                    for c in d.codes
                    if c not in d.used and c in result.enabled and product(c, path)
                ]
                if unused:
                    meta.append(
                        unused_rule.finding(d.loc, f"unused suppression for {', '.join(unused)}")
                    )
    return kept + meta


def _with_severity(f: Finding, cfg: Config) -> Finding:
    sev = cfg.severity.get(f.rule)
    return f.model_copy(update={"severity": sev}) if sev and sev != f.severity else f


_WS = re.compile(r"\s+")


def _fingerprinted(findings: list[Finding]) -> list[Finding]:
    """Hash of code, path, normalised flagged source and occurrence index: line-shift stable."""
    seen: Counter[tuple[str, str, str]] = Counter()
    out: list[Finding] = []
    for f in findings:
        anchor = _WS.sub(" ", f.snippet or f.message).strip()
        key = (f.rule, f.path, anchor)
        index = seen[key]
        seen[key] += 1
        digest = hashlib.sha256("\x1f".join((*key, str(index))).encode()).hexdigest()[:20]
        out.append(f.model_copy(update={"fingerprint": digest}))
    return out
