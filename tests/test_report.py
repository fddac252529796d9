"""`tenantlint report`: HTML (checked in headless Chromium), Markdown, JSON and its schema."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint.cli import main
from tenantlint.engine import load_project, run
from tenantlint.facts import Loc, Unverified
from tenantlint.report import render

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "next-prisma-rls"

SCHEMA = """model Tenant {
  id String @id @default(cuid())
}

model Project {
  id       String @id @default(cuid())
  tenantId String
  slug     String @unique // tenantlint: ignore[TL102] because slugs are global on purpose
  code     String @unique
  @@index([tenantId])
}
"""

MIGRATION = """CREATE TABLE "Project" ("id" TEXT PRIMARY KEY, "tenantId" TEXT NOT NULL, "slug" TEXT NOT NULL);
ALTER TABLE "Project" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Project" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON "Project" FOR SELECT
  USING ("tenantId" = current_setting('app.tenant_id'));
"""


def cli(*args: str) -> Any:
    res = CliRunner().invoke(main, ["report", *args])
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def fixture_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("report") / "report.json"
    cli(str(FIXTURE), "--no-cache", "--format", "json", "-o", str(out))
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "small",
        {"prisma/schema.prisma": SCHEMA, "prisma/migrations/0001_init/migration.sql": MIGRATION},
    )


class _Dom(HTMLParser):
    """Just enough of the DOM: elements with their attributes and text, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self.open: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, []))
        if tag not in {"meta", "br", "rect", "link", "img", "input"}:
            self.open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.elements[self.open.pop()][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for i in self.open:
            self.elements[i][2].append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        return [
            (a, "".join(text))
            for t, a, text in self.elements
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def chromium(*args: str, user_data: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        # .ci/run installs it and sets TENANTLINT_REQUIRE_BROWSER=1; elsewhere a machine without
        # a browser skips, and says why
        assert not os.environ.get("TENANTLINT_REQUIRE_BROWSER"), "Chromium is required here"
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={user_data}",
    ]
    return subprocess.run(
        [exe, *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


def test_html_report_renders_in_chromium(tmp_path: Path, fixture_json: dict[str, Any]) -> None:
    page = tmp_path / "report.html"
    cli(str(FIXTURE), "--no-cache", "-o", str(page))
    html = page.read_text()
    # self-contained: nothing to fetch (the SVG namespace URI is a name, not a resource)
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|src=", html, re.IGNORECASE)
    assert not re.findall(r"https?://(?!www\.w3\.org/2000/svg)", html)

    dom_text = chromium("--dump-dom", page.as_uri(), user_data=tmp_path / "profile").stdout
    dom = _Dom()
    dom.feed(dom_text)
    # the models table: one row per entity, with its classification
    rows = dom.find("tr")
    entity_rows = [a for a, _ in rows if "data-entity" in a]
    assert [a["data-entity"] for a in entity_rows] == [e["name"] for e in fixture_json["entities"]]
    project_row = next(text for a, text in rows if a.get("data-entity") == "Project")
    assert "scoped" in project_row and "tenantId" in project_row
    assert dom.find("tr", data_entity="Tenant")[0][0]["data-classification"] == "root"
    # coverage figures
    ((_, tables_text),) = [(a, t) for a, t in dom.find("section") if a.get("id") == "coverage"]
    assert f"{fixture_json['coverage']['tenant_tables']} tenant-scoped tables" in tables_text
    ((_, rls_row),) = dom.find("tr", id="coverage-rls")
    rls = fixture_json["coverage"]["rls_forced_with_policy"]
    assert f"{rls['count']} / {rls['total']}" in rls_row
    assert dom.find("svg")  # the charts
    # a finding, with its excerpt
    findings = dom.find("article", data_rule="TL102", data_path="prisma/schema.prisma")
    expected = [i for i in fixture_json["findings"] if i["finding"]["rule"] == "TL102"]
    assert len(dom.find("article", data_rule="TL102")) == len(expected) > 0
    attrs, text = findings[0]
    assert attrs["data-line"] == str(
        next(
            i["finding"]["line"] for i in expected if i["finding"]["path"] == "prisma/schema.prisma"
        )
    )
    assert "expect: TL102" in text  # the flagged source line is in the excerpt
    ((_, count),) = dom.find("div", id="summary-findings")
    assert count.startswith(str(fixture_json["summary"]["findings"]))

    shot = tmp_path / "report.png"
    chromium(
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        page.as_uri(),
        user_data=tmp_path / "profile",
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_json_report_matches_its_published_schema(fixture_json: dict[str, Any]) -> None:
    schema = json.loads(cli("--json-schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(fixture_json, schema)
    assert fixture_json["$schema"] == schema["$id"]


def test_json_report_has_the_findings_of_check(fixture_json: dict[str, Any]) -> None:
    res = CliRunner().invoke(main, ["check", str(FIXTURE), "--no-cache", "--format", "json"])
    check = json.loads(res.stdout)
    reported = [
        (i["finding"]["path"], i["finding"]["line"], i["finding"]["rule"])
        for i in fixture_json["findings"]
    ]
    assert reported == [(f["path"], f["line"], f["rule"]) for f in check["findings"]]
    assert fixture_json["summary"]["by_rule"] == check["summary"]["by_rule"]
    assert all(
        i["excerpt"] and any(x["flagged"] for x in i["excerpt"]) for i in fixture_json["findings"]
    )


def test_report_content_rls_suppressions_unverified(small: Path) -> None:
    result = run(load_project([small]), [small], use_cache=False)
    result.unverified.append(
        Unverified(
            loc=Loc(path="src/repo.ts", line=7), kind="TL301", reason="forwards the caller's where"
        )
    )
    data = json.loads(render(result, "json"))
    (project,) = [e for e in data["entities"] if e["name"] == "Project"]
    assert project["classification"] == "scoped"
    assert project["tenant_column"] == "tenantId"
    assert {
        tuple(u["fields"]): u["includes_tenant"] for u in project["uniques"] if not u["primary"]
    } == {
        ("slug",): False,
        ("code",): False,
    }
    rls = project["rls"]
    assert rls["enabled"] and rls["forced"]
    assert [(p["name"], p["ties_tenant"]) for p in rls["policies"]] == [("tenant_read", True)]
    assert rls["commands"] == {"SELECT": ["tenant_read"], "INSERT": [], "UPDATE": [], "DELETE": []}
    assert data["coverage"]["tenant_tables"] == 1
    assert data["coverage"]["rls_forced_with_policy"]["count"] == 1
    assert [(s["finding"]["rule"], s["reason"]) for s in data["suppressed"]] == [
        ("TL102", "because slugs are global on purpose")
    ]
    assert data["unverified"] == [
        {"path": "src/repo.ts", "line": 7, "kind": "TL301", "reason": "forwards the caller's where"}
    ]
    md = render(result, "markdown")
    assert "| `src/repo.ts:7` | `TL301` | forwards the caller's where |" in md
    assert "because slugs are global on purpose" in md
    assert re.search(r"\| Project \| scoped \| `tenantId` \| \(slug\) \(code\) \|", md)
    html = render(result, "html")
    assert "forwards the caller&#x27;s where" in html
    assert "because slugs are global on purpose" in html


def test_markdown_report_to_stdout(small: Path) -> None:
    out = cli(str(small), "--no-cache", "--format", "markdown").stdout
    assert out.startswith("# Tenancy audit: small\n")
    assert "## Coverage" in out and "## Tenancy map" in out and "## Findings" in out
    assert "| warning |" in out or "| error |" in out


def test_report_of_a_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["report", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html")]
    )
    assert res.exit_code == 2
    assert "no such file or directory" in res.output
    assert not (tmp_path / "r.html").exists()
