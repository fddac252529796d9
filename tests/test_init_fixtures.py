"""`init` on copies of the fixture projects with their config removed: the config it writes,
plus the keys that are a person's decision (init never sets them: which models are shared by
all tenants, an off-by-default rule turned on, a header the project's middleware sets), gives
exactly the findings of the shipped config; and it says how many findings that is."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import actual_findings, run_check
from tenantlint.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = sorted(p.name for p in FIXTURES.iterdir() if (p / "tenantlint.toml").is_file())
DECISIONS = ("global-models", "extend-select", "trusted-tenant-headers")


@pytest.mark.parametrize("name", PROJECTS)
def test_init_finds_what_the_shipped_config_says(name: str, tmp_path: Path) -> None:
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root, ignore=shutil.ignore_patterns(".tenantlint_cache"))
    (root / ".git").mkdir()
    shipped = tomllib.loads((root / "tenantlint.toml").read_text())
    (root / "tenantlint.toml").unlink()

    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    count = re.search(r"with this config: (\d+) findings?", result.stdout)
    _, alone = run_check(root)
    assert count and int(count[1]) == len(alone["findings"])

    written = (root / "tenantlint.toml").read_text()
    written = re.sub(r"^global-models = .*$", "", written, flags=re.MULTILINE)
    decided = [f"{k} = {_toml(shipped[k])}" for k in DECISIONS if k in shipped]
    (root / "tenantlint.toml").write_text(written + "\n".join(decided) + "\n")
    _, with_decisions = run_check(root)
    _, expected = run_check(FIXTURES / name)
    assert actual_findings(with_decisions) == actual_findings(expected)


def _toml(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"
