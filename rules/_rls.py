"""What the RLS rules (TL201-TL206) share: the tenant tables' replayed state, and a tiny
SQL-only example project to document them with."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.facts import Loc, PolicyFact, SettingWrite
from tenantlint.replay import TableState
from tenantlint.tenancy import EntityInfo, TenancyMap

CONFIG = (
    'tenant-fields = ["tenant_id"]\ntenant-models = ["tenants"]\nrls-wrappers = ["set_tenant"]\n'
)

TABLES = """\
CREATE TABLE tenants (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
CREATE TABLE notes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  body text
);
CREATE INDEX notes_tenant_idx ON notes (tenant_id);
"""

SECURED = """\
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_tenant ON notes
  USING (tenant_id = current_setting('app.tenant_id')::uuid);
"""

WRAPPER = """\
CREATE FUNCTION set_tenant(t uuid) RETURNS void
LANGUAGE sql AS $$
  SELECT set_config('app.tenant_id', t::text, true);
$$;
"""


def project(*migrations: str) -> dict[str, str]:
    """An example project: the config and one migration file per argument."""
    files = {"tenantlint.toml": CONFIG}
    for n, text in enumerate(migrations, 1):
        files[f"migrations/{n:03d}_step.sql"] = text
    return files


def tenant_tables(tmap: TenancyMap) -> Iterator[tuple[EntityInfo, TableState | None]]:
    """Every tenant-scoped table (not views), with its replayed SQL state when migrations made it."""
    for info in tmap.entities:
        if info.classification == "scoped" and info.decl.kind != "view":
            yield info, info.sql


def table_loc(info: EntityInfo) -> Loc:
    """Where a table-level RLS finding goes: the SQL CREATE TABLE, else the ORM declaration."""
    return info.sql.entity.loc if info.sql is not None else info.decl.loc


def all_policies(tmap: TenancyMap) -> Iterator[PolicyFact]:
    for state in tmap.tables.values():
        yield from state.policies.values()


def setting_writes(tmap: TenancyMap) -> Iterator[SettingWrite]:
    for facts in tmap.iter_files():
        yield from facts.settings
