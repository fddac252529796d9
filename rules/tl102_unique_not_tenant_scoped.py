"""TL102 unique-not-tenant-scoped: a unique constraint on a tenant-scoped model without the tenant column."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap


class UniqueNotTenantScoped(Rule):
    code = "TL102"
    name = "unique-not-tenant-scoped"
    severity = "error"
    summary = "A unique constraint or index on a tenant-scoped model that does not include the tenant column."
    rationale = (
        "A unique index on `email` across all tenants lets one tenant's data decide what another "
        "tenant may store: the second tenant to invite `ann@example.com` gets a constraint error, "
        "which also tells it that the address exists elsewhere. Uniqueness inside a tenant belongs "
        "in a compound key that starts with the tenant column. The primary key, and a single column "
        "whose default is generated globally unique (uuid(), cuid(), gen_random_uuid() …), are exempt."
    )
    bad = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model User {\n"
            "  id       String @id @default(uuid())\n"
            "  tenantId String\n"
            "  email    String @unique  // expect: TL102\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }
    good = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model User {\n"
            "  id        String @id @default(uuid())\n"
            "  tenantId  String\n"
            "  email     String\n"
            "  inviteKey String @unique @default(cuid())\n"
            "  @@unique([tenantId, email])\n"
            "}\n"
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info in tmap.entities:
            if info.classification != "scoped" or info.tenant_field is None:
                continue
            tenant = info.tenant_field.name
            for index in info.indexes:
                if not index.unique or index.primary or info.includes_tenant(index.fields):
                    continue
                if len(index.fields) == 1:
                    f = info.field(index.fields[0])
                    if f is not None and (f.generated_unique_default or f.is_id):
                        continue
                cols = ", ".join(index.fields) or "an expression"
                yield self.finding(
                    index.loc,
                    f"unique ({cols}) on tenant-scoped '{info.name}' does not include {tenant}: "
                    "it is enforced across all tenants",
                )
