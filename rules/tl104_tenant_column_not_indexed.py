"""TL104 tenant-column-not-indexed: no index on a tenant-scoped model leads with the tenant column."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._fixes import tenant_index
from ._py_examples import SQLALCHEMY_MODELS


class TenantColumnNotIndexed(Rule):
    code = "TL104"
    name = "tenant-column-not-indexed"
    severity = "warning"
    precision = "high"
    config_keys = ("tenant-fields", "tenant-models", "global-models")
    fix = "index the tenant column, or lead a compound key with it"
    summary = (
        "No index, unique or primary key of a tenant-scoped model leads with the tenant column."
    )
    rationale = (
        "Every query of a tenant-scoped table filters on the tenant column, and so does every RLS "
        "policy, on every row it checks. Without an index that starts with that column each of them "
        "scans the whole table — all tenants' rows — and one large tenant slows down every other."
    )
    bad = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Invoice {\n"
            "  id       String @id @default(uuid())\n"
            "  tenantId String // expect: TL104\n"
            "  number   Int\n"
            "}\n"
        ),
    }
    good = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Invoice {\n"
            "  id       String @id @default(uuid())\n"
            "  tenantId String\n"
            "  number   Int\n"
            "  @@unique([tenantId, number])\n"
            "}\n"
        ),
    }

    examples = {
        "sqlalchemy": (
            {
                "app/models.py": SQLALCHEMY_MODELS.replace(
                    '    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)\n', ""
                ).replace(
                    'ForeignKey("tenants.id"), index=True)',
                    'ForeignKey("tenants.id"))  # expect: TL104',
                )
            },
            {"app/models.py": SQLALCHEMY_MODELS},
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info in tmap.entities:
            t = info.tenant_field
            if info.classification != "scoped" or t is None or t.indexed or t.is_id:
                continue
            if not any(i.fields and info.includes_tenant(i.fields[:1]) for i in info.indexes):
                yield self.finding(
                    t.loc,
                    f"no index of '{info.name}' starts with its tenant column {t.name}",
                    tenant_index(info, t.loc.path),
                )
