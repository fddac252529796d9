"""Command line: `tenantlint check | rules | explain | …`. User errors → one line, exit 2;
SIGINT → exit 130, SIGTERM → exit 143, with the workers stopped and no output half written."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tenantlint import __version__
from tenantlint.atomic import write_atomic
from tenantlint.errors import UserError

if TYPE_CHECKING:
    from tenantlint.engine import Project, RunResult, StdinFile

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # 128 + the signal's number, as shells report it
FORMATS = ("text", "json", "sarif", "github", "junit", "markdown")  # see tenantlint.reporters


def _csv(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def write_output(text: str, output: Path | None, color: bool = False) -> None:
    """Write to `output` (all at once: a temporary file renamed, so a CI step reading it, or a
    run interrupted while writing it, never sees half a report) or stdout (`color`: keep the
    ANSI styles even where stdout is no terminal)."""
    if output is None:
        click.echo(text, nl=False, color=color or None)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, text)
    except OSError as exc:
        raise UserError(f"{output}: cannot write output: {exc.strerror}") from None


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like SIGINT's KeyboardInterrupt, so that the same
    clean-up runs (workers stopped, temporary files removed) before the exit."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises `Terminated` for the duration (main thread only: elsewhere, as under
    some test runners, signals cannot be handled)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


class _Group(click.Group):
    """Turns user errors into one line and exit 2; internal errors too, unless --verbose;
    SIGINT and SIGTERM into exit 130 and 143."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _sigterm_raises():
                return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("tenantlint: interrupted", err=True)
            ctx.exit(EXIT_SIGINT)
        except Terminated:
            click.echo("tenantlint: terminated", err=True)
            ctx.exit(EXIT_SIGTERM)
        except UserError as exc:
            click.echo(f"tenantlint: error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get(VERBOSE):
                raise
            click.echo(
                f"tenantlint: internal error: {type(exc).__name__}: {exc} (run with --verbose for details)",
                err=True,
            )
            ctx.exit(EXIT_ERROR)


VERBOSE = "tenantlint.verbose"


_verbose_listing = click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="List the files not analysed, with why; show tracebacks of internal errors.",
)


