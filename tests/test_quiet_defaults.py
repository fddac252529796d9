"""What is not a finding by default (PRECISION 15): DDL in raw SQL, constants interpolated into
SQL, an identity provider's directory tenant; and one TL001 per file, not one per statement.
Each case both ways: the harmless form unmarked, the broken one marked."""

from __future__ import annotations

from pathlib import Path

from support import actual_findings, expected_markers, run_check, write_project

CONFIG = 'tenant-fields = ["tenant_id"]\ntenant-models = ["Tenant"]\n'

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
"""

PY_SQL = """\
import enum

from sqlalchemy import text

NOTES = "notes"


class Kind(enum.Enum):
    AUDIT = "audit"


def maintain(session, table, tenant_id, kind):
    session.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    session.execute(text(f"CREATE INDEX ix_{table}_tenant ON {table} (tenant_id)"))
    session.execute(text(f"SELECT * FROM {NOTES} WHERE tenant_id = :t"), {"t": tenant_id})
    session.execute(text(f"SELECT * FROM notes WHERE kind = '{Kind.AUDIT.value}' AND tenant_id = 1"))
    session.execute(text(f"SELECT * FROM notes WHERE kind = '{kind}' AND tenant_id = 1"))  # expect: TL305


def resolve_directory(request):
    tenant_id = request.args.get("tenant_id") or "common"  # Entra ID's directory alias
    return tenant_id


def resolve_tenant(session):
    tenant_id = session.get("tenant_id") or "default"  # expect: TL502
    return tenant_id
"""

TS_SQL = """\
import { prisma } from "./db";

const TABLES = { AUDIT: "audit_log" } as const;

export async function purge(table: string, tenantId: string, name: string) {
  await prisma.$executeRawUnsafe(`ALTER TABLE ${table} DISABLE TRIGGER ALL`);
  await prisma.$queryRawUnsafe(`SELECT * FROM ${TABLES.AUDIT} WHERE tenant_id = $1`, tenantId);
  await prisma.$queryRawUnsafe(`SELECT * FROM notes WHERE name = '${name}' AND tenant_id = $1`, tenantId); // expect: TL305
}

export function authority(tenantId?: string) {
  return `https://login.microsoftonline.com/${tenantId || "common"}`;
}
"""

BROKEN_SQL = """\
CREATE TABL one (id int);  -- expect: TL001
CREATE TABL two (id int);
CREATE TABL three (id int);
"""


def test_quiet_defaults_both_ways(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "tenantlint.toml": CONFIG,
            "app/models.py": MODELS,
            "app/maintenance.py": PY_SQL,
            "web/purge.ts": TS_SQL,
            "db/migrations/001_broken.sql": BROKEN_SQL,
        },
    )
    _, data = run_check(root, "--select", "TL001,TL303,TL304,TL305,TL502")
    assert actual_findings(data) == expected_markers(root)
    (tl001,) = [f for f in data["findings"] if f["rule"] == "TL001"]
    assert tl001["message"].endswith("(and 2 more parse errors in this file)")


def test_code_rules_skip_non_product_code_unless_asked(tmp_path: Path) -> None:
    query = (  # a handler: code rules judge product code where a request reaches it
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
        "@router.delete('/notes/1')\n"
        "def purge(session):\n    session.query(Note).filter(Note.id == 1).delete()\n"
    )
    files = {
        "app/models.py": MODELS,
        "app/jobs.py": "from app.models import Note\n\n\n" + query,
        "tests/test_jobs.py": "from app.models import Note\n\n\n" + query,
        "scripts/backfill.py": "from app.models import Note\n\n\n" + query,
        "app/e2e/flows.py": "from app.models import Note\n\n\n" + query,
    }
    root = write_project(tmp_path / "default", {"tenantlint.toml": CONFIG, **files})
    _, data = run_check(root, "--select", "TL3")
    assert actual_findings(data) == {("app/jobs.py", 11, "TL301")}
    everything = write_project(
        tmp_path / "all", {"tenantlint.toml": CONFIG + "non-product-code = []\n", **files}
    )
    _, data = run_check(everything, "--select", "TL3")
    assert {f["path"] for f in data["findings"]} == {
        "app/jobs.py",
        "tests/test_jobs.py",
        "scripts/backfill.py",
        "app/e2e/flows.py",
    }


SCHEMA = """\
model Tenant {
  id String @id
}

model Tag {
  id       String @id @default(uuid())
  tenantId String
  name     String

  @@index([tenantId])
}
"""

TRPC = """\
import { prisma } from "@/lib/prisma";
import { api } from "@/trpc/server";
import { appRouter } from "@/server/routers";

export async function rename(ctx: Context, id: string, name: string) {
  const caller = appRouter.createCaller(ctx);
  await caller.tag.update({ id, name }); // a tRPC procedure, not Prisma
  await api.tag.delete({ id });
  return prisma.tag.update({ where: { id: LEGACY_TAG }, data: { name } }); // expect: TL301
}
"""


def test_trpc_callers_are_not_prisma_clients(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "tenantlint.toml": 'tenant-fields = ["tenantId"]\ntenant-models = ["Tenant"]\n',
            "prisma/schema.prisma": SCHEMA,
            "lib/tags.ts": TRPC,
        },
    )
    _, data = run_check(root, "--select", "TL301")
    assert actual_findings(data) == expected_markers(root)


GLOBAL_UNIQUES = """\
model Tenant {
  id String @id
}

model Billing {
  id               String @id @default(uuid())
  tenantId         String
  stripeCustomerId String @unique
  name             String @unique // expect: TL102

  @@index([tenantId])
}

model User {
  id       String @id
  tenantId String
  email    String @unique // expect: TL102

  @@index([tenantId])
}

model TrustRelationship {
  id       String @id
  tenantId String
  issuer   String
  audience String
  label    String

  @@unique([issuer, audience])
  @@unique([issuer, label]) // expect: TL102
  @@index([tenantId])
}
"""


def test_uniques_global_by_origin_are_not_tl102(tmp_path: Path) -> None:
    """Ids another system issued (a Stripe customer, an OIDC issuer and audience) are unique
    in the world; a name or an email is the tenant's."""
    root = write_project(
        tmp_path,
        {
            "tenantlint.toml": 'tenant-fields = ["tenantId"]\ntenant-models = ["Tenant"]\n',
            "prisma/schema.prisma": GLOBAL_UNIQUES,
        },
    )
    _, data = run_check(root, "--select", "TL102")
    assert actual_findings(data) == expected_markers(root)
