"""Install as written: every install and pre-commit line of the docs names the repository (one
address: `tenantlint.REPOSITORY`, pyproject's `[project.urls]`) at this version's release tag;
the release step refuses the placeholder; and docs/ci.md's GitHub Actions recipe runs, offline,
on a fixture project (its install step is the one thing it cannot run here)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tenantlint import REPOSITORY, __version__

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
DOCS = {name: (REPO / name).read_text() for name in ("README.md", "docs/ci.md", "docs/install.md")}
TAG = f"v{__version__}"


def test_one_repository_address_and_this_versions_tag_everywhere() -> None:
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    assert project["urls"]["Repository"] == REPOSITORY
    for name, text in DOCS.items():
        urls = re.findall(r'"(tenantlint(?:\[db\])? @ [^"]+)"', text)
        assert urls, name
        for spec in urls:
            req = Requirement(spec)
            assert req.name == "tenantlint" and req.url == f"git+{REPOSITORY}@{TAG}", spec
        code = "\n".join(re.findall(r"```\w*\n(.*?)```", text, re.DOTALL))
        for line in re.findall(r"pip install [^\n]*", code):
            assert re.match(r"pip install (-e |-q -e |\"tenantlint(\[db\])? @ )", line), line
        for repo, rev in re.findall(r"- repo: (\S+)[^\n]*\n\s+rev: (\S+)", text):
            assert (repo, rev) == (REPOSITORY, TAG), name


def test_release_refuses_the_placeholder_address() -> None:
    if "OWNER" not in REPOSITORY:
        pytest.skip("the repository has its address: releasing is for a person to run")
    result = subprocess.run(
        ["bash", str(REPO / ".ci/release")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "placeholder OWNER/tenantlint" in result.stderr


def _workflow() -> dict[str, object]:
    yaml = pytest.importorskip("yaml")
    block = re.search(r"```yaml\n(name: tenantlint\n.*?)```", DOCS["docs/ci.md"], re.DOTALL)
    assert block, "docs/ci.md lost its workflow"
    workflow: dict[str, object] = yaml.safe_load(block[1])
    return workflow


def test_the_ci_recipe_runs_on_a_project(tmp_path: Path) -> None:
    """Each `run:` step as the runner would run it (bash, in the checkout, GITHUB_ACTIONS=true,
    a step summary file); `uses:` steps get the files they are given."""
    project = tmp_path / "app"
    shutil.copytree(
        REPO / "fixtures/next-prisma-rls",
        project,
        ignore=shutil.ignore_patterns(".tenantlint_cache"),
    )
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    steps = _workflow()["jobs"]["tenantlint"]["steps"]  # type: ignore[index]
    codes: dict[str, int] = {}
    for step in steps:
        if "uses" in step:  # an action: the files it is given exist
            given = step.get("with", {})
            if "upload-sarif" in step["uses"]:
                assert (project / given["sarif_file"]).is_file()
            if "upload-artifact" in step["uses"]:
                assert (project / given["path"]).is_file()
            continue
        command = step["run"]
        if command.startswith("pip install"):
            assert f"git+{REPOSITORY}@{TAG}" in command  # offline here: tenantlint is installed
            continue
        done = subprocess.run(
            ["bash", "-e", "-c", command], cwd=project, env=env, capture_output=True, text=True
        )
        codes[step.get("name", command)] = done.returncode
        if command == "tenantlint check --format github":
            assert done.stdout.startswith("::error file="), done.stdout[:200] + done.stderr
    assert codes.pop("Lint (annotations on the diff; fails the job on findings)") == 1
    assert set(codes.values()) == {0}, codes
    sarif = json.loads((project / "tenantlint.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert summary.read_text().startswith("#")
    assert (project / "tenantlint-report.html").read_text().lstrip().startswith("<!")

    adopt = re.search(r"```sh\n(tenantlint check --write-baseline [^\n]+)\n", DOCS["docs/ci.md"])
    assert adopt
    subprocess.run(["bash", "-e", "-c", adopt[1]], cwd=project, env=env, check=True)
    gate = subprocess.run(
        ["tenantlint", "check", "--format", "github", "--baseline", ".tenantlint-baseline.json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert gate.returncode == 0, gate.stdout + gate.stderr
