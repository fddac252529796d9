"""TL002 unused-suppression: a suppression comment that matched no finding."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap


class UnusedSuppression(Rule):
    code = "TL002"
    name = "unused-suppression"
    severity = "warning"
    precision = "very-high"
    fix = "remove the comment, or the codes in it that match no finding"
    summary = "A `tenantlint: ignore[…]` comment that silences nothing."
    rationale = (
        "Suppressions outlive the code they were written for. One that no longer matches a "
        "finding hides the next real finding on that line; removing it keeps every remaining "
        "suppression meaningful (ruff's RUF100)."
    )
    bad = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Project {\n"
            "  id       String @id\n"
            "  tenantId String // tenantlint: ignore[TL103] expect: TL002\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }
    good = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Project {\n"
            "  id       String  @id\n"
            "  tenantId String? // tenantlint: ignore[TL103] backfill runs first\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        # Decided by the engine once every other rule has run (see tenantlint/suppressions.py).
        return iter(())
