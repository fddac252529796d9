"""The Python front end on small snippets: exact facts for models, queries, raw SQL, migrations,
handlers, flags and comments; and it never raises on arbitrary text."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import given, settings
from hypothesis import strategies as st

from tenantlint.config import Config
from tenantlint.facts import FileFacts
from tenantlint.frontends.python import PythonFrontEnd
from tenantlint.replay import migration_order

CFG = Config(
    tenant_fields=("tenant_id", "organization", "organization_id"),
    rls_wrappers=("tenant_session",),
    scope_helpers=("for_tenant",),
    tenant_resolvers=("get_current_tenant",),
    guards=("register_tenant_guard",),
    tenancy_flags=("MULTI_TENANCY_ENABLED",),
)


def parse(text: str, path: str = "app/mod.py", config: Config = CFG) -> FileFacts:
    return PythonFrontEnd().parse(path, dedent(text), config)


def fields(facts: FileFacts, entity: str) -> set[tuple[str, str, bool, bool, bool, bool]]:
    ent = next(e for e in facts.entities if e.name == entity)
    return {(f.name, f.column, f.optional, f.unique, f.indexed, f.is_id) for f in ent.fields}


def queries(
    facts: FileFacts,
) -> list[tuple[int, str, str, str, tuple[str, ...] | None, str | None]]:
    return [
        (
            q.loc.line,
            q.model,
            q.operation,
            q.action,
            q.where.keys if q.where else None,
            q.guarded_by,
        )
        for q in facts.queries
    ]


# --- models --------------------------------------------------------------------------------


def test_sqlalchemy_declarative_mixin_and_table_args() -> None:
    facts = parse(
        """
        import uuid
        from typing import Optional
        from sqlalchemy import ForeignKey, UniqueConstraint
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

        class Base(DeclarativeBase):
            pass

        class TenantMixin:
            tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)

        class Project(TenantMixin, Base):
            __tablename__ = "projects"
            __table_args__ = (UniqueConstraint("tenant_id", "slug"),)
            id: Mapped[int] = mapped_column(primary_key=True)
            slug: Mapped[str]
            note: Mapped[Optional[str]]
            token: Mapped[str | None] = mapped_column(unique=True, default=uuid.uuid4)
            tenant = relationship("Tenant")
        """
    )
    by_name = {e.name: e for e in facts.entities}
    assert set(by_name) == {"TenantMixin", "Project"}
    assert by_name["TenantMixin"].abstract and not by_name["Project"].abstract
    assert by_name["Project"].table == "projects"
    assert by_name["Project"].bases == ("TenantMixin", "Base")
    assert fields(facts, "TenantMixin") == {("tenant_id", "tenant_id", False, False, True, False)}
    assert fields(facts, "Project") == {
        ("id", "id", False, False, False, True),
        ("slug", "slug", False, False, False, False),
        ("note", "note", True, False, False, False),
        ("token", "token", True, True, False, False),
        ("tenant", "tenant", False, False, False, False),
    }
    token = next(f for f in by_name["Project"].fields if f.name == "token")
    assert token.generated_unique_default
    assert {(i.fields, i.unique, i.primary) for i in by_name["Project"].indexes} == {
        (("id",), True, True),
        (("token",), True, False),
        (("tenant_id", "slug"), True, False),
    }
    assert by_name["Project"].loc.line == 13


def test_sqlalchemy_1x_column_nullable_only_when_it_is_sqlalchemys_column() -> None:
    facts = parse(
        """
        from sqlalchemy import Column, Integer
        from .base import Column as NotNullColumn, db

        class A(db.Model):
            __tablename__ = "a"
            id = Column(Integer, primary_key=True)
            tenant_id = Column(Integer)

        class B(db.Model):
            __tablename__ = "b"
            tenant_id = NotNullColumn(Integer)
            other_id = db.Column(db.Integer)
        """
    )
    assert fields(facts, "A") == {
        ("id", "id", False, False, False, True),
        ("tenant_id", "tenant_id", True, False, False, False),
    }
    assert fields(facts, "B") == {
        ("tenant_id", "tenant_id", False, False, False, False),
        ("other_id", "other_id", True, False, False, False),
    }


def test_sqlmodel_table_and_imperative_table() -> None:
    facts = parse(
        """
        from typing import Optional
        from sqlalchemy import Column, Integer, MetaData, Table
        from sqlmodel import Field, SQLModel

        class Hero(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            tenant_id: int = Field(foreign_key="tenant.id", index=True)

        class HeroBase(SQLModel):
            name: str

        links = Table("links", MetaData(), Column("id", Integer, primary_key=True), Column("tenant_id", Integer, nullable=False))
        """
    )
    assert {(e.name, e.table, e.abstract, e.kind) for e in facts.entities} == {
        ("Hero", "hero", False, "model"),
        ("HeroBase", "herobase", True, "model"),
        ("links", "links", False, "table"),
    }
    assert fields(facts, "Hero") == {
        ("id", "id", False, False, False, True),
        ("tenant_id", "tenant_id", False, False, True, False),
    }
    assert fields(facts, "links") == {
        ("id", "id", False, False, False, True),
        ("tenant_id", "tenant_id", False, False, False, False),
    }


def test_django_models() -> None:
    facts = parse(
        """
        from django.db import models

        class OrgModel(models.Model):
            organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE)

            class Meta:
                abstract = True

        class Issue(OrgModel):
            number = models.IntegerField(unique=True)
            project = models.ForeignKey("Project", null=True, on_delete=models.CASCADE)
            code = models.CharField(max_length=8, db_index=True, db_column="issue_code")

            class Meta:
                unique_together = [("organization", "code")]
                constraints = [models.UniqueConstraint(fields=["project", "number"], name="u", condition=models.Q(x=1))]

        class Tag(models.Model):
            name = models.CharField(max_length=9)

            class Meta:
                db_table = "tags"
        """,
        path="backend/issues/models.py",
    )
    by_name = {e.name: e for e in facts.entities}
    assert {(e.name, e.table, e.abstract, e.bases) for e in facts.entities} == {
        ("OrgModel", "issues_orgmodel", True, ()),
        ("Issue", "issues_issue", False, ("OrgModel",)),
        ("Tag", "tags", False, ()),
    }
    assert fields(facts, "OrgModel") == {
        ("organization", "organization_id", False, False, True, False),
        ("organization_id", "organization_id", False, False, True, False),
    }
    assert fields(facts, "Issue") == {
        ("number", "number", False, True, False, False),
        ("project", "project_id", True, False, True, False),
        ("project_id", "project_id", True, False, True, False),
        ("code", "issue_code", False, False, True, False),
    }
    assert {(i.fields, i.unique, i.partial) for i in by_name["Issue"].indexes} == {
        (("number",), True, False),
        (("organization", "code"), True, False),  # inherited FK: kept as written
        (("project_id", "number"), True, True),
    }


# --- queries -------------------------------------------------------------------------------


def test_sqlalchemy_queries_and_precision_patterns() -> None:
    facts = parse(
        """
        from sqlalchemy import select, update
        from app.db import for_tenant

        def handler(db, tenant, task_id, note_id, *criteria):
            a = db.query(Task).filter(Task.id == task_id, Task.tenant_id == tenant.id).one()
            db.query(Task).filter(Task.id == a.id).update({"done": True})
            db.execute(select(Task).where(for_tenant(Task, tenant.id)))
            db.query(Comment).join(Task).filter(Task.tenant_id == tenant.id).all()
            db.query(Comment).filter(*criteria).all()
            db.execute(update(Note).where(Note.id == note_id).values(done=True))
            note = db.get(Note, note_id)
            if note.tenant_id != tenant.id:
                raise PermissionError
            db.query(Tag).filter_by(name="x", tenant_id=tenant.id).all()
            return db.query(Tag).all()
        """
    )
    assert queries(facts) == [
        (6, "Task", "one", "read", ("id", "tenant_id"), None),
        (7, "Task", "update", "update", ("id",), "check-then-act"),
        (8, "Task", "where", "read", (), None),
        (9, "Comment", "all", "read", ("Task.tenant_id",), None),
        (10, "Comment", "all", "read", (), None),
        (11, "Note", "values", "update", ("id",), None),
        (12, "Note", "get", "read", ("id",), "fetch-then-authorise"),
        (15, "Tag", "all", "read", ("name", "tenant_id"), None),
        (16, "Tag", "all", "read", None, None),
    ]
    assert facts.queries[2].where is not None and facts.queries[2].where.helpers == ("for_tenant",)
    assert facts.queries[4].pass_through
    assert [q.function for q in facts.queries] == ["handler"] * 9


def test_django_queries() -> None:
    facts = parse(
        """
        from django.db.models import OuterRef, Prefetch, Q, Subquery
        from django.shortcuts import get_object_or_404

        def view(request, slug, pk):
            Issue.objects.filter(project__organization__slug=slug, closed=False)
            Issue.objects.filter(Q(organization=request.org) | Q(organization__isnull=True))
            get_object_or_404(Issue, pk=pk)
            Issue.objects.filter(pk=pk).delete()
            Issue.objects.create(title="t", organization=request.org)
            Issue.objects.get_or_create(number=1, defaults={"title": "x"})
            Project.objects.prefetch_related(Prefetch("issues", queryset=Issue.objects.all()))
            Project.objects.annotate(n=Subquery(Issue.objects.filter(project=OuterRef("pk")).values("id")))
            issue = Issue(title="x")
            issue.organization = request.org
            issue.save()
        """
    )
    assert queries(facts) == [
        (6, "Issue", "filter", "read", ("closed", "project__organization__slug"), None),
        (7, "Issue", "filter", "read", (), None),  # `|`: only keys in every branch count
        (8, "Issue", "get_object_or_404", "read", ("pk",), None),
        (9, "Issue", "delete", "delete", ("pk",), None),
        (10, "Issue", "create", "create", None, None),
        (11, "Issue", "get_or_create", "upsert", ("number",), None),
        (12, "Project", "prefetch_related", "read", None, None),
        (12, "Issue", "all", "read", None, "prefetch of a parent query"),
        (13, "Project", "annotate", "read", None, None),
        (13, "Issue", "values", "read", ("project",), "correlated subquery"),
        (14, "Issue", "save", "create", None, None),
    ]
    data = [q.data.keys if q.data else None for q in facts.queries]
    assert data[4] == ("organization", "title")
    assert data[5] == ("number", "title")
    assert data[10] == ("organization", "title")


# --- raw SQL, settings ---------------------------------------------------------------------


def test_raw_sql_sites_injection_and_name_collisions() -> None:
    facts = parse(
        """
        import sqlalchemy as sa
        from psycopg import sql
        from app.html import text

        QUERY = "SELECT id FROM tasks WHERE tenant_id = %s"

        def run(db, cursor, name, table):
            text("<b>not sql</b>")
            db.execute(sa.text("SELECT * FROM tasks WHERE tenant_id = :t"), {"t": 1})
            cursor.execute(QUERY, [1])
            cursor.execute(f"SELECT * FROM tasks WHERE name = '{name}'")
            cursor.execute("SELECT * FROM tasks WHERE name = '%s'" % name)
            cursor.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            db.execute(sa.select(Task))
        """
    )
    assert [(r.loc.line, r.api, r.sql, r.injection) for r in facts.raw_sql] == [
        (10, "db.execute", "SELECT * FROM tasks WHERE tenant_id = :t", False),
        (11, "cursor.execute", "SELECT id FROM tasks WHERE tenant_id = %s", False),
        (12, "cursor.execute", "SELECT * FROM tasks WHERE name = '%s'", True),
        (13, "cursor.execute", "SELECT * FROM tasks WHERE name = '%s'", True),
        (14, "cursor.execute", "SELECT * FROM {}", False),
    ]
    assert facts.raw_sql[0].parsed
    assert facts.raw_sql[0].statements[0].tables[0].predicate_columns == ("tenant_id",)


def test_rls_wrapper_scopes_and_settings() -> None:
    facts = parse(
        """
        from contextlib import contextmanager
        from sqlalchemy import text

        @contextmanager
        def tenant_session(tenant_id):
            with Session() as s, s.begin():
                s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant_id})
                yield s

        def work(s):
            s.execute(text("SELECT * FROM tasks"))

        def view(tid):
            with tenant_session(tid) as s:
                s.execute(text("SELECT * FROM notes"))
            tenant_session(tid, work)
            s.execute(text("SELECT * FROM tags"))
        """
    )
    assert [(r.loc.line, r.rls_scoped) for r in facts.raw_sql] == [
        (8, True), (12, True), (16, True), (18, False)
    ]  # fmt: skip
    assert [(w.setting, w.local, w.in_wrapper, w.in_transaction) for w in facts.settings] == [
        ("app.tenant_id", True, True, True)
    ]


# --- migrations ----------------------------------------------------------------------------


ALEMBIC = """
from alembic import op
import sqlalchemy as sa

