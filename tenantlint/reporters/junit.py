"""JUnit XML: one test case per finding, grouped in one suite per rule."""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from tenantlint.report_model import Report
from tenantlint.reporters.escape import printable
from tenantlint.rule import Finding


class JunitReporter:
    def render(self, report: Report, *, statistics: bool = False, quiet: bool = False) -> str:
        by_rule: dict[str, list[Finding]] = defaultdict(list)
        for f in report.findings:
            by_rule[f.rule].append(f)
        suites = ET.Element(
            "testsuites",
            name="tenantlint",
            tests=str(len(report.findings)),
            failures=str(len(report.findings)),
        )
        for code, findings in sorted(by_rule.items()):
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=code,
                tests=str(len(findings)),
                failures=str(len(findings)),
            )
            for f in findings:  # printable: control characters are not allowed in XML 1.0
                where = f"{printable(f.path)}:{f.line}:{f.column}"
                case = ET.SubElement(suite, "testcase", name=where, classname=f"{f.rule} {f.name}")
                message = printable(f.message)
                failure = ET.SubElement(case, "failure", message=message, type=f.severity)
                failure.text = f"{where}: {f.rule} {message}"
        if not report.findings:
            ET.SubElement(
                ET.SubElement(suites, "testsuite", name="tenantlint", tests="1", failures="0"),
                "testcase",
                name="no findings",
                classname="tenantlint",
            )
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
