"""The command line: exit codes, selection, formats, suppressions and bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import write_project
from tenantlint.cli import main

SCHEMA = (
    "model Tenant {\n  id String @id\n}\n"
    "model Project {\n"
    "  id       String  @id\n"
    "  tenantId String?\n"
    "  slug     String  @unique\n"
    "  @@index([tenantId])\n"
    "}\n"
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def project(tmp_path: Path, schema: str = SCHEMA, config: str = "") -> Path:
    return write_project(tmp_path, {"prisma/schema.prisma": schema, "tenantlint.toml": config})


def rules_of(stdout: str) -> list[tuple[str, int]]:
    return [(f["rule"], f["line"]) for f in json.loads(stdout)["findings"]]


def test_exit_codes_and_fail_on(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert invoke("check", str(root))[0] == 1
    assert invoke("check", str(root), "--fail-on", "never")[0] == 0
    assert invoke("check", str(root), "--select", "TL104")[0] == 0  # nothing selected fires
    root2 = project(tmp_path / "clean", "model Tenant {\n  id String @id\n}\n")
    code, out, _ = invoke("check", str(root2))
    assert code == 0 and "No findings in 1 file." in out


def test_select_ignore_by_code_prefix_and_name(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert rules_of(invoke("check", str(root), "--format", "json")[1]) == [
        ("TL103", 6),
        ("TL102", 7),
    ]
    assert rules_of(
        invoke("check", str(root), "--format", "json", "--ignore", "nullable-tenant-column")[1]
    ) == [("TL102", 7)]
    assert rules_of(
        invoke("check", str(root), "--format", "json", "--select", "TL10", "--ignore", "TL102")[1]
    ) == [("TL103", 6)]
    code, _, err = invoke("check", str(root), "--select", "TL9")
    assert code == 2 and "unknown rule code or name 'TL9'" in err


def test_severity_override_and_fail_on_error(tmp_path: Path) -> None:
    root = project(tmp_path, config='severity = { TL102 = "warning", TL103 = "info" }\n')
    code, out, _ = invoke("check", str(root), "--format", "json", "--fail-on", "error")
    assert code == 0
    assert [f["severity"] for f in json.loads(out)["findings"]] == ["info", "warning"]


def test_per_file_ignores(tmp_path: Path) -> None:
    root = project(tmp_path, config='per-file-ignores = { "prisma/*.prisma" = ["TL1"] }\n')
    assert invoke("check", str(root))[0] == 0


def test_json_shape(tmp_path: Path) -> None:
    root = project(tmp_path)
    data = json.loads(invoke("check", str(root), "--format", "json")[1])
    assert data["tool"] == {"name": "tenantlint", "version": "0.1.0"}
    first = data["findings"][0]
    assert set(first) == {
        "rule",
        "name",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "fingerprint",
    }
    assert first["path"] == "prisma/schema.prisma" and first["column"] == 3
    assert data["summary"] == {
        "files_scanned": 1,
        "findings": 2,
        "suppressed": 0,
        "baselined": 0,
        "by_rule": {"TL102": 1, "TL103": 1},
    }


def test_fingerprint_survives_lines_added_above(tmp_path: Path) -> None:
    root = project(tmp_path)
    before = json.loads(invoke("check", str(root), "--format", "json")[1])["findings"]
    (root / "prisma/schema.prisma").write_text("// a new comment\n\n" + SCHEMA)
    after = json.loads(invoke("check", str(root), "--format", "json")[1])["findings"]
    assert [f["line"] for f in after] == [f["line"] + 2 for f in before]
    assert [f["fingerprint"] for f in after] == [f["fingerprint"] for f in before]


def test_suppressions_own_line_next_line_file_and_meta_findings(tmp_path: Path) -> None:
    schema = (
        "// tenantlint: ignore-file[TL101] lookup tables\n"
        "model Tenant {\n  id String @id\n}\n"
        "model Country {\n  code String @id\n}\n"
        "model Project {\n"
        "  id       String  @id\n"
        "  tenantId String? // tenantlint: ignore[TL103] backfill pending\n"
        "  // tenantlint: ignore[unique-not-tenant-scoped]\n"
        "  slug     String  @unique\n"
        "  name     String  // tenantlint: ignore[TL104]\n"
        "  code     String  @unique // tenantlint: ignore[TL1O2]\n"
        "  @@index([tenantId])\n"
        "}\n"
    )
    root = project(tmp_path, schema)
    code, out, _ = invoke("check", str(root), "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert rules_of(out) == [("TL002", 13), ("TL102", 14), ("TL003", 14)]
    assert data["summary"]["suppressed"] == 3


def test_paths_restrict_reporting_not_context(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "a/schema.prisma": "model Tenant {\n  id String @id\n}\nmodel P {\n  id String @id\n  tenantId String?\n  @@index([tenantId])\n}\n",
            "b/other.prisma": "model Q {\n  id String @id\n  tenantId String\n  p P @relation(fields: [pId], references: [id])\n  pId String\n  @@index([tenantId])\n}\n",
        },
    )
    _, out, _ = invoke("check", str(root / "b"), "--format", "json", "--extend-select", "TL105")
    assert rules_of(out) == [("TL105", 4)]  # P is known to be tenant-scoped from a/schema.prisma
    assert json.loads(out)["summary"]["files_scanned"] == 1


def test_bad_input(tmp_path: Path) -> None:
    code, _, err = invoke("check", str(tmp_path / "missing"))
    assert code == 2 and err.strip().endswith("missing: no such file or directory")
    code, _, err = invoke("check", "--config", str(tmp_path / "nope.toml"), str(tmp_path))
    assert code == 2 and "config file not found" in err
    code, _, err = invoke("explain", "TL999")
    assert code == 2 and "unknown rule code or name 'TL999'" in err
    code, _, err = invoke("check", "--format", "xml", str(tmp_path))
    assert code == 2


def test_unparsable_file_is_tl001_and_the_rest_runs(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "prisma/a.prisma": "model Tenant {\n  id String @id\n}\nmodel Broken {\n  id String @id @default(\n",
            "prisma/b.prisma": "model P {\n  id String @id\n  tenantId String?\n  @@index([tenantId])\n}\n",
        },
    )
    (root / "prisma/c.prisma").write_bytes(b"model \xff {}")
    code, out, _ = invoke("check", str(root), "--format", "json")
    assert code == 1
    assert [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]] == [
        ("TL001", "prisma/a.prisma", 4),
        ("TL103", "prisma/b.prisma", 3),
        ("TL001", "prisma/c.prisma", 1),
    ]


def test_rules_and_explain() -> None:
    code, out, _ = invoke("rules", "--format", "json")
    rules = {r["code"]: r for r in json.loads(out)}
    assert (
        rules["TL105"]["enabled"] is False and rules["TL102"]["name"] == "unique-not-tenant-scoped"
    )
    code, out, _ = invoke("explain", "unique-not-tenant-scoped")
    assert (
        code == 0
        and out.startswith("## TL102 unique-not-tenant-scoped")
        and "### Example (" in out
        and "```diff" in out
    )


def test_internal_error_is_one_line_unless_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tenantlint import engine

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(engine, "TenancyMap", boom)
    root = project(tmp_path)
    code, _, err = invoke("check", str(root))
    assert code == 2
    assert (
        err.strip()
        == "tenantlint: internal error: RuntimeError: kaput (run with --verbose for details)"
    )
    result = CliRunner().invoke(main, ["check", str(root), "--verbose"])
    assert isinstance(result.exception, RuntimeError)


def test_path_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(
        tmp_path,
        {
            "a/schema.prisma": "model Tenant {\n  id String @id\n}\nmodel P {\n  id String @id\n  tenantId String?\n  @@index([tenantId])\n}\n",
            "b/other.prisma": "model Q {\n  id String @id\n}\n",
        },
    )
    monkeypatch.chdir(root / "b")  # the root is found upwards; only "." is reported
    assert rules_of(invoke("check", "--format", "json")[1]) == [("TL101", 1)]
    monkeypatch.chdir(root)
    assert rules_of(invoke("check", "--format", "json")[1]) == [("TL103", 6), ("TL101", 1)]


def test_file_name_that_is_not_utf8_is_analysed_and_shown_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path, {"tenantlint.toml": 'tenant-fields = ["tenant_id"]\n'})
    monkeypatch.chdir(root)
    (root / os.fsdecode(b"b\xff.py")).write_text("x = 1\n")
    (root / os.fsdecode(b"c\xfe.py")).write_text("x = (\n")  # TL001, so the path is shown
    shown = "c\\xfe.py"
    for _ in ("cold", "warm"):  # the second run reads the cache written by the first
        result = CliRunner().invoke(main, ["check", str(root)])
        assert result.exit_code == 1, result.output
        assert result.stdout.startswith(f"{shown}:1:5: TL001 [error]")
        assert "in 1 file (2 scanned)" in result.stdout
    data = json.loads(invoke("check", str(root), "--format", "json")[1])
    assert [f["path"] for f in data["findings"]] == [shown]
    sarif = json.loads(invoke("check", str(root), "--format", "sarif")[1])
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "c%FE.py"  # the name's own byte, RFC 3986
    (pack,) = (root / ".tenantlint_cache").glob("facts-*.jsonl")
    assert '"c\\\\xfe.py"' in pack.read_text(encoding="utf-8")
    # the file given by its own name on the command line is reported
    code, out, _ = invoke("check", str(root / os.fsdecode(b"c\xfe.py")), "--format", "json")
    assert code == 1 and [f["path"] for f in json.loads(out)["findings"]] == [shown]


def test_config_file_elsewhere_supplies_settings_not_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "next-prisma-rls"
    in_place = rules_and_paths(invoke("check", str(fixture), "--format", "json", "--no-cache"))
    assert len(in_place) > 5
    project = tmp_path / "app"
    shutil.copytree(fixture, project, ignore=shutil.ignore_patterns(".tenantlint_cache"))
    settings = tmp_path / "settings"
    settings.mkdir()
    (project / "tenantlint.toml").rename(settings / "tenantlint.toml")
    (project / ".git").mkdir()  # the project's root marker, without its config
    config = str(settings / "tenantlint.toml")
    monkeypatch.chdir(settings)  # a sibling folder, holding the config
    assert rules_and_paths(invoke("check", "../app", "--config", config, "--format", "json")) == (
        in_place
    )
    monkeypatch.chdir(project / "app")  # inside the project, the config outside it
    assert rules_and_paths(invoke("check", "..", "--config", config, "--format", "json")) == (
        in_place
    )


def rules_and_paths(run: tuple[int, str, str]) -> list[tuple[str, str, int]]:
    code, out, err = run
    assert code == 1, err
    return [(f["rule"], f["path"], f["line"]) for f in json.loads(out)["findings"]]


def test_command_line_selection_wins_over_the_config(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "next-prisma-rls"
    rules = {r for r, _, _ in rules_and_paths(invoke("check", str(fixture), "--format", "json"))}
    assert {"TL105", "TL301"} <= rules  # the config's extend-select adds TL105
    selected = invoke("check", str(fixture), "--format", "json", "--select", "unscoped-query")
    assert {r for r, _, _ in rules_and_paths(selected)} == {"TL301"}  # and --select replaces it

    root = project(tmp_path, config='ignore = ["TL102"]\nextend-select = ["TL105"]\n')
    assert rules_of(invoke("check", str(root), "--format", "json")[1]) == [("TL103", 6)]
    # --select replaces the config's select, extend-select and ignore
    assert rules_of(invoke("check", str(root), "--format", "json", "--select", "TL102")[1]) == [
        ("TL102", 7)
    ]
    # --extend-select and --ignore add to the config's selection, and win where they differ
    extended = invoke("check", str(root), "--format", "json", "--extend-select", "TL102")
    assert rules_of(extended[1]) == [("TL103", 6), ("TL102", 7)]
    code, out, _ = invoke("check", str(root), "--format", "json", "--ignore", "TL103")
    assert code == 0 and rules_of(out) == []


def test_exit_zero_output_format_and_github_actions_default(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, out, _ = invoke("check", str(root), "--exit-zero")
    assert code == 0 and "TL102 [error]" in out  # findings printed, exit 0
    assert invoke("check", str(tmp_path / "missing"), "--exit-zero")[0] == 2  # errors still 2
    assert invoke("check", str(root), "--exit-zero", "--select", "TL9")[0] == 2
    code, out, _ = invoke("check", str(root), "--output-format", "json")
    assert code == 1 and rules_of(out) == [("TL103", 6), ("TL102", 7)]

    def in_actions(*args: str) -> str:
        result = CliRunner(env={"GITHUB_ACTIONS": "true"}).invoke(main, ["check", *args])
        assert result.exit_code == 1, result.output
        return result.stdout

    assert in_actions(str(root)).startswith("::error file=prisma/schema.prisma,line=6,")
    assert ": TL103 [error]" in in_actions(str(root), "--format", "text")  # explicit: text
    assert json.loads(in_actions(str(root), "--output-format", "json"))["findings"]
    written = tmp_path / "out.txt"
    in_actions(str(root), "-o", str(written))  # a file is not the runner's log: text
    assert written.read_text().startswith(f"{root / 'prisma/schema.prisma'}:6:")


def test_show_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tenantlint.config import config_from_dict, tomllib

    root = write_project(
        tmp_path,
        {
            "prisma/schema.prisma": SCHEMA,
            "app/a.ts": "export const x = 1;\n",
            "app/b.py": "x = 1\n",
            "tenantlint.toml": 'extend-select = ["TL105"]\nseverity = { TL104 = "info" }\n',
        },
    )
    monkeypatch.chdir(root / "app")
    code, out, err = invoke("check", "--show-settings", "--ignore", "TL1")
    assert code == 0 and err == "", err
    head, _, settings = out.partition("# Settings (the config with its defaults):\n")
    assert f"Root: {root.resolve()}" in head and "Config: tenantlint.toml" in head
    assert "Files: 3 in the project (1 prisma, 1 python, 1 typescript), 2 reported" in head
    enabled = head.split("Rules enabled (", 1)[1].split("\n", 1)[0]
    assert "TL301" in enabled and "TL10" not in enabled  # the command line's --ignore applies
    parsed = tomllib.loads(settings)  # the resolved settings, as TOML that would set them
    assert parsed["extend-select"] == ["TL105"] and parsed["severity"] == {"TL104": "info"}
    assert parsed["tenant-fields"] == ["tenantId", "tenant_id"]  # defaults shown too
    assert config_from_dict(parsed) == config_from_dict(
        {"extend-select": ["TL105"], "severity": {"TL104": "info"}}
    )
