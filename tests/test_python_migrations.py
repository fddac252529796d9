"""Alembic migrations read as the small programs they are: loops (tuple targets too), string
helpers, expression index columns, and migrations that only secure tables the ORM creates."""

from __future__ import annotations

from textwrap import dedent

from tenantlint.config import Config
from tenantlint.facts import FileFacts
from tenantlint.frontends.python import PythonFrontEnd
from tenantlint.tenancy import TenancyMap

CFG = Config(tenant_fields=("tenant_id",), tenant_models=("Tenant",))
HEAD = """
import sqlalchemy as sa
from alembic import op

revision = "c3"
down_revision = "b2"
"""


def migration(body: str, path: str = "alembic/versions/c3_step.py") -> FileFacts:
    facts = PythonFrontEnd().parse(path, HEAD + dedent(body), CFG)
    assert facts.migration
    return facts


def models(classes: str) -> FileFacts:
    """A declarative models module holding `classes` (indented like this module's snippets)."""
    head = (
        "from sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n"
        "class Base(DeclarativeBase):\n    pass\n"
    )
    return PythonFrontEnd().parse("app/models.py", head + dedent(classes), CFG)


def ops(facts: FileFacts) -> list[tuple[str, str, str | None, str | None]]:
    return [(op.kind, op.table, op.name, op.new_name) for op in facts.sql_ops]


def test_every_op_call_in_a_loop_gets_the_loop_variables_tuple_targets_included() -> None:
    facts = migration(
        """
        RENAMES = [("orgs", "workspaces"), ("org_members", "workspace_members")]
        OWNED = ("projects", "labels")

        def upgrade():
            for old, new in RENAMES:
                op.rename_table(old, new)
            for t in OWNED:
                op.alter_column(t, "owner_id", new_column_name="workspace_id")
                op.create_index(f"ix_{t}_workspace", t, ["workspace_id"])
            for t in OWNED:
                op.execute("ALTER TABLE x ADD COLUMN")  # broken: one TL001, not one a pass
        """
    )
    assert ops(facts) == [
        ("rename_table", "orgs", None, "workspaces"),
        ("rename_table", "org_members", None, "workspace_members"),
        ("rename_column", "projects", "owner_id", "workspace_id"),
        ("add_index", "projects", None, None),
        ("rename_column", "labels", "owner_id", "workspace_id"),
        ("add_index", "labels", None, None),
    ]
    assert [op.index.name for op in facts.sql_ops if op.index] == [
        "ix_projects_workspace",
        "ix_labels_workspace",
    ]
    assert [e.loc.line for e in facts.parse_errors] == [18]


def test_execute_of_a_module_helper_is_evaluated_with_its_argument_bound() -> None:
    facts = migration(
        '''
        def enable(table: str) -> str:
            """RLS on."""
            return f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"

        def policy(table, column="tenant_id"):
            return (
                f"CREATE POLICY iso ON {table} "
                f"USING ({column} = current_setting('app.tenant_id')::uuid)"
            )

        def upgrade():
            for t in ("notes", "tasks"):
                op.execute(enable(t))
                op.execute(policy(t))
            op.execute(enable(some_runtime_value()))  # not static: nothing replayed
        '''
    )
    assert [(op.kind, op.table) for op in facts.sql_ops] == [
        ("enable_rls", "notes"),
        ("create_policy", "notes"),
        ("enable_rls", "tasks"),
        ("create_policy", "tasks"),
    ]
    policy = facts.sql_ops[1].policy
    assert policy is not None and policy.settings_read == ("app.tenant_id",)


def test_expression_index_columns_stand_beside_the_named_ones() -> None:
    facts = migration(
        """
        def upgrade():
            op.create_index(
                "ix_users_email", "users", ["tenant_id", sa.text("lower(email)")], unique=True
            )
            op.create_index("ix_users_name", "users", [sa.literal_column("lower(name)")])
        """
    )
    indexes = [op.index for op in facts.sql_ops if op.index is not None]
    assert [(i.fields, i.expression, i.unique) for i in indexes] == [
        (("tenant_id",), True, True),
        ((), True, False),
    ]


