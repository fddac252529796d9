"""TL403 tenant-guard-not-registered: an ORM client created without the configured guard."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._examples import SCHEMA
from ._fixes import first
from ._py_examples import sqlalchemy

_GUARD = (
    'import type { PrismaClient } from "@prisma/client";\n\n'
    "export function registerTenantGuard(client: PrismaClient) {\n"
    "  return client.$extends({ query: { $allOperations: ({ args, query }) => query(args) } });\n"
    "}\n"
)


_SA_DB = """\
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker, with_loader_criteria

engine = create_engine("postgresql://localhost/app")


def register_tenant_guard(factory: sessionmaker) -> sessionmaker:
    @event.listens_for(factory, "do_orm_execute")
    def _add_criteria(state) -> None:
        tenant_id = state.session.info["tenant_id"]
        state.statement = state.statement.options(
            with_loader_criteria(lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
        )

    return factory


SessionLocal = register_tenant_guard(sessionmaker(bind=engine))
ReportingSession = {reporting}


def get_db():
    with SessionLocal() as session:
        yield session
"""


class TenantGuardNotRegistered(Rule):
    code = "TL403"
    name = "tenant-guard-not-registered"
    severity = "error"
    security_severity = 6.5
    cwe = (284,)
    precision = "medium"
    config_keys = ("guards", "non-product-code")
    fix = "apply the tenant guard to the client where it is created"
    summary = "An ORM client created without the project's configured tenant guard applied to it."
    rationale = (
        "A client-wide tenant guard (a Prisma extension or middleware that refuses unscoped "
        "queries) protects only the clients it is installed on. A second `new PrismaClient()` — "
        "in a script, a worker, a hot-reload branch — silently runs without it."
    )
    bad = {
        "prisma/schema.prisma": SCHEMA,
        "lib/guard.ts": _GUARD,
        "lib/prisma.ts": (
            'import { PrismaClient } from "@prisma/client";\n'
            'import { registerTenantGuard } from "./guard";\n\n'
            "export const prisma = registerTenantGuard(new PrismaClient());\n"
            "export const reporting = new PrismaClient(); // expect: TL403\n"
        ),
    }
    good = {
        "prisma/schema.prisma": SCHEMA,
        "lib/guard.ts": _GUARD,
        "lib/prisma.ts": (
            'import { PrismaClient } from "@prisma/client";\n'
            'import { registerTenantGuard } from "./guard";\n\n'
            "const base = new PrismaClient();\n"
            "export const prisma = registerTenantGuard(base);\n"
        ),
    }

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {"app/db.py": _SA_DB.format(reporting="sessionmaker(bind=engine)  # expect: TL403")}
            ),
            sqlalchemy(
                {
                    "app/db.py": _SA_DB.format(
                        reporting="register_tenant_guard(sessionmaker(bind=engine))"
                    )
                }
            ),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        if not any(f.guard_defined for f in tmap.iter_files()):
            return
        guards = ", ".join(tmap.config.guards)
        # a guard applied in another module, to a binding of the same name (`registerTenantGuard(prisma)`)
        applied = {name for f in tmap.iter_files() for name in f.guard_targets}
        for facts in tmap.iter_files():
            for client in facts.clients:
                if not client.guarded and client.binding not in applied:
                    yield self.finding(
                        client.loc,
                        f"{client.kind} created without the tenant guard ({guards})",
                        f"apply the guard where the client is created: "
                        f"`{first(tmap.config.guards, 'registerTenantGuard')}({client.binding or 'client'})`",
                    )
