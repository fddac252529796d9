"""TL001 parse-error: a file that could not be parsed."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap


class ParseErrorRule(Rule):
    code = "TL001"
    name = "parse-error"
    severity = "error"
    summary = "A file that could not be parsed; the rest of the run goes on."
    rationale = (
        "A file tenantlint cannot read is a file it cannot vouch for. Rather than skip it silently "
        "and exit 0, the run reports it and analyses everything else, so a syntax error (or a "
        "construct the parser does not know yet) never hides a tenancy leak."
    )
    bad = {
        "prisma/schema.prisma": (
            "model Tenant {\n"
            "  id String @id\n"
            "}\n"
            "model Broken {  // expect: TL001\n"
            "  id String @id\n"
        ),
    }
    good = {
        "prisma/schema.prisma": "model Tenant {\n  id String @id\n}\n",
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for facts in tmap.iter_files():
            for err in facts.parse_errors:
                yield self.finding(err.loc, err.message)
