"""The `Report` every reporter renders: findings, summary, and the docs of the rules that ran."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tenantlint import __version__
from tenantlint.discovery import os_path
from tenantlint.engine import RunResult
from tenantlint.registry import load_registry
from tenantlint.rule import Finding, Rule
from tenantlint.ruledocs import cwe_ids, help_uri, rule_markdown


class ToolInfo(BaseModel):
    name: str = "tenantlint"
    version: str = __version__


class Summary(BaseModel):
    files_scanned: int
    findings: int
    suppressed: int
    baselined: int
    by_rule: dict[str, int]


class RuleInfo(BaseModel):
    """What the formats say of a rule that ran (SARIF's `driver.rules[]`)."""

    code: str
    name: str
    severity: str
    summary: str
    rationale: str
    help_markdown: str
    help_uri: str
    security_severity: float | None
    cwe: list[str]
    precision: str

    @classmethod
    def of(cls, rule: type[Rule]) -> RuleInfo:
        return cls(
            code=rule.code,
            name=rule.name,
            severity=rule.severity,
            summary=rule.summary,
            rationale=rule.rationale,
            help_markdown=rule_markdown(rule),
            help_uri=help_uri(rule),
            security_severity=rule.security_severity,
            cwe=cwe_ids(rule),
            precision=rule.precision,
        )


class SuppressedFinding(BaseModel):
    finding: Finding
    reason: str


class JsonDocument(BaseModel):
    """The `--format json` document; its JSON schema is `JsonDocument.model_json_schema()`."""

    model_config = ConfigDict(extra="forbid")

    tool: ToolInfo
    findings: list[Finding]
    summary: Summary


class Report(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    tool: ToolInfo
    findings: list[Finding]
    summary: Summary
    rules: list[RuleInfo]  # the rules that ran (SARIF's driver.rules)
    suppressed: list[SuppressedFinding]
    root: Path  # to read code excerpts; not part of any output
    texts: dict[str, str] = {}  # contents that are not on disk (stdin), by project path

    def source_line(self, path: str, line: int) -> str | None:
        if path in self.texts:
            lines = self.texts[path].splitlines()
            return lines[line - 1] if 0 < line <= len(lines) else None
        try:
            with (self.root / os_path(path)).open(encoding="utf-8", errors="replace") as fh:
                for n, text in enumerate(fh, 1):
                    if n == line:
                        return text.rstrip("\n")
        except OSError:
            return None
        return None


def build_report(result: RunResult) -> Report:
    registry = load_registry()
    by_rule = Counter(f.rule for f in result.findings)
    return Report(
        tool=ToolInfo(),
        findings=result.findings,
        summary=Summary(
            files_scanned=result.files_scanned,
            findings=len(result.findings),
            suppressed=len(result.suppressed),
            baselined=len(result.baselined),
            by_rule=dict(sorted(by_rule.items())),
        ),
        rules=[RuleInfo.of(registry.rules[code]) for code in result.enabled],
        suppressed=[
            SuppressedFinding(finding=s.finding, reason=s.reason) for s in result.suppressed
        ],
        root=result.project.root,
        texts=result.texts,
    )
