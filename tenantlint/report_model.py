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
    code: str
    name: str
    severity: str
    summary: str
    help_markdown: str


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

    def source_line(self, path: str, line: int) -> str | None:
        try:
            with (self.root / os_path(path)).open(encoding="utf-8", errors="replace") as fh:
                for n, text in enumerate(fh, 1):
                    if n == line:
                        return text.rstrip("\n")
        except OSError:
            return None
        return None


def rule_markdown(rule: type[Rule]) -> str:
    """The rule's documentation as Markdown: `explain`, SARIF help and the README share it."""
    parts = [
        f"## {rule.code} {rule.name}",
        "",
        f"*Default severity:* {rule.severity}; *enabled by default:* {'yes' if rule.enabled_by_default else 'no'}",
        "",
        rule.summary,
        "",
        rule.rationale,
    ]
    for title, files in (("Bad", rule.bad), ("Good", rule.good)):
        parts += ["", f"### {title}"]
        for path, content in files.items():
            parts += ["", f"`{path}`", "", "```" + _fence_lang(path), content.rstrip("\n"), "```"]
    return "\n".join(parts) + "\n"


def _fence_lang(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1]
    return {
        "ts": "ts",
        "tsx": "tsx",
        "js": "js",
        "py": "python",
        "sql": "sql",
        "toml": "toml",
        "prisma": "prisma",
    }.get(suffix, "")


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
        rules=[
            RuleInfo(
                code=code,
                name=registry.rules[code].name,
                severity=registry.rules[code].severity,
                summary=registry.rules[code].summary,
                help_markdown=rule_markdown(registry.rules[code]),
            )
            for code in result.enabled
        ],
        suppressed=[
            SuppressedFinding(finding=s.finding, reason=s.reason) for s in result.suppressed
        ],
        root=result.project.root,
    )
