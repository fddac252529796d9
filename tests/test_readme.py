"""The README stays true: its first two commands, and every registered rule in its table."""

from __future__ import annotations

import re
from pathlib import Path

from tenantlint.config import Config
from tenantlint.registry import load_registry

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_rule_is_documented_with_code_name_and_default() -> None:
    for rule in load_registry().rules.values():
        row = re.search(
            rf"^\| {rule.code} \| {re.escape(rule.name)} \| ([^|]+) \|", README, re.MULTILINE
        )
        assert row, f"README lacks a row for {rule.code} {rule.name}"
        default = row[1].strip()
        assert default.startswith(rule.severity), (rule.code, default)
        assert ("off" in default) == (not rule.enabled_by_default), (rule.code, default)


def test_every_config_key_is_documented() -> None:
    for key in Config.model_fields:
        assert f"`{key.replace('_', '-')}`" in README, key


def test_readme_starts_with_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    assert "pip install -e . && tenantlint check fixtures/next-prisma-rls" in blocks[0]
    assert "pip install -e '.[dev]' && python -m pytest" in blocks[1]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "pip install -q -e '.[dev]'" in ci and "python -m pytest\n" in ci


def test_every_option_of_every_command_is_documented() -> None:
    from tenantlint.cli import main

    missing = [
        f"{name} {opt}"
        for name, command in main.commands.items()
        for param in command.params
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--") and opt not in README
    ]
    assert missing == []
