"""TL102 unique-not-tenant-scoped: a unique constraint on a tenant-scoped model without the tenant column."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import EntityInfo, TenancyMap

from ._fixes import unique_with_tenant
from ._py_examples import DJANGO_MODELS, SQLALCHEMY_MODELS

# A single unique column holding an unguessable secret is a capability token: global by design.
CAPABILITY = re.compile(r"(token|hash|secret|digest)$|^(hashed|secret)", re.IGNORECASE)
# an identifier another system issued (`stripe_invoice_id`, `stripeCustomerId`, `slack_app_id`,
# `ldap_dn`, an OIDC issuer and audience): unique in the world, whichever tenant holds it
EXTERNAL = re.compile(
    r"^(?:stripe|paddle|braintree|paypal|processor|provider|external|slack|github|gitlab|google"
    r"|apple|microsoft|azure|oauth|oidc|saml|sso|ldap|twilio|dispute|legacy)[_A-Z]?\w*"
    r"(?:id|Id|ID|_dn|Dn|key|Key)$|^(?:issuer|audience)$",
    re.IGNORECASE,
)


class UniqueNotTenantScoped(Rule):
    code = "TL102"
    name = "unique-not-tenant-scoped"
    severity = "error"
    security_severity = 5.3
    cwe = (284, 203)
    precision = "high"
    config_keys = ("tenant-fields", "tenant-models", "global-models")
    fix = "make the unique key start with the tenant column"
    summary = "A unique constraint or index on a tenant-scoped model that does not include the tenant column."
    rationale = (
        "A unique index on `email` across all tenants lets one tenant's data decide what another "
        "tenant may store: the second tenant to invite `ann@example.com` gets a constraint error, "
        "which also tells it that the address exists elsewhere. Uniqueness inside a tenant belongs "
        "in a compound key that starts with the tenant column. Exempt: the primary key; a single "
        "column whose default is generated globally unique (uuid(), cuid(), gen_random_uuid() …); a "
        "single foreign-key column of a one-to-one relation (its values are another table's ids); "
        "a single capability-token column (named `…token`, `…hash`, `…secret`, `hashed…`); and "
        "a key that contains a foreign key to a tenant-scoped row (`(project_id, name)`: one "
        "project's rows all belong to one tenant)."
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
            "  apiToken  String @unique\n"
            "  @@unique([tenantId, email])\n"
            "}\n"
        ),
    }

    examples = {
        "sqlalchemy": (
            {
                "app/models.py": SQLALCHEMY_MODELS.replace(
                    '(UniqueConstraint("tenant_id", "slug"),)',
                    '(UniqueConstraint("slug"),)  # expect: TL102',
                )
            },
            {"app/models.py": SQLALCHEMY_MODELS},
        ),
        "django": (
            {
                "projects/models.py": DJANGO_MODELS.replace(
                    "models.SlugField()", "models.SlugField(unique=True)  # expect: TL102"
                ).replace('\n\n    class Meta:\n        unique_together = [("tenant", "slug")]', "")
            },
            {"projects/models.py": DJANGO_MODELS},
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
                if any(_tenant_parent(tmap, info, f) for f in index.fields):
                    continue  # `(project_id, name)`: the project belongs to one tenant
                single = len(index.fields) == 1 and not index.expression
                if single and _globally_unique(info, index.fields[0]):
                    continue
                if not index.expression and all(EXTERNAL.match(f) for f in index.fields):
                    continue
                cols = ", ".join([*index.fields, *(["an expression"] if index.expression else [])])
                yield self.finding(
                    index.loc,
                    f"unique ({cols}) on tenant-scoped '{info.name}' does not include {tenant}: "
                    "it is enforced across all tenants",
                    unique_with_tenant(info, index.loc.path, index.fields),
                )


def _tenant_parent(tmap: TenancyMap, info: EntityInfo, name: str) -> bool:
    """A key column that references a tenant-scoped (or via-parent) row: values of one parent
    belong to one tenant, so a unique that contains it is partitioned by tenant (PRECISION 4)."""
    f = info.field(name)
    rel = f.relation if f is not None else None
    target = tmap.entity(rel.target) if rel is not None else None
    scoped = ("scoped", "via-parent")
    return target is not None and target is not info and target.classification in scoped


def _globally_unique(info: EntityInfo, name: str) -> bool:
    """Values unique across all tenants by construction, so a global unique leaks nothing."""
    if CAPABILITY.search(name) or EXTERNAL.match(name):
        return True
    f = info.field(name)
    if f is None:
        return False
    one_to_one_fk = any(
        r.relation is not None and r.relation.fields == (f.name,) for r in info.fields
    )
    return f.generated_unique_default or f.is_id or one_to_one_fk or bool(CAPABILITY.search(f.name))