def test_a_migration_securing_an_orm_created_table_applies_to_the_model() -> None:
    model = models(
        """
        class Note(Base):
            __tablename__ = "notes"
            id: Mapped[int] = mapped_column(primary_key=True)
            tenant_id: Mapped[int]
            email: Mapped[str]
        """
    )
    secure = migration(
        """
        def upgrade():
            op.execute("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")
            op.execute("ALTER TABLE notes FORCE ROW LEVEL SECURITY")
            op.create_index("ix_notes", "notes", ["tenant_id", sa.text("lower(email)")], unique=True)
        """
    )
    tmap = TenancyMap(CFG, {f.path: f for f in (model, secure)})
    info = tmap.entity("notes")
    assert info is not None and info.decl.name == "Note" and info.sql is not None
    assert info.sql.rls_enabled and info.sql.rls_forced
    assert [(i.fields, i.expression) for i in info.indexes] == [
        (("id",), False),
        (("tenant_id",), True),
    ]
    assert len(tmap.entities) == 1  # one table, one verdict


def test_execute_of_a_helper_imported_from_the_project_is_expanded_by_the_map() -> None:
    helpers = PythonFrontEnd().parse(
        "server/app/db/rls.py",
        dedent(
            """
            POLICY = "tenant_isolation"

            def enable_rls(table):
                return f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"

            def isolate(table, setting="app.tenant_id"):
                return (
                    f"CREATE POLICY {POLICY} ON {table} "
                    f"USING (tenant_id = current_setting('{setting}')::uuid)"
                )

            def describe(table):
                return f"table {table}"  # not DDL: no template
            """
        ),
        CFG,
    )
    assert [(t.function, t.params) for t in helpers.sql_templates] == [
        ("enable_rls", ("table",)),
        ("isolate", ("table", "setting")),
    ]
    created = migration(
        """
        def upgrade():
            op.create_table("notes", sa.Column("tenant_id", sa.Integer, nullable=False))
        """,
        "server/alembic/versions/b2_notes.py",
    ).model_copy(update={"extra": {"migration_id": "alembic:b2", "migration_deps": ""}})
    secured = migration(
        """
        from app.db.rls import enable_rls
        from .policies import isolate

        def upgrade():
            for t in ("notes",):
                op.execute(enable_rls(t))
                op.execute(isolate(t, "app.tenant_id"))
        """,
        "server/alembic/versions/c3_rls.py",
    )
    assert [(op.kind, op.name, op.args) for op in secured.sql_ops] == [
        ("execute_helper", "app.db.rls.enable_rls", ("notes",)),
        ("execute_helper", "server.alembic.versions.policies.isolate", ("notes", "app.tenant_id")),
    ]
    policies = helpers.model_copy(update={"path": "server/alembic/versions/policies.py"})
    files = [helpers, policies, created, secured]
    state = TenancyMap(CFG, {f.path: f for f in files}).tables["notes"]
    assert state.rls_enabled
    assert [(p.name, p.settings_read) for p in state.policies.values()] == [
        ("tenant_isolation", ("app.tenant_id",))
    ]


def test_an_expression_beside_one_column_is_not_that_column_alone() -> None:
    """The one-to-one / generated-id exemption of TL102 is for a single plain column; a unique
    on `(customer_id, lower(email))` is another key and is still checked."""
    from tenantlint.registry import load_registry

    model = models(
        """
        class Member(Base):
            __tablename__ = "members"
            id: Mapped[int] = mapped_column(primary_key=True)
            tenant_id: Mapped[int] = mapped_column(index=True)
            customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
            email: Mapped[str]
        """
    )
    index = migration(
        """
        def upgrade():
            op.create_index(
                "ix_members", "members", ["customer_id", sa.text("lower(email)")], unique=True
            )
        """
    )
    tmap = TenancyMap(CFG, {f.path: f for f in (model, index)})
    rule = load_registry().rules["TL102"]
    assert [f.message for f in rule().check(tmap)] == [
        "unique (customer_id, an expression) on tenant-scoped 'Member' does not include "
        "tenant_id: it is enforced across all tenants"
    ]


