"""Configuration: `[tool.tenantlint]` in pyproject.toml or top-level keys of tenantlint.toml."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from tenantlint.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Severity = Literal["error", "warning", "info"]

CONFIG_FILES = ("tenantlint.toml", ".tenantlint.toml", "pyproject.toml")

# `max-file-size`: bytes, or a number with a unit; kB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)
DEFAULT_MAX_FILE_SIZE = 5 * 1000**2


def parse_size(value: object) -> int:
    """A size in bytes from an integer or a string such as `"5 MB"`, `"512 KiB"`, `"800000"`."""
    number: float | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and (m := _SIZE.fullmatch(value)):
        unit = _SIZE_UNITS.get(m[2].lower())
        number = None if unit is None else float(m[1]) * unit
    if number is None or number < 1:
        raise PydanticCustomError(
            "file_size",
            "expected a positive size in bytes, or with a unit (kB, MB, GB, KiB, MiB, GiB), got {value}",
            {"value": repr(value)},
        )
    return int(number)


def format_size(n: int) -> str:
    """`5 MB`, `1.5 kB`, `812 bytes` (decimal units, as `max-file-size` reads them)."""
    for unit, size in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} byte{'s' * (n != 1)}"


# Tests, e2e suites, seeds, fixtures and scripts: not the product, and cross-tenant on purpose.
NON_PRODUCT_CODE = (
    "**/test/**",
    "**/tests/**",
    "**/__tests__/**",
    "**/*.test.*",
    "**/*.spec.*",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "**/e2e/**",
    "**/cypress/**",
    "**/playwright/**",
    "**/seed/**",
    "**/seeds/**",
    "**/seeders/**",
    "**/seed.*",
    "**/fixtures/**",
    "**/__fixtures__/**",
    "**/scripts/**",
    # data migrations: they rewrite every tenant's rows once, by design (DDL is read anyway)
    "**/migrations/**",
    "**/migration/**",
    "**/alembic/versions/**",
)


class Config(BaseModel):
    """Every key of SPEC's configuration table (kebab-case in TOML)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        alias_generator=lambda s: s.replace("_", "-"),
    )

    tenant_fields: tuple[str, ...] = ("tenantId", "tenant_id")
    tenant_models: tuple[str, ...] = ("Tenant",)
    global_models: tuple[str, ...] = ()
    rls_wrappers: tuple[str, ...] = ("withTenantRLS",)
    scope_helpers: tuple[str, ...] = ("tenantFilter",)
    tenant_resolvers: tuple[str, ...] = ("getResolvedTenantId",)
    guards: tuple[str, ...] = ("registerTenantGuard",)
    tenancy_flags: tuple[str, ...] = ("MULTI_TENANCY_ENABLED",)
    trusted_tenant_headers: tuple[str, ...] = ()
    rls: Literal["auto", "required", "off"] = "auto"
    migrations: tuple[str, ...] = ()  # extra globs of SQL migration files
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # code that is cross-tenant on purpose (PRECISION 7, 17): the code rules skip it; `[]` lints it
    non_product_code: tuple[str, ...] = NON_PRODUCT_CODE
    severity: dict[str, Severity] = Field(default_factory=dict)
    # files bigger than this are not read (listed as skipped in the report and by --verbose)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    @field_validator("max_file_size", mode="before")
    @classmethod
    def _size(cls, value: object) -> int:
        return parse_size(value)

    def parsing_key(self) -> str:
        """The part of the config that changes what front ends extract (for the fact cache)."""
        return self.model_dump_json(
            include={
                "tenant_fields",
                "tenant_models",
                "rls_wrappers",
                "scope_helpers",
                "tenant_resolvers",
                "guards",
                "tenancy_flags",
                "trusted_tenant_headers",
                "migrations",
                "max_file_size",
            }
        )


def to_toml(config: Config) -> str:
    """Every key of the config with its resolved value, as the TOML that would set it (a key
    whose value is "each rule's default", `select`, as a comment)."""
    lines: list[str] = []
    for name, value in config.model_dump().items():
        key = name.replace("_", "-")
        if value is None:
            lines.append(f"# {key}: not set (each rule's default)")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items())
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes and backslashes escaped, control characters as `\\uXXXX`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub("[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m[0]):04x}", escaped) + '"'


def find_config_file(root: Path) -> Path | None:
    """The config file at the root: tenantlint.toml, .tenantlint.toml, or a pyproject with our table."""
    for name in CONFIG_FILES:
        path = root / name
        if path.is_file() and (name != "pyproject.toml" or _pyproject_has_table(path)):
            return path
    return None


def _pyproject_has_table(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "tenantlint" in data.get("tool", {})


def load_config(path: Path | None, display: str | None = None) -> Config:
    """Read and validate a config file; `None` gives the defaults."""
    if path is None:
        return Config()
    shown = display or str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read config: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: config is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None
    table: Any = (
        data.get("tool", {}).get("tenantlint", {}) if path.name == "pyproject.toml" else data
    )
    prefix = "tool.tenantlint." if path.name == "pyproject.toml" else ""
    if not isinstance(table, dict):
        raise ConfigError(f"{shown}: [{prefix.rstrip('.') or 'tenantlint'}] must be a table")
    return config_from_dict(table, shown, prefix)


def config_from_dict(table: dict[str, Any], shown: str = "config", prefix: str = "") -> Config:
    try:
        return Config.model_validate(table)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{shown}: unknown key '{prefix}{key}'") from None
        msg = err["msg"]
        raise ConfigError(f"{shown}: key '{prefix}{key}': {msg[:1].lower()}{msg[1:]}") from None
