"""Generate a synthetic multi-tenant monorepo for benchmarks.

    python bench/generate.py OUT --files 10000 [--seed 1]

The project mixes what tenantlint reads in real monorepos, in realistic proportions and sizes:
a multi-file Prisma schema, Prisma SQL migrations (tables, RLS, policies), Next.js route handlers
and services using Prisma, React components with no data access, SQLAlchemy models and FastAPI
routers, Django models and views, and plain utility modules. A small share of the code sites
are deliberately unscoped, so rules have something to report. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import shutil
from collections.abc import Callable
from pathlib import Path

# share of the files of each kind (the schema and migrations are sized from the model count)
MIX: dict[str, float] = {
    "ts_route": 0.22,
    "ts_service": 0.10,
    "tsx_component": 0.20,
    "ts_util": 0.08,
    "py_sqlalchemy_model": 0.04,
    "py_fastapi_router": 0.10,
    "py_django_model": 0.03,
    "py_django_view": 0.07,
    "py_util": 0.10,
}

WORDS = [
    "project",
    "invoice",
    "customer",
    "order",
    "payment",
    "ticket",
    "comment",
    "document",
    "folder",
    "report",
    "webhook",
    "member",
    "subscription",
    "invite",
    "label",
    "milestone",
    "board",
    "card",
    "task",
    "event",
    "note",
    "asset",
    "shipment",
    "product",
    "price",
    "coupon",
    "refund",
    "audit",
    "session",
    "device",
    "alert",
    "metric",
    "dashboard",
    "widget",
]


def camel(word: str) -> str:
    return word[:1].upper() + word[1:]


class Generator:
    def __init__(self, out: Path, files: int, seed: int) -> None:
        self.out = out
        self.files = files
        self.rng = random.Random(seed)
        n_models = max(8, min(300, files // 40))
        self.models = [f"{camel(self.rng.choice(WORDS))}{i}" for i in range(n_models)]
        self.written = 0

    def write(self, rel: str, text: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written += 1

    def model(self) -> str:
        return self.rng.choice(self.models)

    def run(self) -> None:
        self.write(".gitignore", "node_modules/\n.tenantlint_cache/\n")
        self.write(
            "tenantlint.toml",
            'tenant-fields = ["tenantId", "tenant_id"]\ntenant-models = ["Tenant", "tenants"]\n',
        )
        self.schema()
        self.migrations()
        budget = self.files - self.written
        kinds: dict[str, Callable[[int], tuple[str, str]]] = {
            "ts_route": self.ts_route,
            "ts_service": self.ts_service,
            "tsx_component": self.tsx_component,
            "ts_util": self.ts_util,
            "py_sqlalchemy_model": self.py_sqlalchemy_model,
            "py_fastapi_router": self.py_fastapi_router,
            "py_django_model": self.py_django_model,
            "py_django_view": self.py_django_view,
            "py_util": self.py_util,
        }
        plan = [k for k, share in MIX.items() for _ in range(round(budget * share))]
        while len(plan) < budget:
            plan.append("ts_util")
        for i, kind in enumerate(plan[:budget]):
            rel, text = kinds[kind](i)
            self.write(rel, text)

    # --- schema and migrations ---------------------------------------------------------

    def schema(self) -> None:
        head = (
            'generator client {\n  provider = "prisma-client-js"\n'
            '  previewFeatures = ["prismaSchemaFolder"]\n}\n\n'
            'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n\n'
            "model Tenant {\n  id        String   @id @default(cuid())\n  name      String\n"
            "  slug      String   @unique\n  createdAt DateTime @default(now())\n}\n"
        )
        self.write("prisma/schema/schema.prisma", head)
        for start in range(0, len(self.models), 20):
            blocks = [
                self.prisma_model(m, start + k)
                for k, m in enumerate(self.models[start : start + 20])
            ]
            self.write(f"prisma/schema/models_{start // 20}.prisma", "\n".join(blocks))

    def prisma_model(self, name: str, n: int) -> str:
        rng = self.rng
        fields = [
            "  id        String   @id @default(cuid())",
            "  tenantId  String",
            "  tenant    Tenant   @relation(fields: [tenantId], references: [id])",
            "  name      String",
            "  slug      String",
            '  status    String   @default("active")',
            "  amount    Int?",
            "  createdAt DateTime @default(now())",
            "  updatedAt DateTime @updatedAt",
        ]
        fields += [f"  field{j}    String?" for j in range(rng.randint(2, 8))]
        attrs = ["  @@index([tenantId])"]
        # every tenth model carries a unique that forgets the tenant (a TL102 to find)
        attrs.append("  @@unique([slug])" if n % 10 == 3 else "  @@unique([tenantId, slug])")
        return f"model {name} {{\n" + "\n".join([*fields, "", *attrs]) + "\n}\n"

    def migrations(self) -> None:
        per = 6
        for n, start in enumerate(range(0, len(self.models), per)):
            stmts = [self.create_table(m) for m in self.models[start : start + per]]
            self.write(f"prisma/migrations/2024{n:06d}_init_{n}/migration.sql", "\n".join(stmts))

    def create_table(self, name: str) -> str:
        forced = self.rng.random() < 0.8
        return (
            f'CREATE TABLE "{name}" (\n'
            '    "id" TEXT NOT NULL,\n    "tenantId" TEXT NOT NULL,\n    "name" TEXT NOT NULL,\n'
            '    "slug" TEXT NOT NULL,\n    "status" TEXT NOT NULL DEFAULT \'active\',\n'
            '    "amount" INTEGER,\n'
            '    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n'
            '    "updatedAt" TIMESTAMP(3) NOT NULL,\n'
            f'    CONSTRAINT "{name}_pkey" PRIMARY KEY ("id")\n);\n\n'
            f'CREATE INDEX "{name}_tenantId_idx" ON "{name}"("tenantId");\n'
            f'CREATE UNIQUE INDEX "{name}_tenantId_slug_key" ON "{name}"("tenantId", "slug");\n'
            f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_tenantId_fkey" FOREIGN KEY ("tenantId") '
            'REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n'
            f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY;\n'
            + (f'ALTER TABLE "{name}" FORCE ROW LEVEL SECURITY;\n' if forced else "")
            + f'CREATE POLICY tenant_isolation ON "{name}"\n'
            f"    USING (\"tenantId\" = current_setting('app.tenant_id', true))\n"
            f"    WITH CHECK (\"tenantId\" = current_setting('app.tenant_id', true));\n"
        )

    # --- TypeScript ----------------------------------------------------------------------

    def ts_route(self, i: int) -> tuple[str, str]:
        m = self.model()
        d = m[:1].lower() + m[1:]
        unscoped = self.rng.random() < 0.05
        where = "{ id: params.id }" if unscoped else "{ id: params.id, tenantId }"
        body = (
            'import { NextResponse } from "next/server";\n'
            'import { prisma } from "@/lib/prisma";\n'
            'import { getResolvedTenantId } from "@/lib/tenant";\n'
            'import { withTenantRLS } from "@/lib/rls";\n\n'
            "type Params = { params: { id: string } };\n\n"
            "export async function GET(req: Request, { params }: Params) {\n"
            "  const tenantId = await getResolvedTenantId(req);\n"
            f"  const row = await prisma.{d}.findFirst({{ where: {where} }});\n"
            '  if (!row) return NextResponse.json({ error: "not found" }, { status: 404 });\n'
            "  return NextResponse.json(row);\n}\n\n"
            "export async function PATCH(req: Request, { params }: Params) {\n"
            "  const tenantId = await getResolvedTenantId(req);\n"
            "  const body = await req.json();\n"
            f"  const existing = await prisma.{d}.findFirst({{\n"
            "    where: { id: params.id, tenantId },\n  });\n"
            '  if (!existing) return NextResponse.json({ error: "not found" }, { status: 404 });\n'
            f"  const updated = await prisma.{d}.update({{\n"
            "    where: { id: existing.id },\n"
            "    data: { name: body.name, status: body.status },\n  });\n"
            "  return NextResponse.json(updated);\n}\n\n"
            "export async function DELETE(req: Request, { params }: Params) {\n"
            "  const tenantId = await getResolvedTenantId(req);\n"
            "  await withTenantRLS(tenantId, async (tx) => {\n"
            f"    await tx.{d}.deleteMany({{ where: {{ id: params.id }} }});\n"
            "  });\n"
            "  return new NextResponse(null, { status: 204 });\n}\n"
        )
        return f"apps/web/src/app/api/{d}/{i}/route.ts", body + self.ts_padding(40)

    def ts_service(self, i: int) -> tuple[str, str]:
        m = self.model()
        d = m[:1].lower() + m[1:]
        raw = (
            '  return prisma.$queryRaw`SELECT count(*) FROM "'
            + m
            + '" WHERE "tenantId" = ${tenantId}`;\n'
        )
        body = (
            'import { prisma } from "@/lib/prisma";\n'
            'import { tenantFilter } from "@/lib/tenant";\n\n'
            f"export async function list{m}(tenantId: string, take = 50) {{\n"
            f"  return prisma.{d}.findMany({{\n"
            "    where: tenantFilter(tenantId),\n    take,\n"
            '    orderBy: { createdAt: "desc" },\n  });\n'
            "}\n\n"
            f"export async function create{m}(tenantId: string, name: string, slug: string) {{\n"
            f"  return prisma.{d}.create({{ data: {{ tenantId, name, slug }} }});\n}}\n\n"
            f"export async function count{m}(tenantId: string) {{\n" + raw + "}\n"
        )
        return f"apps/web/src/server/services/{d}_{i}.ts", body + self.ts_padding(60)

    def tsx_component(self, i: int) -> tuple[str, str]:
        name = f"{camel(self.rng.choice(WORDS))}Panel{i}"
        rows = "\n".join(
            f'        <li key="{k}" className="item-{k}">{{props.items[{k}]?.label ?? "—"}}</li>'
            for k in range(self.rng.randint(8, 30))
        )
        body = (
            'import * as React from "react";\n\n'
            f"export interface {name}Props {{\n"
            "  title: string;\n  items: { label: string }[];\n}\n\n"
            f"export function {name}(props: {name}Props) {{\n"
            "  const [open, setOpen] = React.useState(false);\n"
            "  return (\n    <section>\n"
            "      <h2 onClick={() => setOpen(!open)}>{props.title}</h2>\n"
            f"      <ul hidden={{!open}}>\n{rows}\n      </ul>\n    </section>\n  );\n}}\n"
        )
        return f"apps/web/src/components/{name}.tsx", body

    def ts_util(self, i: int) -> tuple[str, str]:
        return f"packages/shared/src/util_{i}.ts", self.ts_padding(self.rng.randint(60, 160))

    def ts_padding(self, lines: int) -> str:
        out = []
        for k in range(0, lines, 6):
            w = self.rng.choice(WORDS)
            out.append(
                f"\nexport function format{camel(w)}{k}("
                'value: string | null, fallback = ""): string {\n'
                "  if (value === null || value.length === 0) return fallback;\n"
                f'  const parts = value.split("-").map((p) => p.trim()).filter(Boolean);\n'
                f'  return parts.join(" ").slice(0, {40 + k});\n}}\n'
            )
        return "".join(out)

    # --- Python ----------------------------------------------------------------------------

    def py_sqlalchemy_model(self, i: int) -> tuple[str, str]:
        classes = []
        for _ in range(self.rng.randint(2, 5)):
            m = self.model()
            table = m.lower()
            classes.append(
                f"class {m}Record(Base):\n"
                f'    __tablename__ = "{table}_{i}"\n\n'
                "    id: Mapped[int] = mapped_column(primary_key=True)\n"
                '    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)\n'
                "    name: Mapped[str] = mapped_column(String(200))\n"
                "    slug: Mapped[str] = mapped_column(String(200))\n"
                "    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)\n\n"
                f'    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)\n'
            )
        head = (
            "from datetime import datetime\n\n"
            "from sqlalchemy import ForeignKey, String, UniqueConstraint\n"
            "from sqlalchemy.orm import Mapped, mapped_column\n\n"
            "from app.db import Base\n\n\n"
        )
        return f"services/api/app/models/m_{i}.py", head + "\n\n".join(classes) + self.py_padding(
            20
        )

    def py_fastapi_router(self, i: int) -> tuple[str, str]:
        m = self.model()
        unscoped = self.rng.random() < 0.05
        flt = (
            f"{m}Record.id == item_id"
            if unscoped
            else f"{m}Record.id == item_id, {m}Record.tenant_id == tenant.id"
        )
        body = (
            "from fastapi import APIRouter, Depends, HTTPException\n"
            "from sqlalchemy import select, text\n"
            "from sqlalchemy.orm import Session\n\n"
            "from app.db import get_session\n"
            f"from app.models.m_{i % 50} import {m}Record\n"
            "from app.tenancy import get_resolved_tenant\n\n"
            f'router = APIRouter(prefix="/{m.lower()}")\n\n\n'
            '@router.get("/{item_id}")\n'
            "def read_item(\n    item_id: int,\n"
            "    tenant=Depends(get_resolved_tenant),\n"
            "    db: Session = Depends(get_session),\n):\n"
            f"    row = db.execute(select({m}Record).where({flt})).scalar_one_or_none()\n"
            "    if row is None:\n        raise HTTPException(404)\n    return row\n\n\n"
            '@router.get("/")\n'
            "def list_items(\n"
            "    tenant=Depends(get_resolved_tenant), db: Session = Depends(get_session)\n):\n"
            f"    q = db.query({m}Record).filter({m}Record.tenant_id == tenant.id)\n"
            "    return q.limit(100).all()\n\n\n"
            '@router.get("/stats")\n'
            "def stats(tenant=Depends(get_resolved_tenant), db: Session = Depends(get_session)):\n"
            f'    sql = text("SELECT count(*) FROM {m.lower()} WHERE tenant_id = :t")\n'
            '    return db.execute(sql, {"t": tenant.id}).scalar()\n'
        )
        return f"services/api/app/routers/r_{i}.py", body + self.py_padding(30)

    def py_django_model(self, i: int) -> tuple[str, str]:
        classes = []
        for _ in range(self.rng.randint(2, 4)):
            m = self.model()
            classes.append(
                f"class {m}Entry(models.Model):\n"
                '    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE)\n'
                "    name = models.CharField(max_length=200)\n"
                "    slug = models.SlugField()\n"
                "    created = models.DateTimeField(auto_now_add=True)\n\n"
                "    class Meta:\n"
                f'        db_table = "dj_{m.lower()}_{i}"\n'
                '        unique_together = [("tenant", "slug")]\n'
            )
        head = "from django.db import models\n\n\n"
        return f"services/admin/app_{i}/models.py", head + "\n\n".join(classes)

    def py_django_view(self, i: int) -> tuple[str, str]:
        m = self.model()
        body = (
            "from django.http import JsonResponse\n"
            "from django.shortcuts import get_object_or_404\n\n"
            f"from .models import {m}Entry\n\n\n"
            "def detail(request, pk):\n"
            f"    obj = get_object_or_404({m}Entry, pk=pk, tenant=request.tenant)\n"
            '    return JsonResponse({"id": obj.pk, "name": obj.name})\n\n\n'
            "def index(request):\n"
            f'    rows = {m}Entry.objects.filter(tenant=request.tenant).order_by("-created")[:50]\n'
            '    return JsonResponse({"items": [r.name for r in rows]})\n'
        )
        return f"services/admin/app_{i}/views.py", body + self.py_padding(20)

    def py_util(self, i: int) -> tuple[str, str]:
        return f"services/api/app/util/u_{i}.py", '"""Helpers."""\n' + self.py_padding(
            self.rng.randint(60, 160)
        )

    def py_padding(self, lines: int) -> str:
        out = []
        for k in range(0, lines, 7):
            w = self.rng.choice(WORDS)
            out.append(
                f"\n\ndef normalise_{w}_{k}(value: str | None, limit: int = {40 + k}) -> str:\n"
                f'    """Normalise a {w} label."""\n'
                '    if not value:\n        return ""\n'
                '    parts = [p.strip() for p in value.split("-") if p.strip()]\n'
                '    return " ".join(parts)[:limit]\n'
            )
        return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=1000, help="number of files (100 … 20000)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    gen = Generator(args.out, args.files, args.seed)
    gen.run()
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {gen.written} files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