def _selection_and_output(f: F) -> F:
    """The options `check` and `db-audit` share: rule selection, output and the exit threshold."""
    options = [
        click.option(
            "--select",
            callback=_csv,
            help="Rules to enable (codes, prefixes, names or ALL), replacing the defaults.",
        ),
        click.option(
            "--extend-select", callback=_csv, help="Rules to enable on top of the selection."
        ),
        click.option("--ignore", callback=_csv, help="Rules to disable."),
        click.option(
            "--format",
            "--output-format",
            "fmt",
            type=click.Choice(FORMATS),
            help="Output format (default: text; github when $GITHUB_ACTIONS is true and the "
            "report goes to stdout).",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(path_type=Path),
            help="Write the report to FILE instead of stdout.",
        ),
        click.option(
            "--color",
            default="auto",
            type=click.Choice(["auto", "always", "never"]),
            show_default=True,
            help="Colour the text output: auto is on a terminal, unless $NO_COLOR is set (or "
            "$FORCE_COLOR forces it).",
        ),
        click.option(
            "--fail-on",
            default="warning",
            type=click.Choice(["error", "warning", "never"]),
            show_default=True,
            help="The lowest severity that makes the exit code 1.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def output_format(fmt: str | None, output: Path | None) -> str:
    """The format asked for; without one, GitHub annotations in GitHub Actions (on stdout, where
    the runner reads them), else text."""
    if fmt is not None:
        return fmt
    in_actions = os.environ.get("GITHUB_ACTIONS", "").lower() == "true"
    return "github" if in_actions and output is None else "text"


def use_color(choice: str, output: Path | None) -> bool:
    """`--color`: always, never, or (auto) on a terminal; $NO_COLOR turns auto off and
    $FORCE_COLOR on, NO_COLOR winning (no-color.org, force-color.org). Never into a file."""
    if choice != "auto":
        return choice == "always"
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def _emit(
    result: RunResult,
    fmt: str | None,
    output: Path | None,
    fail_on: str,
    color: str,
    *,
    statistics: bool = False,
    quiet: bool = False,
) -> int:
    """Render the result; return the exit code `--fail-on` asks for."""
    from tenantlint.report_model import build_report
    from tenantlint.reporters import get_reporter
    from tenantlint.rule import SEVERITY_RANK

    report = build_report(result)
    reporter = get_reporter(output_format(fmt, output))
    colored = use_color(color, output)
    text = reporter.render(report, statistics=statistics, quiet=quiet, color=colored)
    write_output(text, output, colored)
    threshold = SEVERITY_RANK.get(fail_on)
    failing = threshold is not None and any(
        SEVERITY_RANK[f.severity] >= threshold for f in result.findings
    )
    return EXIT_FINDINGS if failing else EXIT_OK


def _note_skipped(result: RunResult, verbose: bool, quiet: bool) -> None:
    """Files that were not analysed, on stderr: each with its reason under --verbose, else a
    count (the audit report lists them too, among the unverified sites)."""
    from tenantlint.reporters.escape import printable

    skipped = result.skipped
    if verbose:
        for u in skipped:
            click.echo(
                f"tenantlint: skipped {printable(u.loc.path)}: {printable(u.reason)}", err=True
            )
    elif skipped and not quiet:
        n = len(skipped)
        click.echo(
            f"tenantlint: {n} file{'s' * (n != 1)} not analysed (--verbose lists them)", err=True
        )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tenantlint")
def main() -> None:
    """Static auditor for multi-tenant applications."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="Config file to use."
)
@_selection_and_output
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="Hide findings recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(path_type=Path),
    help="Record the current findings as the baseline.",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Parallel workers (default: CPU cores)."
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the fact cache.")
@click.option("--statistics", is_flag=True, help="Count findings per rule.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (errors still exit 2).")
@click.option(
    "--show-settings",
    is_flag=True,
    help="Print the root, the resolved settings and the files, then exit 0 without checking.",
)
@click.option(
    "--stdin-filename",
    type=click.Path(path_type=Path),
    help="Lint the text on stdin as this file (which need not exist), with the rest of the "
    "project as context: for editors.",
)
@click.option(
    "--changed-files",
    is_flag=True,
    help="PATHS are changed files (as pre-commit passes them): report on them, or on the whole "
    "project when one can change findings in others (the config, a schema, a migration, the "
    "RLS wrapper, a guard …).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no excerpts or progress.")
@_verbose_listing
def check(
    paths: tuple[Path, ...],
    config_file: Path | None,
    select: list[str] | None,
    extend_select: list[str] | None,
    ignore: list[str] | None,
    fmt: str | None,
    output: Path | None,
    color: str,
    baseline: Path | None,
    write_baseline: Path | None,
    fail_on: str,
    jobs: int | None,
    no_cache: bool,
    statistics: bool,
    exit_zero: bool,
    show_settings: bool,
    stdin_filename: Path | None,
    changed_files: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Lint the project; report findings for PATHS (default: the whole project)."""
    from tenantlint.baseline import load_baseline, save_baseline
    from tenantlint.engine import load_project, run

    ctx = click.get_current_context()
    ctx.meta[VERBOSE] = verbose
    stdin = None
    if stdin_filename is not None:
        if any(str(p) != "-" for p in paths):
            raise UserError("--stdin-filename lints stdin: give no PATH, or `-`")
        project, stdin = _stdin_file(stdin_filename, config_file)
        targets = [stdin_filename]
    else:
        targets = list(paths) or [Path(".")]  # SPEC: PATH defaults to "."
        project = load_project(targets, config_file)
    if show_settings:
        shown = [t for t in targets if t.exists()] or [project.root]
        settings = _settings(project, shown, select, extend_select or (), ignore or ())
        write_output(settings, output)
        ctx.exit(EXIT_OK)
    result = run(
        project,
        targets,
        select=select,
        extend_select=extend_select or (),
        ignore=ignore or (),
        baseline=load_baseline(baseline) if baseline else None,
        verbose=verbose,
        jobs=jobs,
        use_cache=not no_cache,
        progress=not quiet,
        stdin=stdin,
        changed=changed_files,
    )
    _note_skipped(result, verbose, quiet)
    if result.widened_by is not None and not quiet:
        click.echo(
            f"tenantlint: {result.widened_by} can change findings in other files: "
            "reporting the whole project",
            err=True,
        )
    if not result.files_scanned and not quiet:
        click.echo(
            f"tenantlint: warning: no files to check in {', '.join(map(str, targets))} "
            "(tenantlint reads *.prisma, *.sql, Python and TypeScript/JavaScript files; "
            "git-ignored and excluded ones are skipped)",
            err=True,
        )
    if write_baseline is not None:
        save_baseline(write_baseline, result.findings + result.baselined)
    code = _emit(result, fmt, output, fail_on, color, statistics=statistics, quiet=quiet)
    ctx.exit(EXIT_OK if write_baseline is not None or exit_zero else code)


def _stdin_file(path: Path, config_file: Path | None) -> tuple[Project, StdinFile]:
    """The project around `path` (which need not exist yet) and stdin's text as that file."""
    from tenantlint.discovery import project_path
    from tenantlint.engine import StdinFile, load_project

    absolute = path.absolute()
    anchor = next(p for p in (absolute, *absolute.parents) if p.exists())
    project = load_project([anchor], config_file)
    try:
        rel = absolute.resolve().relative_to(project.root)
    except ValueError:
        raise UserError(f"{path}: outside the project root {project.root}") from None
    data = sys.stdin.buffer.read()
    return project, StdinFile(project_path(rel.as_posix()), data)


def _settings(
    project: Project,
    targets: list[Path],
    select: Sequence[str] | None,
    extend_select: Sequence[str],
    ignore: Sequence[str],
) -> str:
    """`check --show-settings`: where the run would look, with which settings, at which files."""
    from collections import Counter

    from tenantlint.collect import project_files
    from tenantlint.config import to_toml
    from tenantlint.discovery import find_repo_root, in_targets, project_path, resolve_targets
    from tenantlint.engine import selected_rules
    from tenantlint.frontends import frontend_for
    from tenantlint.registry import load_registry
    from tenantlint.reporters.escape import printable

    cfg, root = project.config, project.root
    enabled = selected_rules(
        load_registry(), cfg, select, extend_select, ignore, project.config_path
    )
    reported = resolve_targets(root, targets)
    files = project_files(root, cfg.include, cfg.exclude, use_cache=False)
    kinds = Counter(frontend_for(rel) or "other" for rel in files)
    shown = sum(in_targets(rel, reported) for rel in files)
    lines = [
        f"Root: {printable(project_path(str(root)))}",
        f"Repository: {printable(project_path(str(find_repo_root(root))))}",
        f"Config: {printable(project.config_path or 'none (the defaults)')}",
        f"Rules enabled ({len(enabled)}): {', '.join(enabled) or 'none'}",
        f"Files: {len(files)} in the project ("
        + (", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none")
        + f"), {shown} reported for the paths given",
        "",
        "# Settings (the config with its defaults):",
        to_toml(cfg).rstrip("\n"),
    ]
    return "\n".join(lines) + "\n"


@main.command("rules")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json", "markdown"]))
def list_rules(fmt: str) -> None:
    """List every rule: code, name, default severity, enabled by default. `json` carries each
    rule's full documentation and metadata; `markdown` is docs/rules.md."""
    from tenantlint import ruledocs
    from tenantlint.registry import load_registry

    rules = load_registry().rules.values()
    if fmt == "json":
        click.echo(json.dumps([ruledocs.record(r) for r in rules], indent=2))
    elif fmt == "markdown":
        click.echo(ruledocs.rules_markdown(rules), nl=False)
    else:
        for r in rules:
            flag = "" if r.enabled_by_default else "  (off by default)"
            click.echo(f"{r.code}  {r.name:<34} {r.severity:<8} {r.summary}{flag}")


@main.command()
@click.argument("rule")
@click.option(
    "--lang",
    type=click.Choice(["prisma", "sqlalchemy", "django", "sql"]),
    help="The example to show (default: the stack of the project in the current directory).",
)
def explain(rule: str, lang: str | None) -> None:
    """Print a rule's documentation: why it matters, how to fix it, the example of your stack
    (what changes from bad to good) and the settings that change it, with their values here."""
    from tenantlint import ruledocs
    from tenantlint.collect import project_files
    from tenantlint.engine import load_project
    from tenantlint.registry import load_registry

    found = load_registry().lookup(rule)
    if found is None:
        raise UserError(f"unknown rule code or name '{rule}' (see `tenantlint rules`)")
    project = load_project([Path.cwd()])
    cfg = project.config
    in_a_project = project.config_path is not None or (project.root / ".git").exists()
    if lang is None and in_a_project:  # never walk a home directory to pick an example
        files = project_files(project.root, cfg.include, cfg.exclude, use_cache=False)
        lang = ruledocs.project_stack(project.root, files)
    click.echo(ruledocs.explanation(found, lang, cfg), nl=False)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report to FILE.")
@click.option("--format", "fmt", default="html", type=click.Choice(["html", "markdown", "json"]))
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="Config file to use."
)
@click.option("--json-schema", is_flag=True, help="Print the JSON schema of --format json.")
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Parallel workers (default: CPU cores)."
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the fact cache.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@_verbose_listing
def report(
    path: Path | None,
    output: Path | None,
    fmt: str,
    config_file: Path | None,
    json_schema: bool,
    jobs: int | None,
    no_cache: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Write the audit report of the project at PATH (default: "."): tenancy map, coverage,
    findings, unverified sites and suppressions. Exits 0 whatever it finds."""
    from tenantlint import report as audit

    click.get_current_context().meta[VERBOSE] = verbose
    if json_schema:
        write_output(audit.schema_text(), output)
        return
    from tenantlint.engine import load_project, run

    target = path or Path.cwd()
    project = load_project([target], config_file)
    result = run(
        project,
        [target],
        verbose=verbose,
        jobs=jobs,
        use_cache=not no_cache,
        progress=not quiet,
    )
    _note_skipped(result, verbose, quiet)
    write_output(audit.render(result, fmt), output)
    if output is not None and not quiet:
        click.echo(f"tenantlint: wrote {output}", err=True)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path, exists=True))
@click.option("--force", is_flag=True, help="Replace an existing tenantlint configuration.")
def init(path: Path | None, force: bool) -> None:
    """Detect the project's tenancy (ORMs, tenant column, root model, RLS wrapper, resolvers,
    scope helpers, guards, flags) and write a starter config: [tool.tenantlint] in
    pyproject.toml, else tenantlint.toml; then say how many findings it gives."""
    from tenantlint.engine import load_project, run
    from tenantlint.init import init as run_init

    target, found = run_init(path or Path.cwd(), force)
    for note in found.notes:
        click.echo(f"  {note}")
    click.echo(f"tenantlint: wrote the configuration to {target.name}; review it")
    result = run(load_project([target.parent]))
    n, where = len(result.findings), len({f.path for f in result.findings})
    click.echo(
        f"tenantlint: with this config: {n} finding{'s' * (n != 1)} in {where} "
        f"file{'s' * (where != 1)} ({result.files_scanned} scanned); `tenantlint check` lists them"
    )


@main.command("db-audit")
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="PostgreSQL URL or conninfo (default: $DATABASE_URL). Its password is never printed.",
)
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="Config file to use."
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    help="Audit only this schema (repeatable; default: every non-system schema).",
)
@click.option(
    "--compare-migrations",
    "compare",
    is_flag=False,
    flag_value=".",
    default=None,
    type=click.Path(path_type=Path),
    help="Also report drift between the database and the migrations of the project at PATH "
    '(default ".").',
)
@_selection_and_output
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks of internal errors.")
def db_audit(
    database_url: str | None,
    config_file: Path | None,
    schemas: tuple[str, ...],
    compare: Path | None,
    select: list[str] | None,
    extend_select: list[str] | None,
    ignore: list[str] | None,
    fmt: str,
    output: Path | None,
    color: str,
    fail_on: str,
    verbose: bool,
) -> None:
    """Audit a live PostgreSQL database: tables, RLS, policies, and the connecting role.
    Findings are reported at `db:<schema>.<table>`."""
    from tenantlint import dbaudit
    from tenantlint.engine import RunResult, _fingerprinted, enabled_rules, load_project
    from tenantlint.facts import FileFacts
    from tenantlint.registry import load_registry

    ctx = click.get_current_context()
    ctx.meta[VERBOSE] = verbose
    if not database_url:
        raise UserError("db-audit needs a database: --database-url URL or $DATABASE_URL")
    # without --compare-migrations, the project is the config's (its model names give tables)
    start = compare or (config_file.parent if config_file is not None else Path.cwd())
    project = load_project([start], config_file)
    cfg = project.config
    enabled = enabled_rules(load_registry(), cfg, select, extend_select or (), ignore or ())
    catalog = dbaudit.read_catalog(database_url, schemas)
    migrations: dict[str, FileFacts] = {}
    if project.config_path is not None or compare is not None:  # never scan a stray directory
        cfg, migrations = dbaudit.project_context(project.root, cfg)
    audited = dbaudit.audit(catalog, cfg, enabled, migrations if compare is not None else None)
    result = RunResult(project, audited.tmap, enabled, files_scanned=len(catalog.files))
    result.findings = _fingerprinted(audited.findings)
    ctx.exit(_emit(result, fmt, output, fail_on, color, quiet=True))
