"""Configuration: every SPEC key loads; bad input is one clear line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantlint.cli import main
from tenantlint.config import Config, load_config
from tenantlint.errors import ConfigError

MODEL = "model Tenant {\n  id String @id\n}\n"


def test_defaults_match_spec() -> None:
    cfg = Config()
    assert cfg.tenant_fields == ("tenantId", "tenant_id")
    assert cfg.tenant_models == ("Tenant",)
    assert cfg.rls == "auto" and cfg.select is None


def test_pyproject_table_with_every_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.tenantlint]\n"
        'tenant-fields = ["teamId"]\ntenant-models = ["Team"]\nglobal-models = ["User"]\n'
        'rls-wrappers = ["withRls"]\nscope-helpers = ["teamWhere"]\ntenant-resolvers = ["getTeam"]\n'
        'guards = ["guard"]\ntenancy-flags = ["MT"]\nrls = "required"\ninclude = ["src/**"]\n'
        'exclude = ["scripts/**"]\nselect = ["TL1"]\nignore = ["TL104"]\nextend-select = ["TL105"]\n'
        'per-file-ignores = { "tests/**" = ["TL101"] }\nseverity = { TL104 = "info" }\n'
    )
    cfg = load_config(tmp_path / "pyproject.toml")
    assert cfg.tenant_fields == ("teamId",) and cfg.rls == "required"
    assert cfg.per_file_ignores == {"tests/**": ("TL101",)} and cfg.severity == {"TL104": "info"}


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('tenant-feilds = ["x"]\n', "tenantlint.toml: unknown key 'tenant-feilds'"),
        (
            'tenant-fields = "teamId"\n',
            "tenantlint.toml: key 'tenant-fields': input should be a valid tuple",
        ),
        (
            'rls = "sometimes"\n',
            "tenantlint.toml: key 'rls': input should be 'auto', 'required' or 'off'",
        ),
        ("rls = \n", "tenantlint.toml: invalid TOML"),
        (
            'select = ["TL999"]\n',
            "tenantlint.toml: key 'select': unknown rule code or name 'TL999'",
        ),
        ('severity = { TL104 = "fatal" }\n', "tenantlint.toml: key 'severity.TL104'"),
        (
            'severity = { TL777 = "info" }\n',
            "tenantlint.toml: key 'severity': unknown rule code or name 'TL777'",
        ),
        (
            'per-file-ignores = { "a/**" = ["nope"] }\n',
            "key 'per-file-ignores': unknown rule code or name 'nope'",
        ),
    ],
)
def test_bad_config_is_one_line_exit_2(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "tenantlint.toml").write_text(toml)
    (tmp_path / "schema.prisma").write_text(MODEL)
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output + result.stderr


def test_pyproject_key_is_named_with_its_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.tenantlint]\nbogus = 1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'tool.tenantlint.bogus'"):
        load_config(tmp_path / "pyproject.toml", "pyproject.toml")


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("5000000", 5_000_000),
        ('"5 MB"', 5_000_000),
        ('"5MB"', 5_000_000),
        ('"1.5 mb"', 1_500_000),
        ('"512 KiB"', 524_288),
        ('"2 GiB"', 2 * 1024**3),
        ('"800"', 800),
    ],
)
def test_max_file_size_in_bytes_or_with_a_unit(tmp_path: Path, value: str, size: int) -> None:
    (tmp_path / "tenantlint.toml").write_text(f"max-file-size = {value}\n")
    assert load_config(tmp_path / "tenantlint.toml").max_file_size == size
    assert Config().max_file_size == 5_000_000  # the default: 5 MB


@pytest.mark.parametrize("value", ['"5 XB"', '"MB"', "0", "-1", "1.5", "true", '""', "[5]"])
def test_bad_max_file_size_is_one_line_exit_2(tmp_path: Path, value: str) -> None:
    (tmp_path / "tenantlint.toml").write_text(f"max-file-size = {value}\n")
    (tmp_path / "schema.prisma").write_text(MODEL)
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "tenantlint: error: tenantlint.toml: key 'max-file-size': expected a positive size in "
        "bytes, or with a unit (kB, MB, GB, KiB, MiB, GiB), got "
    )
    assert len(result.stderr.strip().splitlines()) == 1
