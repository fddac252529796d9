"""Reporters: one small class per output format, registered by name."""

from __future__ import annotations

from typing import Protocol

from tenantlint.report_model import Report


class Reporter(Protocol):
    def render(
        self, report: Report, *, statistics: bool = False, quiet: bool = False, color: bool = False
    ) -> str: ...


def get_reporter(name: str) -> Reporter:
    from tenantlint.reporters import github, json_format, junit, markdown, sarif, text

    reporters: dict[str, Reporter] = {
        "text": text.TextReporter(),
        "json": json_format.JsonReporter(),
        "sarif": sarif.SarifReporter(),
        "github": github.GithubReporter(),
        "junit": junit.JunitReporter(),
        "markdown": markdown.MarkdownReporter(),
    }
    return reporters[name]
