"""Code rules on TypeScript projects: cases beyond the rules' documented examples."""

from __future__ import annotations

from pathlib import Path

from support import actual_findings, run_check, write_project

SCHEMA = """\
datasource db {
  provider = "PROVIDER"
  url      = env("DATABASE_URL")
}

model Tenant {
  id    String  @id @default(uuid())
  tasks Task[]
}

model Task {
  id       String @id @default(uuid())
  tenantId String
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  title    String

  @@index([tenantId])
  @@map("tasks")
}
"""

REPORT = """\
import { prisma } from "./prisma";

export async function titles(id: string) {
  return prisma.$queryRaw`SELECT \\`title\\` FROM \\`tasks\\` WHERE \\`id\\` = ${id}`;
}
"""


def test_mysql_raw_sql_is_read_in_the_datasource_dialect(tmp_path: Path) -> None:
    files = {"prisma/schema.prisma": SCHEMA.replace("PROVIDER", "mysql"), "lib/report.ts": REPORT}
    _, data = run_check(write_project(tmp_path, files), "--select", "TL304")
    assert actual_findings(data) == {("lib/report.ts", 4, "TL304")}


def test_unparseable_sql_is_unverified_not_a_finding(tmp_path: Path) -> None:
    files = {
        "prisma/schema.prisma": SCHEMA.replace("PROVIDER", "postgresql"),
        "lib/report.ts": REPORT,
    }
    _, data = run_check(write_project(tmp_path, files), "--select", "TL304")
    assert actual_findings(data) == set()


def test_deliberate_cross_tenant_code_is_suppressed_with_a_reason(tmp_path: Path) -> None:
    job = (
        'import { prisma } from "./prisma";\n'
        "// tenantlint: ignore[TL301] because the nightly purge spans every tenant\n"
        "export const purge = () => prisma.task.deleteMany({ where: { title: '' } });\n"
        "export const leak = () => prisma.task.findUnique({ where: { id: LAST_TASK } });\n"
    )
    files = {"prisma/schema.prisma": SCHEMA.replace("PROVIDER", "postgresql"), "lib/job.ts": job}
    _, data = run_check(write_project(tmp_path, files), "--select", "TL301")
    assert actual_findings(data) == {("lib/job.ts", 4, "TL301")}
    assert data["summary"]["suppressed"] == 1


GUARD = (
    "export function registerTenantGuard(client: any) {\n"
    "  return client.$use(async (params: any, next: any) => next(params));\n"
    "}\n"
)


def test_guard_applied_in_another_module_counts_for_the_binding(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "prisma/schema.prisma": SCHEMA.replace("PROVIDER", "postgresql"),
            "lib/guard.ts": GUARD,
            "lib/db.ts": (
                'import { PrismaClient } from "@prisma/client";\n\n'
                "export const prisma = new PrismaClient();\n"
                "export const reporting = new PrismaClient(); // expect: TL403\n"
            ),
            "instrumentation.ts": (
                'import { prisma } from "./lib/db";\n'
                'import { registerTenantGuard } from "./lib/guard";\n\n'
                "registerTenantGuard(prisma);\n"
            ),
        },
    )
    _, data = run_check(root, "--select", "TL403")
    assert actual_findings(data) == {("lib/db.ts", 4, "TL403")}
