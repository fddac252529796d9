"""Every output format, from one real run: SARIF against the OASIS schema, JSON, GitHub, JUnit, Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint.cli import main

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sarif-schema-2.1.0.json"
SCHEMA = (
    "model Tenant {\n  id String @id\n}\n"
    "model Project {\n"
    "  id       String  @id\n"
    "  tenantId String? // tenantlint: ignore[TL103] backfill, see #12\n"
    "  slug     String  @unique\n"
    "  @@index([tenantId])\n"
    "}\n"
)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # text and Markdown name files from the current directory
    return write_project(tmp_path, {"prisma/schema.prisma": SCHEMA})


def render(root: Path, fmt: str) -> str:
    result = CliRunner().invoke(main, ["check", str(root), "--format", fmt])
    assert result.exit_code == 1, result.output
    return result.stdout


def test_sarif_validates_against_the_oasis_schema(root: Path) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the SARIF 2.1.0 schema is not on this machine ({SARIF_SCHEMA.name})")
    import jsonschema

    doc = json.loads(render(root, "sarif"))
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert (
        "## TL102 unique-not-tenant-scoped"
        in next(r for r in rules if r["id"] == "TL102")["help"]["markdown"]
    )
    results = {(r["ruleId"], "suppressions" in r) for r in run["results"]}
    assert results == {("TL102", False), ("TL103", True)}
    tl102 = next(r for r in run["results"] if r["ruleId"] == "TL102")
    region = tl102["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (7, 3)
    assert tl102["partialFingerprints"]["tenantlint/v1"]
    assert rules[tl102["ruleIndex"]]["id"] == "TL102"


def test_sarif_is_structurally_sound_without_the_schema(root: Path) -> None:
    doc = json.loads(render(root, "sarif"))
    assert doc["version"] == "2.1.0"
    suppressed = [r for r in doc["runs"][0]["results"] if "suppressions" in r]
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "justification": "backfill, see #12"}
    ]


def test_github_annotations(root: Path) -> None:
    out = render(root, "github")
    assert out == (
        "::error file=prisma/schema.prisma,line=7,col=3,endLine=7,endColumn=27,"
        "title=TL102 unique-not-tenant-scoped::unique (slug) on tenant-scoped 'Project' does not include "
        "tenantId: it is enforced across all tenants\n"
    )


def test_junit(root: Path) -> None:
    xml = ET.fromstring(render(root, "junit"))
    assert xml.get("tests") == "1" and xml.get("failures") == "1"
    case = xml.find("testsuite/testcase")
    assert case is not None and case.get("name") == "prisma/schema.prisma:7:3"
    assert (case.get("file"), case.get("line")) == ("prisma/schema.prisma", "7")


def _consistent_counts(xml: ET.Element) -> list[ET.Element]:
    """Every suite's and the suites' `tests`/`failures` count its cases; returns the cases."""
    cases: list[ET.Element] = []
    for suite in xml.findall("testsuite"):
        mine = suite.findall("testcase")
        assert suite.get("tests") == str(len(mine))
        assert suite.get("failures") == str(sum(c.find("failure") is not None for c in mine))
        cases += mine
    assert xml.get("tests") == str(len(cases))
    assert xml.get("failures") == str(sum(c.find("failure") is not None for c in cases))
    return cases


def test_junit_one_case_per_finding_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    schema = SCHEMA.replace("String? // tenantlint: ignore[TL103] backfill, see #12", "String?")
    root = write_project(
        tmp_path,
        {
            "prisma/schema.prisma": schema.replace(
                "@id\n  tenantId", "@id\n  code String @unique\n  tenantId"
            )
        },
    )
    findings = json.loads(render(root, "json"))["findings"]
    assert len(findings) == 3 and len({f["rule"] for f in findings}) == 2
    cases = _consistent_counts(ET.fromstring(render(root, "junit")))
    assert sorted(
        (c.get("file"), c.get("line"), c.find("failure") is not None) for c in cases
    ) == sorted((f["path"], str(f["line"]), True) for f in findings)


def test_junit_clean_run_is_one_passing_case(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"prisma/schema.prisma": "model Tenant {\n  id String @id\n}\n"})
    result = CliRunner().invoke(main, ["check", str(root), "--format", "junit"])
    assert result.exit_code == 0, result.output
    (case,) = _consistent_counts(ET.fromstring(result.stdout))
    assert case.find("failure") is None and case.get("name") == "no findings"


def test_markdown(root: Path) -> None:
    out = render(root, "markdown")
    assert "| error | `TL102` unique-not-tenant-scoped | `prisma/schema.prisma:7` |" in out
    assert "Found 1 finding (1 error) in 1 file (1 scanned); 1 suppressed." in out


def test_text_excerpt_and_statistics(root: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(root), "--statistics"])
    lines = result.stdout.splitlines()
    assert lines[0].startswith("prisma/schema.prisma:7:3: TL102 [error] unique (slug)")
    assert lines[1] == "     7 |   slug     String  @unique"
    assert lines[2] == "       |   " + "^" * len("slug     String  @unique")
    assert "    1  TL102  unique-not-tenant-scoped" in lines


def test_output_file(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "x.json"
    result = CliRunner().invoke(main, ["check", str(root), "--format", "json", "-o", str(out)])
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["summary"]["findings"] == 1


def test_json_validates_against_the_schema_of_the_pydantic_models(root: Path) -> None:
    import jsonschema

    from tenantlint.report_model import JsonDocument

    doc = json.loads(render(root, "json"))
    jsonschema.validate(doc, JsonDocument.model_json_schema())
    doc["findings"][0]["line"] = "seven"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, JsonDocument.model_json_schema())


# --- names and paths from the project are escaped for each format ---------------------------

HOSTILE_MODEL = """from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Doc(Base):
    __tablename__ = "docs"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, index=True)
