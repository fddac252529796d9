"""TL003 invalid-suppression: a suppression naming an unknown code, or malformed."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap


class InvalidSuppression(Rule):
    code = "TL003"
    name = "invalid-suppression"
    severity = "warning"
    precision = "very-high"
    fix = (
        "name the rules it silences, and why: `tenantlint: ignore[TL301] the id is a signed token`"
    )
    summary = "A suppression comment that names an unknown rule or names none."
    rationale = (
        "A blanket `tenantlint: ignore` would silence every rule on the line, including the ones "
        "written after it; a misspelt code silences nothing while looking as if it did. Both are "
        "reported so every suppression says exactly what it silences."
    )
    bad = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "// tenantlint: ignore expect: TL003\n"
            "model Project {\n"
            "  id       String @id\n"
            "  tenantId String // tenantlint: ignore[TL999] expect: TL003\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }
    good = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "// tenantlint: ignore[TL101] shared lookup table, same for every tenant\n"
            "model Country {\n"
            "  code String @id\n"
            "}\n"
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        # Decided by the engine from the suppression comments (see tenantlint/suppressions.py).
        return iter(())
