"""The Prisma front end on odd but valid input: every line end Prisma accepts (`\\n`, `\\r\\n`,
`\\r`), and long strings read at a memory cost linear in their size."""

from __future__ import annotations

import pytest
from test_sql_recovery import traced_peak  # one way to measure, for both front ends

from tenantlint.config import Config
from tenantlint.facts import FileFacts
from tenantlint.frontends.prisma import PrismaFrontEnd

SCHEMA = """\
// tenants and their members
model Tenant {
  id String @id
}

/// one per tenant and email
model Member {
  id       String @id @default(uuid())
  tenantId String
  email    String @unique // TL102
  note     String @default("a \\"quoted\\" word")

  @@index([tenantId])
  @@map("members")
}
"""


def parse(text: str) -> FileFacts:
    return PrismaFrontEnd().parse("prisma/schema.prisma", text, Config())


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_counts(newline: str) -> None:
    facts = parse(SCHEMA.replace("\n", newline))
    assert facts.parse_errors == ()
    assert [(e.name, e.table, e.loc.line) for e in facts.entities] == [
        ("Tenant", "Tenant", 2),
        ("Member", "members", 7),
    ]
    member = facts.entities[1]
    assert [(f.name, f.loc.line, f.loc.snippet) for f in member.fields] == [
        ("id", 8, "id String @id @default(uuid())"),
        ("tenantId", 9, "tenantId String"),
        ("email", 10, "email String @unique"),
        ("note", 11, 'note String @default("a \\"quoted\\" word")'),
    ]
    assert [(i.fields, i.loc.line) for i in member.indexes] == [
        (("id",), 8),
        (("email",), 10),
        (("tenantId",), 13),
    ]
    assert [(c.line, c.column, c.text) for c in facts.comments] == [
        (1, 1, "// tenants and their members"),
        (6, 1, "/// one per tenant and email"),
        (10, 27, "// TL102"),
    ]


def test_a_broken_block_in_a_cr_file_is_reported_at_its_line() -> None:
    text = "model A {\r  id Int @id\r  = oops\r}\rmodel B {\r  id Int @id\r}\r"
    facts = parse(text)
    assert [e.loc.line for e in facts.parse_errors] == [3]
    assert [(e.name, e.loc.line) for e in facts.entities] == [("B", 5)]


def test_a_long_string_costs_memory_linear_in_its_size() -> None:
    name = "x" * 1_000_000
    text = f'model T {{\n  id String @id\n  @@map("{name}")\n}}\n'
    facts, peak = traced_peak(lambda: parse(text))
    assert [e.table for e in facts.entities] == [name]
    assert peak < 8 * len(text), f"{peak / len(text):.0f} bytes per input character"
