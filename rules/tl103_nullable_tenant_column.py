"""TL103 nullable-tenant-column: the tenant column is optional/nullable."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._fixes import required_tenant
from ._py_examples import DJANGO_MODELS, SQLALCHEMY_MODELS


class NullableTenantColumn(Rule):
    code = "TL103"
    name = "nullable-tenant-column"
    severity = "error"
    security_severity = 5.4
    cwe = (284,)
    precision = "high"
    config_keys = ("tenant-fields", "tenant-models", "global-models")
    fix = "backfill the rows without a tenant, then make the tenant column required"
    summary = "The tenant column of a tenant-scoped model is optional (nullable)."
    rationale = (
        "A row whose tenant is NULL belongs to nobody: `tenant_id = $1` never matches it, an RLS "
        "policy hides it from everyone or — with `IS NULL` fallbacks — shows it to everyone, and "
        "unique constraints that include the tenant column stop applying (NULLs are distinct). "
        "Make the tenant column NOT NULL."
    )
    bad = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Project {\n"
            "  id       String  @id @default(uuid())\n"
            "  tenantId String? // expect: TL103\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }
    good = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Project {\n"
            "  id       String @id @default(uuid())\n"
            "  tenantId String\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }

    examples = {
        "sqlalchemy": (
            {
                "app/models.py": SQLALCHEMY_MODELS.replace(
                    'tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)',
                    'tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)  # expect: TL103',
                )
            },
            {"app/models.py": SQLALCHEMY_MODELS},
        ),
        "django": (
            {
                "projects/models.py": DJANGO_MODELS.replace(
                    "on_delete=models.CASCADE)",
                    "on_delete=models.CASCADE, null=True)  # expect: TL103",
                )
            },
            {"projects/models.py": DJANGO_MODELS},
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info in tmap.entities:
            t = info.tenant_field
            if info.classification == "scoped" and t is not None and t.optional:
                yield self.finding(
                    t.loc,
                    f"tenant column {t.name} of '{info.name}' is nullable",
                    required_tenant(info, t.loc.path),
                )
