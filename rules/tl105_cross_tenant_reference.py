"""TL105 cross-tenant-reference: a relation between tenant-scoped models whose key omits the tenant."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import EntityInfo, TenancyMap

from ._fixes import syntax_of


class CrossTenantReference(Rule):
    code = "TL105"
    name = "cross-tenant-reference"
    severity = "warning"
    enabled_by_default = False
    security_severity = 6.5
    cwe = (639,)
    precision = "medium"
    config_keys = ("tenant-fields", "tenant-models", "global-models")
    fix = "make the foreign key composite, tenant column first, referencing a unique (tenant column, id) of the target"
    summary = (
        "A foreign key between two tenant-scoped models that does not include the tenant column."
    )
    rationale = (
        "A foreign key on `project_id` alone lets a task of tenant A point at a project of tenant B: "
        "the database checks that the project exists, not whose it is. A compound foreign key "
        "`(tenant_id, project_id)` → `(tenant_id, id)` makes the database refuse the cross-tenant "
        "link. Off by default: many schemas rely on the application for this."
    )
    bad = {
        "tenantlint.toml": 'extend-select = ["TL105"]\n',
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Project {\n"
            "  id       String @id\n"
            "  tenantId String\n"
            "  tasks    Task[]\n"
            "  @@unique([tenantId, id])\n"
            "}\n"
            "model Task {\n"
            "  id        String  @id\n"
            "  tenantId  String\n"
            "  projectId String\n"
            "  project   Project @relation(fields: [projectId], references: [id])  // expect: TL105\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }
    good = {
        "tenantlint.toml": 'extend-select = ["TL105"]\n',
        "prisma/schema.prisma": (
            "model Tenant {\n  id String @id\n}\n"
            "model Project {\n"
            "  id       String @id\n"
            "  tenantId String\n"
            "  tasks    Task[]\n"
            "  @@unique([tenantId, id])\n"
            "}\n"
            "model Task {\n"
            "  id        String  @id\n"
            "  tenantId  String\n"
            "  projectId String\n"
            "  project   Project @relation(fields: [tenantId, projectId], references: [tenantId, id])\n"
            "  @@index([tenantId])\n"
            "}\n"
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for info in tmap.entities:
            if info.classification != "scoped":
                continue
            for f in info.fields:
                rel = f.relation
                if rel is None or not rel.fields or not tmap.is_tenant_scoped(rel.target):
                    continue
                if not info.includes_tenant(rel.fields):
                    yield self.finding(
                        f.loc,
                        f"'{info.name}.{f.name}' references tenant-scoped '{rel.target}' by "
                        f"({', '.join(rel.fields)}) without the tenant column: rows may link across tenants",
                        _composite(info, f.loc.path, rel.fields, rel.references),
                    )


def _composite(info: EntityInfo, path: str, fields: tuple[str, ...], refs: tuple[str, ...]) -> str:
    """The composite foreign key, tenant column first, in the declaration's syntax."""
    t = info.tenant_field
    tenant = (t.name if syntax_of(info, path) == "prisma" else t.column) if t else "tenantId"
    own, theirs = ", ".join((tenant, *fields)), ", ".join((tenant, *(refs or ("id",))))
    if syntax_of(info, path) == "prisma":
        return (
            f"`@relation(fields: [{own}], references: [{theirs}])`, with "
            f"`@@unique([{theirs}])` on the target"
        )
    return f"reference ({theirs}) of the target by ({own}), with a unique ({theirs}) there"
