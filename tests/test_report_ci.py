"""docs/ci.md: the GitHub Actions recipe parses, and its tenantlint steps run (offline) as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "next-prisma-rls"


def workflow() -> dict[str, Any]:
    text = (ROOT / "docs" / "ci.md").read_text()
    block = re.search(r"```yaml\n(name: tenantlint\n.*?)```", text, re.DOTALL)
    assert block, "docs/ci.md has no workflow block"
    data: dict[str, Any] = yaml.safe_load(block.group(1))
    return data


def test_workflow_shape() -> None:
    wf = workflow()
    assert wf["permissions"]["security-events"] == "write"
    steps = wf["jobs"]["tenantlint"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    upload = next(
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif")
    )
    assert upload["with"]["sarif_file"] == "tenantlint.sarif"


def test_workflow_tenantlint_steps_run(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns(".tenantlint_cache"))
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # the venv's tenantlint
    steps = [
        s
        for s in workflow()["jobs"]["tenantlint"]["steps"]
        if s.get("run", "").startswith("tenantlint ")
    ]
    assert len(steps) == 4
    codes = {}
    outputs = {}
    for step in steps:
        res = subprocess.run(
            ["bash", "-c", step["run"]], cwd=project, env=env, capture_output=True, text=True
        )
        assert "Traceback" not in res.stderr
        codes[step["name"]] = res.returncode
        outputs[step["name"]] = res.stdout
    gate = next(n for n in codes if n.startswith("Lint"))
    assert codes[gate] == 1  # the fixture has findings: the gate fails the job
    assert re.search(r"^::error file=prisma/schema\.prisma,line=\d+", outputs[gate], re.MULTILINE)
    assert all(code == 0 for name, code in codes.items() if name != gate)
    sarif = json.loads((project / "tenantlint.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert summary.read_text().startswith("# Tenancy audit: repo")
    assert "<h1>Tenancy audit: repo</h1>" in (project / "tenantlint-report.html").read_text()
    assert list((project / ".tenantlint_cache").glob("facts-*.jsonl"))  # later steps ran warm
