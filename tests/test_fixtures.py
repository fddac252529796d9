"""Golden fixture projects: the exact set of findings equals the inline `expect:` markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import actual_findings, expected_markers, known_codes, run_check

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = sorted(
    p
    for p in FIXTURES.iterdir()
    if (p / "tenantlint.toml").is_file() or (p / "pyproject.toml").is_file()
)


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_fixture_findings_match_markers(project: Path) -> None:
    expected = expected_markers(project, known_codes())
    code, data = run_check(project)
    assert sorted(actual_findings(data) - expected) == [], "unexpected findings"
    assert sorted(expected - actual_findings(data)) == [], "missed findings"
    assert code == (1 if expected else 0)
    assert data["summary"]["findings"] == len(data["findings"])
