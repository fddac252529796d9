"""The rule interface shared by built-in rules and plugins, and the finding it yields.

A rule is one class: identity (`code`, `name`), documentation with bad/good example projects,
and `check`, which reads the tenancy map and yields findings (or unverified sites). Rules never
parse files. Copy any module in `rules/` to start a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from tenantlint.facts import Loc, Unverified

if TYPE_CHECKING:
    from tenantlint.tenancy import TenancyMap

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
Precision = Literal["very-high", "high", "medium", "low"]  # SARIF / GitHub code scanning's scale
Files = dict[str, str]  # an example project: relative path → content


class Finding(BaseModel):
    """One reported problem; the JSON output's `findings[]` item (SPEC)."""

    model_config = ConfigDict(frozen=True)

    rule: str
    name: str
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fingerprint: str = ""
    # not part of the JSON contract: the concrete fix, in the syntax of the flagged file (text
    # output), and the normalised source of the flagged node (fingerprints)
    help: str = ""
    snippet: str = ""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)


class Rule:
    """Base class of every rule. Subclasses set the class attributes and implement `check`."""

    code: ClassVar[str]  # TL102 — stable, used by suppressions and config
    name: ClassVar[str]  # unique-not-tenant-scoped — stable kebab-case alias of the code
    severity: ClassVar[Severity] = "error"
    enabled_by_default: ClassVar[bool] = True
    summary: ClassVar[str]  # one line: what it flags
    rationale: ClassVar[str]  # one paragraph: why it matters
    # Example projects: relative path → file content, with `expect: CODE` markers in the bad ones.
    # `tenantlint.toml` may be among the files, to configure the example.
    bad: ClassVar[Files]
    good: ClassVar[Files]
    # More bad/good pairs for other stacks (`sqlalchemy`, `django`); `explain` shows the project's.
    examples: ClassVar[dict[str, tuple[Files, Files]]] = {}
    fix: ClassVar[str] = ""  # how to fix a finding, when the finding itself says no more
    config_keys: ClassVar[tuple[str, ...]] = ()  # the settings that change what it reports
    # For security dashboards (SARIF `properties`): a CVSS-like figure, 0-10 (None: not a security
    # finding), the weaknesses it detects (CWE ids), and how often a finding is a true problem.
    security_severity: ClassVar[float | None] = None
    cwe: ClassVar[tuple[int, ...]] = ()
    precision: ClassVar[Precision] = "medium"

    def check(self, tmap: TenancyMap) -> Iterable[Finding | Unverified]:
        raise NotImplementedError

    def finding(self, loc: Loc, message: str, help: str = "") -> Finding:
        """A finding of this rule at `loc`, with the concrete fix (`help`; the rule's `fix` when
        empty). Severity overrides are applied by the engine."""
        return Finding(
            rule=self.code,
            name=self.name,
            severity=self.severity,
            path=loc.path,
            line=loc.line,
            column=loc.column,
            end_line=max(loc.end_line, loc.line),
            end_column=loc.end_column if loc.end_line else loc.column,
            message=message,
            help=help or self.fix,
            snippet=loc.snippet,
        )

    def unverified(self, loc: Loc, reason: str) -> Unverified:
        """A site this rule could not decide: it goes to the audit report, not the exit code."""
        return Unverified(loc=loc, kind=self.code, reason=reason)
