"""The Prisma Schema Language front end: exact facts, positions, and recovery from broken blocks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tenantlint.config import Config
from tenantlint.frontends.prisma import PrismaFrontEnd

SCHEMA = """\
datasource db {
  provider = "mysql"
  url      = env("DATABASE_URL")
}

/// A doc comment
model Member {
  id        String   @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  tenantId  String?  @map("tenant_id")
  email     String   @unique(map: "member_email_key")
  tags      String[]
  search    Unsupported("tsvector")?
  team      Team     @relation(name: "x", fields: [tenantId, teamId], references: [tenantId, id], onDelete: Cascade)
  teamId    String
  createdAt DateTime @default(now())

  @@unique([tenantId, email(sort: Desc)], name: "tenant_email")
  @@index([tenantId])
  @@map("members")
  @@schema("app")
}

view Stats {
  id Int @id
}

enum Role {
  A @map("a")
  B
}

type Address {
  street String
}
"""


def parse(text: str):  # type: ignore[no-untyped-def]
    return PrismaFrontEnd().parse("schema.prisma", text, Config())


def test_model_fields_and_attributes() -> None:
    facts = parse(SCHEMA)
    assert facts.parse_errors == ()
    assert facts.datasource_provider == "mysql"
    member, stats = facts.entities
    assert (member.name, member.table, member.schema_name, member.kind) == (
        "Member",
        "members",
        "app",
        "model",
    )
    assert (stats.name, stats.kind) == ("Stats", "view")
    fields = {f.name: f for f in member.fields}
    assert fields["id"].is_id and fields["id"].generated_unique_default
    assert fields["tenantId"].optional and fields["tenantId"].column == "tenant_id"
    assert fields["email"].unique and not fields["email"].optional
    assert fields["tags"].is_list
    assert fields["search"].type == "Unsupported(tsvector)" and fields["search"].optional
    rel = fields["team"].relation
    assert rel is not None and rel.target == "Team"
    assert rel.fields == ("tenantId", "teamId") and rel.references == ("tenantId", "id")
    assert not fields["createdAt"].generated_unique_default


def test_indexes_with_positions() -> None:
    member = parse(SCHEMA).entities[0]
    got = [
        (i.fields, i.unique, i.primary, i.name, i.loc.line, i.loc.column) for i in member.indexes
    ]
    assert got == [
        (("id",), True, True, None, 8, 3),
        (("email",), True, False, "member_email_key", 10, 3),
        (("tenantId", "email"), True, False, "tenant_email", 17, 3),
        (("tenantId",), False, False, None, 18, 3),
    ]
    assert member.loc.line == 7 and member.loc.snippet == "model Member"


def test_comments_are_tokens_not_strings() -> None:
    facts = parse(
        'model A {\n  id String @id @default("// tenantlint: ignore[TL101]")\n}\n'
        "// standalone\nmodel B { // trailing\n  id String @id\n}\n"
    )
    assert [(c.line, c.text, c.standalone) for c in facts.comments] == [
        (4, "// standalone", True),
        (5, "// trailing", False),
    ]


def test_broken_block_is_one_error_and_the_rest_is_analysed() -> None:
    facts = parse(
        "model A {\n  id String @id\n  name String @default(\n}\nmodel B {\n  id String @id\n}\n"
    )
    assert [e.loc.line for e in facts.parse_errors] == [4]
    assert [e.name for e in facts.entities] == ["B"]


def test_unclosed_block_reports_its_start() -> None:
    facts = parse("model A {\n  id String @id\n}\nmodel Broken {\n  id String @id\n")
    assert [(e.loc.line, e.message) for e in facts.parse_errors] == [
        (4, "model 'Broken' is never closed with '}'")
    ]
    assert [e.name for e in facts.entities] == ["A"]


def test_multiline_attribute_arguments() -> None:
    facts = parse(
        'model A {\n  id String @id\n  tenantId String\n  @@unique(\n    [tenantId, id],\n    name: "x"\n  )\n}\n'
    )
    assert facts.parse_errors == ()
    assert [i.fields for i in facts.entities[0].indexes] == [("id",), ("tenantId", "id")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*'model{}()[]@@ "\n\\/,:=?idString@unique', "\t", "é"])))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    facts = parse(text)
    assert all(e.loc.line >= 1 for e in facts.parse_errors)


def test_an_ignored_model_is_not_the_apps_table() -> None:
    """`@@ignore`: Prisma Client neither queries nor migrates it (a library's own table)."""
    schema = "model jackson_store {\n  key   String @id\n  value String\n\n  @@ignore\n}\n"
    facts = PrismaFrontEnd().parse("prisma/schema.prisma", schema, Config())
    assert [(e.name, e.unmanaged) for e in facts.entities] == [("jackson_store", True)]


def test_the_other_side_of_a_relation_makes_no_parent() -> None:
    """`invites Invite[]` on User holds no key: a user is not scoped via the invites it made;
    the invite, whose key leads to the tenant, is scoped."""
    from tenantlint.tenancy import TenancyMap

    schema = (
        "model Team {\n  id String @id\n  invites Invite[]\n}\n"
        "model User {\n  id String @id\n  invites Invite[]\n  twoFactor TwoFactor?\n}\n"
        "model TwoFactor {\n  id String @id\n  userId String @unique\n"
        "  user User @relation(fields: [userId], references: [id])\n}\n"
        "model Invite {\n  id String @id\n  teamId String\n  team Team @relation(fields: [teamId], references: [id])\n"
        "  creatorId String\n  creator User @relation(fields: [creatorId], references: [id])\n}\n"
    )
    cfg = Config(tenant_fields=("teamId",), tenant_models=("Team",))
    facts = PrismaFrontEnd().parse("prisma/schema.prisma", schema, cfg)
    tmap = TenancyMap(cfg, {facts.path: facts})
    assert {i.name: i.classification for i in tmap.entities} == {
        "Team": "root",
        "User": "unscoped",
        "TwoFactor": "unscoped",
        "Invite": "scoped",
    }