revision = "b2"
down_revision = "a1"
TABLES = ("projects", "tasks")

def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("tenant_id", sa.Integer))
    op.create_index("ix_notes", "notes", ["tenant_id"], unique=True)
    for t in TABLES:
        op.execute(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY")

def downgrade():
    op.drop_table("notes")
"""


def test_alembic_migration_ops_and_revision_chain() -> None:
    facts = parse(ALEMBIC, path="alembic/versions/b2_rls.py")
    assert facts.migration
    assert facts.extra == {"migration_id": "alembic:b2", "migration_deps": "alembic:a1"}
    assert [(op.kind, op.table, op.loc.line) for op in facts.sql_ops] == [
        ("create_table", "notes", 10),
        ("add_index", "notes", 11),
        ("enable_rls", "projects", 13),
        ("enable_rls", "tasks", 13),
    ]
    notes = facts.sql_ops[0].entity
    assert notes is not None
    assert [(f.name, f.optional) for f in notes.fields] == [("id", False), ("tenant_id", True)]
    first = parse(
        ALEMBIC.replace('"b2"', '"a1"').replace('"a1"\nTABLES', "None\nTABLES"),
        "alembic/versions/z9_init.py",
    )
    ordered = migration_order([facts, first])
    assert [f.path for f in ordered] == [
        "alembic/versions/z9_init.py",
        "alembic/versions/b2_rls.py",
    ]


def test_django_migration_ops() -> None:
    facts = parse(
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("core", "0001_initial")]
            operations = [
                migrations.CreateModel(
                    name="Issue",
                    fields=[("id", models.BigAutoField(primary_key=True)), ("organization", models.ForeignKey(on_delete=models.CASCADE, to="core.organization"))],
                    options={"db_table": "issues"},
                ),
                migrations.RunSQL("ALTER TABLE issues ENABLE ROW LEVEL SECURITY", reverse_sql="SELECT 1"),
                migrations.DeleteModel(name="Old"),
            ]
        """,
        path="backend/issues/migrations/0002_rls.py",
    )
    assert facts.extra == {
        "migration_id": "django:issues.0002_rls",
        "migration_deps": "django:core.0001_initial",
    }
    assert [(op.kind, op.table, op.model_ref) for op in facts.sql_ops] == [
        ("create_table", "issues", "issues.issue"),
        ("enable_rls", "issues", None),
        ("drop_table", "issues_old", "issues.old"),
    ]