def test_a_simple_history_table_is_not_the_apps_to_scope() -> None:
    """django-simple-history's `Historical…` copies (bases `HistoricalChanges`) are managed by
    the library: never TL101 or TL103, while the model beside them is classified as usual."""
    text = dedent(
        """\
        import simple_history.models
        from django.db import migrations, models


        class Migration(migrations.Migration):
            operations = [
                migrations.CreateModel(
                    name="HistoricalSegment",
                    fields=[
                        ("id", models.IntegerField(db_index=True)),
                        ("history_id", models.AutoField(primary_key=True)),
                        ("name", models.CharField(max_length=100)),
                    ],
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="Webhook",
                    fields=[("id", models.AutoField(primary_key=True))],
                ),
            ]
        """
    )
    cfg = Config(tenant_fields=("organisation",), tenant_models=("Organisation",))
    facts = PythonFrontEnd().parse("segments/migrations/0019_history.py", text, cfg)
    tmap = TenancyMap(cfg, {facts.path: facts})
    assert {i.table: i.classification for i in tmap.entities} == {
        "segments_historicalsegment": "global",
        "segments_webhook": "unscoped",
    }


def test_a_link_table_with_nullable_keys_is_scoped_via_its_parent() -> None:
    """A plain SQLAlchemy `ForeignKey` column is nullable: the table still hangs off its
    tenant-scoped parent (via-parent), and one with no link to the tenant stays unscoped."""
    facts = models(
        """
        class Tenant(Base):
            __tablename__ = "tenants"
            id: Mapped[int] = mapped_column(primary_key=True)

        class Recipe(Base):
            __tablename__ = "recipes"
            id: Mapped[int] = mapped_column(primary_key=True)
            tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)

        class RecipeAsset(Base):
            __tablename__ = "recipe_assets"
            id: Mapped[int] = mapped_column(primary_key=True)
            recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipes.id"), nullable=True)

        class Setting(Base):
            __tablename__ = "settings"
            id: Mapped[int] = mapped_column(primary_key=True)
        """
    )
    cfg = Config(tenant_fields=("tenant_id",), tenant_models=("Tenant",))
    tmap = TenancyMap(cfg, {facts.path: facts})
    assert {i.name: i.classification for i in tmap.entities} == {
        "Tenant": "root",
        "Recipe": "scoped",
        "RecipeAsset": "via-parent",
        "Setting": "unscoped",
    }


def test_a_unique_index_named_through_op_f_is_dropped_by_its_name() -> None:
    """`op.create_index(op.f("ix_tools_slug"), …, unique=True)` then a later
    `op.drop_index("ix_tools_slug")` and a plain index: the unique is gone (no TL102)."""
    first = migration(
        """
        def upgrade():
            op.create_table("tools", sa.Column("id", sa.Integer, primary_key=True),
                            sa.Column("tenant_id", sa.Integer, nullable=False),
                            sa.Column("slug", sa.String))
            op.create_index(op.f("ix_tools_slug"), "tools", ["slug"], unique=True)
        """,
        "alembic/versions/a1_tools.py",
    )
    second = migration(
        """
        def upgrade():
            op.drop_index("ix_tools_slug", table_name="tools")
            op.create_index(op.f("ix_tools_slug"), "tools", ["slug"], unique=False)
        """,
        "alembic/versions/b2_not_unique.py",
    )
    tmap = TenancyMap(CFG, {first.path: first, second.path: second})
    tools = next(i for i in tmap.entities if i.table == "tools")
    assert [(i.fields, i.unique) for i in tools.indexes if not i.primary] == [(("slug",), False)]


def test_alter_unique_together_replaces_the_models_unique_together() -> None:
    """Django's `AlterUniqueTogether(unique_together=set())` drops what `CreateModel` made."""
    create = PythonFrontEnd().parse(
        "issues/migrations/0001_initial.py",
        dedent(
            """\
            from django.db import migrations, models


            class Migration(migrations.Migration):
                operations = [
                    migrations.CreateModel(
                        name="IssueType",
                        fields=[("id", models.AutoField(primary_key=True)),
                                ("name", models.CharField(max_length=50))],
                        options={"unique_together": {("name",)}},
                    ),
                ]
            """
        ),
        CFG,
    )
    alter = PythonFrontEnd().parse(
        "issues/migrations/0002_alter.py",
        dedent(
            """\
            from django.db import migrations


            class Migration(migrations.Migration):
                operations = [
                    migrations.AlterUniqueTogether(name="issuetype", unique_together=set()),
                ]
            """
        ),
        CFG,
    )
    tmap = TenancyMap(CFG, {create.path: create, alter.path: alter})
    table = next(i for i in tmap.entities if i.table == "issues_issuetype")
    assert [i for i in table.indexes if i.unique and not i.primary] == []
