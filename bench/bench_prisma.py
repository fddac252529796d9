"""Benchmark the Prisma front end and the schema rules on a generated schema.

    python bench/bench_prisma.py [--models 2000]

Prints parse time, map + rule time, models/s and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def generate(models: int) -> str:
    out = ['datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n']
    out.append("model Tenant {\n  id String @id @default(uuid())\n  name String\n}\n")
    for i in range(models):
        nullable = "?" if i % 17 == 0 else ""
        unique = "@unique" if i % 11 == 0 else ""
        index = "" if i % 13 == 0 else "  @@index([tenantId, createdAt])\n"
        out.append(
            f"/// Model number {i}\n"
            f"model M{i} {{\n"
            f'  id        String   @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid\n'
            f'  tenantId  String{nullable}  @map("tenant_id") @db.Uuid\n'
            f"  tenant    Tenant   @relation(fields: [tenantId], references: [id], onDelete: Cascade)\n"
            f"  slug      String   {unique}\n"
            f"  title     String   @db.VarChar(255)\n"
            f"  body      String?\n"
            f"  count     Int      @default(0)\n"
            f"  createdAt DateTime @default(now())\n"
            f"  updatedAt DateTime @updatedAt\n"
            f"  parentId  String?  @db.Uuid\n"
            f"  @@unique([tenantId, slug])\n"
            f"{index}"
            f'  @@map("m_{i}")\n'
            f"}}\n"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=2000)
    args = parser.parse_args()

    from tenantlint.config import Config
    from tenantlint.frontends.prisma import PrismaFrontEnd
    from tenantlint.registry import load_registry
    from tenantlint.tenancy import TenancyMap

    text = generate(args.models)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "schema.prisma").write_text(text)
        t0 = time.perf_counter()
        facts = PrismaFrontEnd().parse("schema.prisma", text, Config())
        t1 = time.perf_counter()
        tmap = TenancyMap(Config(), {"schema.prisma": facts})
        registry = load_registry()
        findings = [
            f for code in registry.resolve(None) for f in registry.rules[code]().check(tmap)
        ]
        t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"schema: {args.models} models, {len(text.splitlines())} lines, {len(text) / 1e6:.2f} MB")
    print(
        f"parse:  {t1 - t0:.3f} s  ({args.models / (t1 - t0):,.0f} models/s, {len(text) / 1e6 / (t1 - t0):.2f} MB/s)"
    )
    print(f"map + rules: {t2 - t1:.3f} s  ({len(findings)} findings)")
    print(f"total: {t2 - t0:.3f} s; peak memory {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
