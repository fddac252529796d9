"""JUnit XML as CI dashboards read it: one failing test case per finding, with `file` (from the
repository's top level, as for SARIF) and `line`, grouped in one suite per rule; a clean run is
one passing test case. `tests` and `failures` add up at the suite and the suites level."""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from tenantlint.report_model import Report
from tenantlint.reporters.escape import printable
from tenantlint.reporters.paths import PathStyle
from tenantlint.rule import Finding


class JunitReporter:
    def render(
        self, report: Report, *, statistics: bool = False, quiet: bool = False, color: bool = False
    ) -> str:
        by_rule: dict[str, list[Finding]] = defaultdict(list)
        for f in report.findings:
            by_rule[f.rule].append(f)
        failures = len(report.findings)
        suites = _counted(ET.Element("testsuites", name="tenantlint"), max(failures, 1), failures)
        paths = PathStyle.of(report.root)
        for code, findings in sorted(by_rule.items()):
            suite = _counted(
                ET.SubElement(suites, "testsuite", name=code), len(findings), len(findings)
            )
            for f in findings:  # printable: control characters are not allowed in XML 1.0
                file = printable(paths.in_repo(f.path))
                where = f"{file}:{f.line}:{f.column}"
                case = ET.SubElement(
                    suite,
                    "testcase",
                    name=where,
                    classname=f"{f.rule} {f.name}",
                    file=file,
                    line=str(f.line),
                )
                message = printable(f.message)
                failure = ET.SubElement(case, "failure", message=message, type=f.severity)
                failure.text = f"{where}: {f.rule} {message}"
        if not report.findings:
            suite = _counted(ET.SubElement(suites, "testsuite", name="tenantlint"), 1, 0)
            ET.SubElement(suite, "testcase", name="no findings", classname="tenantlint")
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _counted(element: ET.Element, tests: int, failures: int) -> ET.Element:
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("errors", "0")
    element.set("skipped", "0")
    return element