# --- handlers, request tenants, clients, flags, fallbacks -----------------------------------


def test_handlers_and_tenant_context() -> None:
    facts = parse(
        """
        from fastapi import APIRouter, Depends, Request
        from app.deps import get_current_tenant

        router = APIRouter()

        def load(db):
            return db.query(Task).all()

        @router.get("/tasks/{tenant_id}")
        def list_tasks(tenant_id: int, db=Depends(get_db)):
            return db.query(Task).filter(Task.tenant_id == tenant_id).all()

        @router.post("/notes")
        async def add_note(request: Request, tenant=Depends(get_current_tenant)):
            return load(db)
        """
    )
    assert [(h.loc.line, h.framework, h.name, h.route, h.methods, h.tenant_context, h.models) for h in facts.handlers] == [
        (11, "fastapi", "list_tasks", "/tasks/{tenant_id}", ("GET",), None, ("Task",)),
        (15, "fastapi", "add_note", "/notes", ("POST",), "get_current_tenant", ("Task",)),
    ]  # fmt: skip
    assert [(r.loc.line, r.source, r.sink) for r in facts.request_tenants] == [
        (12, "path parameter", "where-clause")
    ]


def test_django_and_drf_handlers() -> None:
    facts = parse(
        """
        from rest_framework import viewsets
        from app.permissions import register_tenant_guard

        def detail(request, pk):
            return Issue.objects.get(pk=pk)

        class IssueViewSet(viewsets.ModelViewSet):
            permission_classes = [register_tenant_guard]
            queryset = Issue.objects.all()

            def get_queryset(self):
                return Issue.objects.filter(organization=self.request.org)

            def list(self, request):
                return self.get_queryset()
        """,
        path="backend/issues/views.py",
    )
    assert [(h.loc.line, h.framework, h.name, h.tenant_context, h.models) for h in facts.handlers] == [
        (5, "django", "detail", None, ("Issue",)),
        (15, "drf", "IssueViewSet.list", "register_tenant_guard", ("Issue",)),
    ]  # fmt: skip
    assert [q.guarded_by for q in facts.queries] == [None, "get_queryset override", None]


