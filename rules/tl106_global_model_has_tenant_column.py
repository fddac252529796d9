"""TL106 global-model-has-tenant-column: a global model or the tenant root carries a tenant column."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap


class GlobalModelHasTenantColumn(Rule):
    code = "TL106"
    name = "global-model-has-tenant-column"
    severity = "warning"
    security_severity = 4.3
    cwe = (284,)
    precision = "medium"
    config_keys = ("tenant-fields", "tenant-models", "global-models")
    fix = "remove the tenant column, or take the model out of global-models (tenant-models) if its rows belong to a tenant"
    summary = "A model declared global (or the tenant root) that carries a tenant column."
    rationale = (
        "Declaring a model global tells every rule that its rows are shared by all tenants, so its "
        "queries are not checked for a tenant filter. If it also has a tenant column, its rows do "
        "belong to tenants and those unchecked queries leak them — or the column is dead weight. "
        "One of the two declarations is wrong."
    )
    bad = {
        "tenantlint.toml": 'global-models = ["Plan"]\n',
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Plan {\n"
            "  id       String @id\n"
            "  tenantId String // expect: TL106\n"
            "}\n"
        ),
    }
    good = {
        "tenantlint.toml": 'global-models = ["Plan"]\n',
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Plan {\n"
            "  id   String @id\n"
            "  name String\n"
            "}\n"
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info in tmap.entities:
            t = info.tenant_field
            if info.decl.unmanaged:
                continue  # a library's table (a history copy, an ignored model): not declared
            if t is not None and info.classification in ("global", "root"):
                what = "the tenant root" if info.classification == "root" else "declared global"
                key = "tenant-models" if info.classification == "root" else "global-models"
                yield self.finding(
                    t.loc,
                    f"'{info.name}' is {what} but carries tenant column {t.name}",
                    f"remove {t.name} from '{info.name}', or, if its rows belong to a tenant, "
                    f"take '{info.name}' out of {key}",
                )
