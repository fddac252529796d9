"""Building blocks of the code rules' example projects (a tiny Prisma + Next.js app)."""

from __future__ import annotations

SCHEMA = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Tenant {
  id       String    @id @default(uuid())
  projects Project[]
}

model Project {
  id       String @id @default(uuid())
  tenantId String
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  name     String

  @@index([tenantId])
}
"""

PRISMA_CLIENT = """\
import { PrismaClient } from "@prisma/client";

export const prisma = new PrismaClient();
"""

# RLS on `Project`, and the wrapper that enters it transaction-locally.
RLS_MIGRATION = """\
CREATE TABLE "Tenant" ("id" TEXT NOT NULL, CONSTRAINT "Tenant_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Project" (
  "id" TEXT NOT NULL,
  "tenantId" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  CONSTRAINT "Project_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Project_tenantId_idx" ON "Project"("tenantId");
ALTER TABLE "Project" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Project" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Project"
  USING ("tenantId" = current_setting('app.current_tenant_id')::text)
  WITH CHECK ("tenantId" = current_setting('app.current_tenant_id')::text);
"""

RLS_WRAPPER = """\
import { Prisma } from "@prisma/client";
import { prisma } from "./prisma";

export function withTenantRLS<T>(tenantId: string, fn: (tx: Prisma.TransactionClient) => Promise<T>) {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT set_config('app.current_tenant_id', ${tenantId}, true)`;
    return fn(tx);
  });
}
"""


def with_files(files: dict[str, str], rls: bool = False) -> dict[str, str]:
    """The schema and client (and, with `rls`, the RLS migration and wrapper) plus `files`."""
    base = {"prisma/schema.prisma": SCHEMA, "lib/prisma.ts": PRISMA_CLIENT}
    if rls:
        base["prisma/migrations/0001_rls/migration.sql"] = RLS_MIGRATION
        base["lib/rls.ts"] = RLS_WRAPPER
    return {**base, **files}