def test_clients_flags_and_fallbacks() -> None:
    facts = parse(
        """
        import os
        from sqlalchemy.orm import sessionmaker
        from app.guard import register_tenant_guard

        Guarded = register_tenant_guard(sessionmaker(bind=engine))
        Plain = sessionmaker(bind=engine)
        Later = sessionmaker()
        register_tenant_guard(Later)

        A = os.getenv("MULTI_TENANCY_ENABLED", "false")
        B = os.environ["MULTI_TENANCY_ENABLED"] == "1"
        if os.environ.get("MULTI_TENANCY_ENABLED"):
            pass
        OTHER = os.getenv("DEBUG", "0")

        def resolve(request):
            tenant_id = request.headers.get("X-Tenant") or "default"
            return tenant_id
        """
    )
    assert [(c.loc.line, c.guarded) for c in facts.clients] == [(6, True), (7, False), (8, True)]
    assert facts.guard_defined
    assert [(f.loc.line, f.problem is not None) for f in facts.flags] == [
        (11, True), (12, False), (13, True)
    ]  # fmt: skip
    assert [(f.loc.line, f.description) for f in facts.fallbacks] == [
        (18, 'falls back to "default"')
    ]


# --- comments, parse errors, prefilter -----------------------------------------------------


def test_comments_are_tokens_and_standalone_is_marked() -> None:
    facts = parse(
        """
        import os
        # tenantlint: ignore[TL501] because local
        A = os.getenv("MULTI_TENANCY_ENABLED", "x")  # tenantlint: ignore[TL501]
        S = "# tenantlint: ignore[TL301]"
        """
    )
    assert [(c.line, c.column, c.standalone) for c in facts.comments] == [
        (3, 1, True),
        (4, 46, False),
    ]


