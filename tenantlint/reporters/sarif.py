"""SARIF 2.1.0: rules with their docs as `help.markdown` and a `helpUri`, and, for security
dashboards (GitHub code scanning), `security-severity`, `tags` (`security`, CWE ids) and
`precision`; results with partial fingerprints, suppressed findings too, with `suppressions[]`."""

from __future__ import annotations

import json
from typing import Any

from tenantlint import REPOSITORY
from tenantlint.report_model import Report, RuleInfo
from tenantlint.reporters.escape import uri_path
from tenantlint.reporters.paths import PathStyle
from tenantlint.rule import Finding

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class SarifReporter:
    def render(
        self, report: Report, *, statistics: bool = False, quiet: bool = False, color: bool = False
    ) -> str:
        index = {r.code: i for i, r in enumerate(report.rules)}
        rules = [_rule(r) for r in report.rules]
        paths = PathStyle.of(report.root)  # code scanning resolves URIs from the repository
        results = [_result(f, index, paths) for f in report.findings]
        for s in report.suppressed:
            res = _result(s.finding, index, paths)
            res["suppressions"] = [{"kind": "inSource", "justification": s.reason or "suppressed"}]
            results.append(res)
        doc = {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": report.tool.name,
                            "version": report.tool.version,
                            "informationUri": REPOSITORY,
                            "rules": rules,
                        }
                    },
                    "originalUriBaseIds": {"%SRCROOT%": {"uri": paths.repo.as_uri() + "/"}},
                    "results": results,
                }
            ],
        }
        return json.dumps(doc, indent=2) + "\n"


def _rule(r: RuleInfo) -> dict[str, Any]:
    properties: dict[str, Any] = {"precision": r.precision}
    if r.security_severity is not None:  # a string, as GitHub reads it
        properties["security-severity"] = f"{r.security_severity:.1f}"
        properties["tags"] = ["security", *(f"external/cwe/{c.lower()}" for c in r.cwe)]
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.rationale},
        "help": {"text": r.summary, "markdown": r.help_markdown},
        "helpUri": r.help_uri,
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": properties,
    }


def _result(f: Finding, index: dict[str, int], paths: PathStyle) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": uri_path(paths.in_repo(f.path)),
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": {
                        "startLine": f.line,
                        "startColumn": f.column,
                        "endLine": f.end_line,
                        "endColumn": max(f.end_column, 1),
                    },
                }
            }
        ],
        "partialFingerprints": {"tenantlint/v1": f.fingerprint},
    }
    if f.rule in index:
        res["ruleIndex"] = index[f.rule]
    return res
