"""`tenantlint init`: detection, where the config goes, and never clobbering without --force."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tenantlint.cli import main
from tenantlint.config import find_config_file, load_config

PRISMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Organization {
  id   String @id @default(cuid())
  name String
}

model User {
  id    String @id @default(cuid())
  email String @unique
}

model Project {
  id     String       @id @default(cuid())
  orgId  String
  org    Organization @relation(fields: [orgId], references: [id])
  teamId String?
  name   String
}

model Invoice {
  id     String       @id @default(cuid())
  orgId  String
  org    Organization @relation(fields: [orgId], references: [id])
  number Int
}
"""

TS = """import { prisma } from "./prisma";

export async function withOrg<T>(orgId: string, fn: (tx: any) => Promise<T>): Promise<T> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT set_config('app.org_id', ${orgId}, true)`;
    return fn(tx);
  });
}

export async function getCurrentOrgId(req: Request): Promise<string> {
  return req.headers.get("x-org") ?? "";
}

export function orgScope(orgId: string) {
  return { orgId };
}
"""

SQLALCHEMY = """from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(primary_key=True)


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    title: Mapped[str] = mapped_column(String(100))


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))


def get_workspace_for_request(request):
    return request.state.workspace
"""

PYPROJECT = '[project]\nname = "app"\n\n[tool.other]\nkey = 1\n'
# a policy that reads the setting `withOrg` writes: what makes `withOrg` an RLS wrapper
RLS_MIGRATION = """ALTER TABLE "Invoice" ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoice_org ON "Invoice" USING ("orgId" = current_setting('app.org_id'));
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / ".git").mkdir(exist_ok=True)  # the project root
    return root


def init(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["init", str(root), *args])


@pytest.fixture
def prisma_app(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "prisma/schema.prisma": PRISMA,
            "prisma/migrations/20240101000000_rls/migration.sql": RLS_MIGRATION,
            "src/lib/org.ts": TS,
            "src/lib/org.test.ts": "export {};\n",
            "pyproject.toml": PYPROJECT,
        },
    )


def test_detects_prisma_project_and_appends_to_pyproject(prisma_app: Path) -> None:
    res = init(prisma_app)
    assert res.exit_code == 0, res.output
    text = (prisma_app / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT)  # appended, nothing else touched
    assert not (prisma_app / "tenantlint.toml").exists()
    cfg = load_config(prisma_app / "pyproject.toml")
    assert cfg.tenant_fields == ("orgId",)
    assert cfg.tenant_models == ("Organization",)
    assert cfg.rls_wrappers == ("withOrg",)
    assert cfg.tenant_resolvers == ("getCurrentOrgId",)
    assert cfg.scope_helpers == ("orgScope",)
    assert "tenant column: orgId — on 2 of" in res.output
    assert "(other candidates: team (1))" in res.output
    assert "tenant root: Organization" in res.output
    # User links to no tenant table: suggested as global, commented out, never enabled
    assert '# global-models = ["User"]' in text and cfg.global_models == ()
    assert "not linted by the code rules (non-product-code): **/*.test.* (1 files)" in res.output
    assert "per-file-ignores" not in text and cfg.per_file_ignores == {}
    assert "withOrg — they set app.org_id, which the RLS policies read" in res.output
    assert find_config_file(prisma_app) == prisma_app / "pyproject.toml"


def test_existing_config_is_never_overwritten_without_force(prisma_app: Path) -> None:
    assert init(prisma_app).exit_code == 0
    before = (prisma_app / "pyproject.toml").read_text()
    res = init(prisma_app)
    assert res.exit_code == 2
    assert "exists already (use --force" in res.output
    assert (prisma_app / "pyproject.toml").read_text() == before


def test_force_replaces_only_the_tenantlint_table(prisma_app: Path) -> None:
    pyproject = prisma_app / "pyproject.toml"
    pyproject.write_text(
        PYPROJECT
        + '\n[tool.tenantlint]\ntenant-fields = ["old"]\n\n[tool.tenantlint.severity]\nTL101 = "info"\n\n'
        "[tool.after]\nx = 2\n"
    )
    res = init(prisma_app, "--force")
    assert res.exit_code == 0, res.output
    text = pyproject.read_text()
    assert text.count("[tool.tenantlint]") == 1
    assert '"old"' not in text and "[tool.tenantlint.severity]" not in text
    assert "[tool.other]\nkey = 1" in text and "[tool.after]\nx = 2" in text
    assert load_config(pyproject).tenant_fields == ("orgId",)


def test_writes_tenantlint_toml_without_pyproject(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/models.py": SQLALCHEMY})
    res = init(root)
    assert res.exit_code == 0, res.output
    cfg = load_config(root / "tenantlint.toml")
    assert cfg.tenant_fields == ("workspace_id",)
    assert cfg.tenant_models == ("Workspace",)  # the model, not its table
    assert cfg.tenant_resolvers == ("get_workspace_for_request",)
    assert "sqlalchemy (3 tables)" in res.output


def test_force_overwrites_an_existing_tenantlint_toml(tmp_path: Path) -> None:
    root = write(
        tmp_path, {"prisma/schema.prisma": PRISMA, "tenantlint.toml": 'tenant-fields = ["x"]\n'}
    )
    assert init(root).exit_code == 2
    assert init(root, "--force").exit_code == 0
    assert load_config(root / "tenantlint.toml").tenant_fields == ("orgId",)


def test_nothing_detected_keeps_defaults(tmp_path: Path) -> None:
    root = write(tmp_path, {"README.md": "hello\n"})
    res = init(root)
    assert res.exit_code == 0, res.output
    assert "no tenant-like foreign-key column found" in res.output
    assert load_config(root / "tenantlint.toml").tenant_fields == ("tenantId", "tenant_id")


def test_guards_flags_helpers_and_resolvers_come_from_product_code_only(tmp_path: Path) -> None:
    db = (
        'import { PrismaClient } from "@prisma/client";\n'
        'import { registerOrgGuard } from "./guard";\n\n'
        "export const db = registerOrgGuard(new PrismaClient());\n"
        'export const multiOrg = process.env.MULTI_ORG_MODE === "on";\n'
        "export const fallbackOrg = process.env.DEFAULT_TENANT_ID;  // a value, not a switch\n"
        "export const orgWhere = (orgId: string) => ({ orgId, deleted: false });\n"
    )
    guard = "export function registerOrgGuard(client: any) {\n  return client;\n}\n"
    test_code = (
        "export function getTestOrgId() {\n  return 'org-1';\n}\n"
        "registerFakeGuard(db);\n"
        "const t = process.env.MULTI_TENANT_TESTS;\n"
        "export function orgFilterForTests(orgId: string) {\n  return { orgId };\n}\n"
    )
    root = write(
        tmp_path,
        {
            "prisma/schema.prisma": PRISMA,
            "src/lib/org.ts": TS + "\nexport const current = getCurrentOrgId;\n",
            "src/lib/db.ts": db,
            "src/lib/guard.ts": guard,
            "src/lib/org.test.ts": test_code,
            "tests/helpers.ts": test_code,
        },
    )
    res = init(root)
    assert res.exit_code == 0, res.output
    cfg = load_config(root / "tenantlint.toml")
    assert cfg.guards == ("registerOrgGuard",)
    assert cfg.tenancy_flags == ("MULTI_ORG_MODE",)
    assert set(cfg.scope_helpers) == {"orgScope", "orgWhere"}
    assert cfg.tenant_resolvers == ("getCurrentOrgId",)
    assert re.search(r"with this config: \d+ findings? in \d+ files? \(\d+ scanned\)", res.output)


DJANGO = """from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)