def test_syntax_error_and_prefilter() -> None:
    broken = parse("from sqlalchemy import text\ndef f(:\n    pass\n")
    assert [(e.loc.line, e.loc.column) for e in broken.parse_errors] == [(2, 7)]
    assert broken.entities == () and broken.queries == ()
    # a file with no ORM or framework marker still gets its syntax verdict (never skipped)
    plain = parse("def f(:\n  # tenantlint: ignore[TL301]\n")
    assert [(e.loc.line, e.message) for e in plain.parse_errors] == [
        (1, "Python syntax error: invalid syntax")
    ]
    assert plain.queries == ()
    assert [c.line for c in plain.comments] == [2]
    assert parse("def f():\n    return 1\n").parse_errors == ()


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    facts = PythonFrontEnd().parse("x.py", "from sqlalchemy import text\n" + text, CFG)
    assert facts.path == "x.py"
    assert len(facts.parse_errors) + len(facts.unverified) <= 1


def test_django_save_override_sets_the_tenant() -> None:
    facts = parse(
        """
        from django.db import models

        class ProjectScoped(models.Model):
            project = models.ForeignKey("Project", on_delete=models.CASCADE)
            organization = models.ForeignKey("Organization", on_delete=models.CASCADE)

            class Meta:
                abstract = True

            def save(self, *args, **kwargs):
                self.organization = self.project.organization
                super().save(*args, **kwargs)
        """,
        path="backend/core/models.py",
    )
    ent = facts.entities[0]
    assert {(f.name, f.auto_set) for f in ent.fields} == {
        ("project", False),
        ("project_id", False),
        ("organization", True),
        ("organization_id", True),
    }


def test_membership_check_is_tenant_context() -> None:
    facts = parse(
        """
        from rest_framework.views import APIView

        class ProjectView(APIView):
            def delete(self, request, slug, pk):
                if not Member.objects.filter(member=request.user, organization__slug=slug).exists():
                    raise PermissionError
                Project.objects.filter(pk=pk).delete()
        """,
        path="backend/projects/views.py",
    )
    assert [(h.name, h.tenant_context) for h in facts.handlers] == [
        ("ProjectView.delete", "membership check")
    ]


def test_sql_joined_from_a_constant_column_list_is_not_interpolated() -> None:
    """`f"INSERT INTO t ({', '.join(COLUMNS)})"` over a module tuple is fixed text (no TL305);
    a join over a parameter is still a value the code computes."""
    src = dedent(
        """\
        from django.db import connection

        COLUMNS = ("environment_id", "identifier")
        INSERT = f"INSERT INTO identities ({', '.join(COLUMNS)}) VALUES (%s, %s)"


        def copy(rows, names):
            with connection.cursor() as cursor:
                cursor.executemany(INSERT, rows)
                cursor.execute(f"SELECT {', '.join(names)} FROM identities")
        """
    )
    facts = PythonFrontEnd().parse("app/copy.py", src, Config(tenant_fields=("tenant_id",)))
    assert [(r.loc.line, r.injection) for r in facts.raw_sql] == [(9, False), (10, True)]
