"""TL001 parse-error: a file that could not be parsed."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap


class ParseErrorRule(Rule):
    code = "TL001"
    name = "parse-error"
    severity = "error"
    precision = "very-high"
    fix = "fix the syntax error: until then, tenantlint cannot check this file"
    summary = "A file that could not be parsed; the rest of the run goes on."
    rationale = (
        "A file tenantlint cannot read is a file it cannot vouch for. Rather than skip it silently "
        "and exit 0, the run reports it and analyses everything else, so a syntax error (or a "
        "construct the parser does not know yet) never hides a tenancy leak. It is reported "
        "once per file, at the first error, with the count of the others."
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
            if not facts.parse_errors:
                continue
            # once per file, at the first error: a file in a dialect the parser does not know
            # would otherwise give one finding per statement
            errors = sorted(facts.parse_errors, key=lambda e: (e.loc.line, e.loc.column))
            more = len(errors) - 1
            suffix = f" (and {more} more parse error{'s' if more > 1 else ''} in this file)"
            yield self.finding(errors[0].loc, errors[0].message + (suffix if more else ""))