class ProjectQuerySet(models.QuerySet):
    def for_org(self, org):
        return self.filter(organization=org)


class Project(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    objects = ProjectQuerySet.as_manager()
"""
FASTAPI = """from fastapi import Depends

from app.auth import current_org


def list_projects(org=Depends(current_org)):
    return []


class ProjectView:
    def get_queryset(self):
        return Project.objects.filter(organization=self.request.org)
"""


def test_django_foreign_keys_managers_and_dependencies(tmp_path: Path) -> None:
    root = write(tmp_path, {"projects/models.py": DJANGO, "app/api.py": FASTAPI})
    res = init(root)
    assert res.exit_code == 0, res.output
    cfg = load_config(root / "tenantlint.toml")
    assert set(cfg.tenant_fields) == {"organization", "organization_id"}  # as queries name it
    assert cfg.scope_helpers == ("for_org",)  # a queryset method; a view's get_queryset is not
    assert cfg.tenant_resolvers == ("current_org",)  # a FastAPI dependency named after the concept


def test_an_rls_callback_is_named_by_its_top_level_function(tmp_path: Path) -> None:
    rls = (
        'import { Prisma } from "@prisma/client";\n\n'
        "export function forOrg(orgId: string) {\n"
        "  return Prisma.defineExtension((client) =>\n"
        "    client.$extends({\n"
        "      query: {\n"
        "        $allModels: {\n"
        "          async $allOperations({ args, query }) {\n"
        "            const [, result] = await client.$transaction([\n"
        "              client.$executeRaw`SELECT set_config('app.org_id', ${orgId}, true)`,\n"
        "              query(args),\n"
        "            ]);\n"
        "            return result;\n"
        "          },\n"
        "        },\n"
        "      },\n"
        "    }),\n"
        "  );\n"
        "}\n"
    )
    root = write(
        tmp_path,
        {
            "prisma/schema.prisma": PRISMA,
            "prisma/migrations/20240101000000_rls/migration.sql": RLS_MIGRATION,
            "src/lib/rls.ts": rls,
        },
    )
    assert init(root).exit_code == 0
    assert load_config(root / "tenantlint.toml").rls_wrappers == ("forOrg",)


def test_resolvers_are_server_functions_that_find_the_callers_tenant(tmp_path: Path) -> None:
    server = (  # React's `cache` is server code too
        'import { cookies } from "next/headers";\n'
        'import { cache } from "react";\n\n'
        "export const requireOrgAccess = cache(async (req: Request) => {\n"
        '  const org = req.headers.get("x-org");\n'
        "  return org;\n"
        "});\n"
        "export async function getOrgRole(userId: string, orgId: string) {\n"
        '  return "admin";\n'
        "}\n"
        "export const getOrgById = async (orgId: string) => ({ id: orgId });\n"
        "export async function getOrgs() {\n"
        "  return cookies();\n"
        "}\n"
    )
    hook = (
        'import { useContext } from "react";\n\n'
        "export function useOrg() {\n  return useContext(OrgContext);\n}\n"
        "export function getCurrentOrg(req: Request) {\n  return req;\n}\n"
    )
    store = (
        'import { makeObservable } from "mobx";\n\n'
        "export const getActiveOrg = (req: Request) => req.url;\n"
    )
    uses = (
        'import { requireOrgAccess, getOrgRole, getOrgById, getOrgs } from "./org";\n'
        'import { getActiveOrg } from "../store/org";\n\n'
        "export async function GET(req: Request) {\n"
        "  await requireOrgAccess(req);\n"
        "  await getOrgRole('u', 'o');\n"
        "  await getOrgById('o');\n"
        "  await getOrgs();\n"
        "  getActiveOrg(req);\n"
        "}\n"
    )
    root = write(
        tmp_path,
        {
            "prisma/schema.prisma": PRISMA,
            "src/lib/org.ts": server,
            "src/lib/route.ts": uses,
            "src/store/org.ts": store,
            "src/components/org-switcher.tsx": hook,
        },
    )
    res = init(root)
    assert res.exit_code == 0, res.output
    # not the role getter, the lookup by id, the list, the hook, nor client-side code
    assert load_config(root / "tenantlint.toml").tenant_resolvers == ("requireOrgAccess",)


PY_RESOLVERS = """from fastapi import Depends
from werkzeug.local import LocalProxy

from flask import g, request


def _get_current_org():
    return g.get("org") or request.view_args.get("org")


current_org = LocalProxy(_get_current_org)


def get_by_slug_and_org(slug, org):
    return None


def get_org_for_login(slug: str):
    return None


def get_org_settings(request):
    return {}


def list_things(org=Depends(get_org_for_login), other=Depends(current_org)):
    return [get_by_slug_and_org("a", org), get_org_settings(request)]
"""


def test_python_resolvers_leave_lookups_out_and_name_proxies_as_used(tmp_path: Path) -> None:
    root = write(tmp_path, {"projects/models.py": DJANGO, "app/tenancy.py": PY_RESOLVERS})
    res = init(root)
    assert res.exit_code == 0, res.output
    # `current_org`, not the private function it wraps; not a lookup taking the tenant (or its
    # slug), even as a dependency; not something of the tenant (`get_org_settings`)
    assert load_config(root / "tenantlint.toml").tenant_resolvers == ("current_org",)


SCOPE_HELPERS_TS = """export const serializeProject = (p: Project) => ({
  id: p.id,
  orgId: p.orgId,
  name: p.name,
});
export const logContext = (data: Job) => ({ orgId: data.orgId, jobId: data.jobId });
export async function createdResult(orgId: string) {
  await audit(orgId);
  return { orgId };
}
export function projectWhere(orgId: string, extra?: object): ProjectWhereInput {
  return { orgId, ...extra };
}
"""
SCOPE_HELPERS_PY = """from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column()


def to_row(record):
    return {"id": record["id"], "org_id": str(record["org_id"])}


def new_note(project):
    return Note(org_id=project.org_id)


def is_org_kind(value):
    return value[0] == Kind.org_id


def same_org(a, b):
    return a.org_id == b.org_id


def notes_of(org_id):
    return Note.org_id == org_id
"""


def test_scope_helpers_return_a_filter_not_a_record(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "prisma/schema.prisma": PRISMA,
            "src/lib/scope.ts": SCOPE_HELPERS_TS,
            "app/notes.py": SCOPE_HELPERS_PY,
        },
    )
    res = init(root)
    assert res.exit_code == 0, res.output
    # not a serialised record, a log context, a result built after other work, a model
    # constructed, an enum compared, nor two tenant columns joined
    helpers = load_config(root / "tenantlint.toml").scope_helpers
    assert set(helpers) == {"projectWhere", "notes_of"}


def test_tenancy_flags_name_tenancy_not_any_multi(tmp_path: Path) -> None:
    settings = (
        "import os\n\n"
        'MAINTENANCE = os.environ.get("MAINTENANCE_MODE")\n'
        'PROMETHEUS = os.environ.get("PROMETHEUS_MULTIPROC_DIR")\n'
        'MULTI_BYTE = os.getenv("MULTI_BYTE_SEARCH")\n'
        'MULTI_ORG = os.getenv("APP_MULTI_ORG")\n'
        'TENANCY = os.environ["MULTITENANT_MODE"]\n'
    )
    root = write(tmp_path, {"app/models.py": SQLALCHEMY, "app/settings.py": settings})
    assert init(root).exit_code == 0
    flags = load_config(root / "tenantlint.toml").tenancy_flags
    assert set(flags) == {"APP_MULTI_ORG", "MULTITENANT_MODE"}


GROUPS = """from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Group(Base):
    __tablename__ = "groups"
    id = Column(Integer, primary_key=True)


class Recipe(Base):
    __tablename__ = "recipes"
    id = Column(Integer, primary_key=True)
    group_id = Column(Integer, ForeignKey("groups.id"), nullable=False)
    group = relationship("Group")


class ShoppingList(Base):
    __tablename__ = "shopping_lists"
    id = Column(Integer, primary_key=True)
    group_id = Column(Integer, ForeignKey("groups.id"), nullable=False)
    group = relationship(Group)
    name = Column(String)
"""


def test_sqlalchemy_group_tenant_by_model_and_relationship_names(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/models.py": GROUPS})
    res = init(root)
    assert res.exit_code == 0, res.output
    cfg = load_config(root / "tenantlint.toml")
    assert cfg.tenant_fields == ("group_id", "group")  # `filter(Recipe.group == g)` too
    assert cfg.tenant_models == ("Group",)  # the model; `groups` is its table


SETTINGS_PY = """from sqlalchemy import text


class Search:
    def tune(self, session):
        session.execute(text("SET LOCAL pg_trgm.similarity_threshold = 0.5"))


def with_org(session, org_id):
    session.execute(text("SELECT set_config('app.org_id', :o, true)"), {"o": org_id})
"""


def test_rls_wrappers_set_what_a_policy_reads(tmp_path: Path) -> None:
    files = {"app/models.py": GROUPS, "app/db.py": SETTINGS_PY}
    root = write(tmp_path / "no-policy", files)
    res = init(root)
    assert res.exit_code == 0, res.output
    text = (root / "tenantlint.toml").read_text()
    assert load_config(root / "tenantlint.toml").rls_wrappers == ("withTenantRLS",)  # default
    # no policy reads app.org_id: offered, commented out; the search tuning is not offered
    assert '# rls-wrappers = ["with_org"]' in text and "Search" not in text and "tune" not in text

    policy = "CREATE POLICY p ON recipes USING (group_id = current_setting('app.org_id')::int);\n"
    root = write(tmp_path / "policy", {**files, "migrations/0001_rls.sql": policy})
    assert init(root).exit_code == 0
    assert load_config(root / "tenantlint.toml").rls_wrappers == ("with_org",)


NESTED = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Organization {
  id         String      @id
  workspaces Workspace[]
  members    Member[]
}

model Member {
  id             String       @id
  organizationId String
  organization   Organization @relation(fields: [organizationId], references: [id])
}

model Workspace {
  id             String       @id
  organizationId String
  organization   Organization @relation(fields: [organizationId], references: [id])
  surveys        Survey[]
  tags           Tag[]
}

model Survey {
  id          String    @id
  workspaceId String
  workspace   Workspace @relation(fields: [workspaceId], references: [id])
}

model Tag {
  id          String    @id
  workspaceId String
  workspace   Workspace @relation(fields: [workspaceId], references: [id])
}

model Action {
  id          String    @id
  workspaceId String
}
"""


def test_a_root_inside_another_tenant_offers_the_upper_level(tmp_path: Path) -> None:
    root = write(tmp_path, {"prisma/schema.prisma": NESTED})
    res = init(root)
    assert res.exit_code == 0, res.output
    text = (root / "tenantlint.toml").read_text()
    cfg = load_config(root / "tenantlint.toml")
    assert cfg.tenant_fields == ("workspaceId",) and cfg.tenant_models == ("Workspace",)
    assert (
        "# Workspace belongs to Organization (Workspace.organizationId): if the tenant is the "
        'Organization, use instead:\n# tenant-fields = ["organizationId"]\n'
        '# tenant-models = ["Organization"]\n'
    ) in text
