"""TL501 ambiguous-tenancy-flag: a tenancy flag read with a fallback default, or parsed loosely."""

from __future__ import annotations

from collections.abc import Iterator

from tenantlint.rule import Finding, Rule
from tenantlint.tenancy import TenancyMap

from ._examples import SCHEMA
from ._py_examples import sqlalchemy

_FLAGS = "export const multiTenancy = {READ};{MARK}\n"


_SETTINGS = 'import os\n\nMULTI_TENANCY = {read} == "true"{mark}\n'


# the front ends' words for a problem, where they are not the user's
_PLAIN = {"destructuring default": "a default where it is destructured from process.env"}


class AmbiguousTenancyFlag(Rule):
    code = "TL501"
    name = "ambiguous-tenancy-flag"
    severity = "warning"
    security_severity = 5.9
    cwe = (1188,)
    precision = "high"
    config_keys = ("tenancy-flags", "non-product-code")
    fix = "require the variable and compare it to one exact value, failing when it is unset"
    summary = "A tenancy flag read with a fallback default, or parsed loosely, so unset or mistyped values pass silently."
    rationale = (
        "A flag that switches multi-tenancy must fail closed. `process.env.FLAG ?? 'true'` hides a "
        "missing variable, `!== 'false'` turns `'no'` or `'False'` into on, and `Boolean(…)` turns "
        "`'false'` into true. Parse the flag strictly (exactly `'true'` or `'false'`) and refuse to "
        "start on anything else."
    )
    bad = {
        "prisma/schema.prisma": SCHEMA,
        "lib/flags.ts": _FLAGS.replace(
            "{READ}", 'process.env.MULTI_TENANCY_ENABLED !== "false"'
        ).replace("{MARK}", " // expect: TL501"),
    }
    good = {
        "prisma/schema.prisma": SCHEMA,
        "lib/flags.ts": _FLAGS.replace(
            "{READ}", 'process.env.MULTI_TENANCY_ENABLED === "true"'
        ).replace("{MARK}", ""),
    }

    examples = {
        "sqlalchemy": (
            sqlalchemy(
                {
                    "app/settings.py": _SETTINGS.format(
                        read='os.getenv("MULTI_TENANCY_ENABLED", "true")', mark="  # expect: TL501"
                    )
                }
            ),
            sqlalchemy(
                {
                    "app/settings.py": _SETTINGS.format(
                        read='os.environ["MULTI_TENANCY_ENABLED"]', mark=""
                    )
                }
            ),
        ),
    }

    def check(self, tmap: TenancyMap) -> Iterator[Finding]:
        for facts in tmap.iter_files():
            for flag in facts.flags:
                if flag.problem is not None:
                    strict = (
                        f'os.environ["{flag.flag}"] == "true"'
                        if flag.loc.path.endswith(".py")
                        else f'process.env.{flag.flag} === "true"'
                    )
                    yield self.finding(
                        flag.loc,
                        f"tenancy flag {flag.flag} fails open: {_PLAIN.get(flag.problem, flag.problem)}",
                        f"require the variable and compare it exactly, `{strict}`, failing at "
                        "start-up when it is unset",
                    )