"""
HOSTILE_PATH = "app/a\nb #c<img src=x onerror=alert(1)>é\x1b[31m.py"


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_project(
        tmp_path,
        {"tenantlint.toml": 'tenant-fields = ["tenant_id"]\n', HOSTILE_PATH: HOSTILE_MODEL},
    )


def test_text_github_and_junit_keep_one_finding_per_line(hostile: Path) -> None:
    shown = "app/a\\nb #c<img src=x onerror=alert(1)>é\\x1b[31m.py"
    text = render(hostile, "text").splitlines()
    assert text[0] == f"{shown}:10:5: TL103 [error] tenant column tenant_id of 'Doc' is nullable"
    assert len(text) == 6 and "\x1b" not in "".join(text)  # finding, excerpt, help, docs, summary
    (line,) = render(hostile, "github").splitlines()
    assert line.startswith(
        "::error file=app/a%0Ab #c<img src=x onerror=alert(1)>é\\x1b[31m.py,line=10,"
    )
    case = ET.fromstring(render(hostile, "junit")).find("testsuite/testcase")  # valid XML
    assert case is not None and case.get("name") == f"{shown}:10:5"


def test_sarif_uris_are_percent_encoded(hostile: Path) -> None:
    doc = json.loads(render(hostile, "sarif"))
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == (
        "app/a%0Ab%20%23c%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%C3%A9%1B%5B31m.py"
    )


def test_markdown_shows_names_and_messages_never_as_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = write_project(
        tmp_path,
        {
            "tenantlint.toml": 'tenant-fields = ["tenant_id"]\n',
            "app/x`y|<b>.py": HOSTILE_MODEL.replace('"docs"', '"<img src=x onerror=alert(1)>"'),
        },
    )
    out = render(root, "markdown")
    row = next(line for line in out.splitlines() if "TL103" in line)
    assert row == (
        "| error | `TL103` nullable-tenant-column | ``app/x`y\\|<b>.py:10`` | "
        "tenant column tenant\\_id of 'Doc' is nullable |"
    )
    report = CliRunner().invoke(main, ["report", str(root), "--format", "markdown"]).stdout
    assert "| Doc (`<img src=x onerror=alert(1)>`) | scoped |" in report  # a code span: literal
    assert "<" not in re.sub(r"(`+).*?\1", "", report)  # nothing outside code spans is HTML


def test_markdown_text_escapes_html_and_markdown() -> None:
    from tenantlint.reporters.escape import md_code, md_text

    assert md_text("<b>x</b> & *y* [z](http://e) a|b\nc") == (
        "&lt;b&gt;x&lt;/b&gt; &amp; \\*y\\* \\[z\\](http://e) a\\|b\\\\nc"
    )
    assert md_code("a`b") == "``a`b``" and md_code("`x") == "`` `x ``"


FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "next-prisma-rls"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
CROSS_TENANT = {"TL101", "TL201", "TL204", "TL206", "TL301", "TL302", "TL303", "TL304", "TL402"}


def test_sarif_fields_github_code_scanning_reads() -> None:
    """Per rule: a security-severity string (cross-tenant reads and writes at least 7.0, high),
    `security` and CWE tags, a precision, a helpUri to the rule's heading in docs/rules.md;
    per result, a non-empty partial fingerprint."""
    result = CliRunner().invoke(
        main, ["check", str(FIXTURE), "--select", "ALL", "--format", "sarif", "--no-cache"]
    )
    run = json.loads(result.stdout)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    headings = set(re.findall(r"^## (TL\d{3}) ([a-z-]+)$", DOCS.read_text(), re.MULTILINE))
    assert set(rules) == {code for code, _ in headings}
    for code, rule in rules.items():
        props = rule["properties"]
        assert props["precision"] in ("very-high", "high", "medium", "low"), code
        assert rule["helpUri"].endswith(f"/docs/rules.md#{code.lower()}-{rule['name']}"), code
        assert rule["fullDescription"]["text"] and rule["help"]["markdown"]
        if "security-severity" not in props:
            assert code in ("TL001", "TL002", "TL003", "TL104"), f"{code} is a security rule"
            continue
        severity = props["security-severity"]
        assert isinstance(severity, str) and 0 < float(severity) <= 10, code
        assert props["tags"][0] == "security"
        assert all(re.fullmatch(r"external/cwe/cwe-\d+", t) for t in props["tags"][1:])
        assert len(props["tags"]) > 1, f"{code} names no CWE"
        if code in CROSS_TENANT:
            assert float(severity) >= 7.0, code
    assert "external/cwe/cwe-639" in rules["TL301"]["properties"]["tags"]
    assert "external/cwe/cwe-89" in rules["TL305"]["properties"]["tags"]
    assert run["results"] and all(r["partialFingerprints"]["tenantlint/v1"] for r in run["results"])


def test_a_suppressed_result_keeps_the_fingerprint_it_has_unsuppressed(root: Path) -> None:
    def fingerprints() -> dict[str, tuple[str, bool]]:
        results = json.loads(render(root, "sarif"))["runs"][0]["results"]
        return {
            r["ruleId"]: (r["partialFingerprints"]["tenantlint/v1"], "suppressions" in r)
            for r in results
        }

    suppressed = fingerprints()
    assert suppressed["TL103"][1] and suppressed["TL103"][0]
    schema = root / "prisma/schema.prisma"
    schema.write_text(
        schema.read_text().replace(" // tenantlint: ignore[TL103] backfill, see #12", "")
    )
    assert fingerprints()["TL103"] == (suppressed["TL103"][0], False)


def test_docs_rules_md_is_generated_from_the_rules() -> None:
    """docs/rules.md, where SARIF's helpUri points, is `tenantlint rules --format markdown`."""
    result = CliRunner().invoke(main, ["rules", "--format", "markdown"])
    assert result.exit_code == 0
    assert DOCS.read_text(encoding="utf-8") == result.stdout, (
        "docs/rules.md is out of date: run `tenantlint rules --format markdown > docs/rules.md`"
    )
