"""Every rule's documented examples run: bad ones yield exactly their markers, good ones nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import actual_findings, expected_markers, run_check, write_project
from tenantlint.registry import load_registry

RULES = list(load_registry().rules.values())


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_bad_example_yields_exactly_its_markers(rule: type, tmp_path: Path) -> None:
    root = write_project(tmp_path, rule.bad)
    expected = expected_markers(root)
    assert any(code == rule.code for _, _, code in expected), "a bad example must mark its own rule"
    code, data = run_check(root, "--extend-select", rule.code)
    assert actual_findings(data) == expected
    assert code == 1


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_good_example_is_clean(rule: type, tmp_path: Path) -> None:
    root = write_project(tmp_path, rule.good)
    code, data = run_check(root, "--extend-select", rule.code)
    assert actual_findings(data) == set()
    assert code == 0


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_documented(rule: type) -> None:
    assert rule.summary.strip() and len(rule.rationale) > 80
    assert rule.bad and rule.good
