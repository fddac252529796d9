"""TL101 missing-tenant-column: a model/table neither tenant-scoped, global, nor the tenant root."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._fixes import first
from ._py_examples import DJANGO_MODELS, SQLALCHEMY_MODELS

_SA_TENANT = '    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)\n'
_SA_AUDIT = """

class AuditLog(Base):{mark}
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
{tenant}    action: Mapped[str]
"""
_DJ_TENANT = "    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)\n"
_DJ_AUDIT = """

class AuditLog(models.Model):{mark}
{tenant}    action = models.CharField(max_length=100)
"""


class MissingTenantColumn(Rule):
    code = "TL101"
    name = "missing-tenant-column"
    severity = "error"
    security_severity = 7.5
    cwe = (639, 284)
    precision = "medium"
    config_keys = ("tenant-fields", "tenant-models", "global-models")
    fix = "add a required tenant column, or list the model in global-models if every tenant shares its rows"
    summary = (
        "A model or table that is neither tenant-scoped, scoped via its parent, declared global, "
        "nor the tenant root."
    )
    rationale = (
        "Every table in a multi-tenant database either belongs to one tenant (and carries the "
        "tenant column every query and policy filters on) or is shared on purpose. A table that is "
        "neither is where rows of different tenants end up side by side with nothing to tell them "
        "apart. Add the tenant column, or list the table in `global-models` to say it is shared. "
        "A table whose required foreign key leads to a tenant-scoped table (`InvoiceLine → "
        "Invoice`) is scoped via that parent and not reported; its queries are checked instead."
    )
    bad = {
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model AuditLog {  // expect: TL101\n"
            "  id      String @id @default(uuid())\n"
            "  message String\n"
            "}\n"
        ),
    }
    good = {
        "tenantlint.toml": 'global-models = ["Country"]\n',
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Country {\n  code String @id\n}\n"
            "model AuditLog {\n"
            "  id       String @id @default(uuid())\n"
            "  tenantId String\n"
            "  message  String\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }

    examples = {
        "sqlalchemy": (
            {
                "app/models.py": SQLALCHEMY_MODELS
                + _SA_AUDIT.format(mark="  # expect: TL101", tenant="")
            },
            {"app/models.py": SQLALCHEMY_MODELS + _SA_AUDIT.format(mark="", tenant=_SA_TENANT)},
        ),
        "django": (
            {
                "projects/models.py": DJANGO_MODELS
                + _DJ_AUDIT.format(mark="  # expect: TL101", tenant="")
            },
            {"projects/models.py": DJANGO_MODELS + _DJ_AUDIT.format(mark="", tenant=_DJ_TENANT)},
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        fields = ", ".join(tmap.config.tenant_fields)
        tenant = first(tmap.config.tenant_fields, "tenantId")
        root = first(tmap.config.tenant_models, "the tenant root")
        for info in tmap.entities:
            if info.classification == "unscoped" and info.decl.kind != "view":
                yield self.finding(
                    info.decl.loc,
                    f"'{info.name}' has no tenant column ({fields}) and is neither the tenant root nor "
                    "listed in global-models",
                    f"give '{info.name}' a required tenant column ({tenant}) that references "
                    f"{root}, or add '{info.name}' to global-models if every tenant shares its rows",
                )
