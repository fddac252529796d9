"""`explain` and `rules --format json`: the example of the user's stack as the lines that change
from bad to good, without `expect:` markers, and the settings that change the rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantlint.cli import main
from tenantlint.registry import load_registry
from tenantlint.ruledocs import STACKS, example_sets, unmarked

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RULES = list(load_registry().rules.values())


def explain(*args: str) -> str:
    result = CliRunner().invoke(main, ["explain", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_example_is_shown_as_a_diff_without_markers(rule: type) -> None:
    for stack in example_sets(rule):
        out = explain(rule.code, "--lang", stack)
        assert f"### Example ({stack})" in out
        assert "```diff\n--- bad/" in out and "\n+" in out
        assert "expect:" not in out
        for key in rule.config_keys:
            assert f"\n{key} = " in out, (rule.code, key)


def test_only_the_changed_lines_and_their_neighbours_are_shown() -> None:
    out = explain("TL401", "--lang", "prisma")
    diff = out.split("```diff\n", 1)[1].split("```", 1)[0].splitlines()
    assert diff[:2] == ["--- bad/app/api/projects/route.ts", "+++ good/app/api/projects/route.ts"]
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("---", "+++")] == [
        "-  const tenantId = await currentTenantId();",
        "+  const tenantId = await getResolvedTenantId(req);",
    ]
    assert "Unchanged: `prisma/schema.prisma`, `lib/prisma.ts`" in out


@pytest.mark.parametrize(
    ("fixture", "stack"),
    [("django", "django"), ("fastapi-sqlalchemy", "sqlalchemy"), ("next-prisma-rls", "prisma")],
)
def test_the_project_in_the_current_directory_picks_the_example(
    fixture: str, stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(FIXTURES / fixture, tmp_path / fixture)
    monkeypatch.chdir(tmp_path / fixture)
    out = explain("TL301")
    assert f"### Example ({stack})" in out
    assert "tenant-fields = [" in out  # the project's values of the settings
    assert f"Example ({stack}): there is no" not in out


def test_a_stack_without_an_example_falls_back_and_says_so() -> None:
    rule = next(r for r in RULES if "django" not in example_sets(r) and r.code.startswith("TL1"))
    out = explain(rule.code, "--lang", "django")
    assert "### Example (prisma): there is no django example of this rule" in out


def test_unmarked_removes_markers_and_the_comments_they_leave_empty() -> None:
    text = "a = 1  # expect: TL301\nb // tenantlint: ignore[TL103] expect: TL002\nc -- expect: TL201, TL202\n"
    assert unmarked(text) == "a = 1\nb // tenantlint: ignore[TL103]\nc\n"


def test_rules_json_carries_the_full_docs() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    records = {r["code"]: r for r in json.loads(result.stdout)}
    assert set(records) == {r.code for r in RULES}
    for rule in RULES:
        rec = records[rule.code]
        assert rec["rationale"] == rule.rationale and rec["fix"] == rule.fix
        assert rec["config_keys"] == list(rule.config_keys)
        assert set(rec["examples"]) <= set(STACKS) and rec["examples"]
        first = next(iter(rec["examples"].values()))
        assert first == {"bad": rule.bad, "good": rule.good}
        assert rec["markdown"].startswith(f"## {rule.code} {rule.name}")
        assert rec["help_uri"].endswith(f"#{rule.code.lower()}-{rule.name}")


def test_outside_a_project_the_main_example_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "models.py").write_text("from django.db import models\n")
    monkeypatch.chdir(tmp_path)  # no config, no .git: not a project, nothing is walked
    assert "### Example (prisma); also sqlalchemy, django" in explain("TL301")
