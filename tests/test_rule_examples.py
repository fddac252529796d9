"""Every rule's documented examples run, for every stack: bad ones yield exactly their markers,
good ones nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import actual_findings, expected_markers, run_check, write_project
from tenantlint.registry import load_registry
from tenantlint.rule import Files
from tenantlint.ruledocs import STACKS, example_sets, stack_of

RULES = list(load_registry().rules.values())
EXAMPLES = [
    (rule, stack, bad, good) for rule in RULES for stack, (bad, good) in example_sets(rule).items()
]
IDS = [f"{rule.code}-{stack}" for rule, stack, _, _ in EXAMPLES]


@pytest.mark.parametrize(("rule", "stack", "bad", "good"), EXAMPLES, ids=IDS)
def test_bad_example_yields_exactly_its_markers(
    rule: type, stack: str, bad: Files, good: Files, tmp_path: Path
) -> None:
    root = write_project(tmp_path, bad)
    expected = expected_markers(root)
    assert any(code == rule.code for _, _, code in expected), "a bad example must mark its own rule"
    code, data = run_check(root, "--extend-select", rule.code)
    assert actual_findings(data) == expected
    assert code == 1


@pytest.mark.parametrize(("rule", "stack", "bad", "good"), EXAMPLES, ids=IDS)
def test_good_example_is_clean(
    rule: type, stack: str, bad: Files, good: Files, tmp_path: Path
) -> None:
    root = write_project(tmp_path, good)
    code, data = run_check(root, "--extend-select", rule.code)
    assert actual_findings(data) == set()
    assert code == 0


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_documented(rule: type) -> None:
    assert rule.summary.strip() and len(rule.rationale) > 80
    assert rule.bad and rule.good
    own = vars(rule)  # metadata is the rule's own: a new rule copies a neighbour's
    assert {"precision", "fix"} <= own.keys() and rule.fix
    assert ("security_severity" in own) == bool(rule.cwe), "a security rule names its CWEs"
    for stack, (bad, good) in rule.examples.items():
        assert stack in STACKS and stack_of(bad) == stack == stack_of(good), (rule.code, stack)
