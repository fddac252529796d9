"""tenantlint: a static auditor for multi-tenant applications."""

__version__ = "0.1.0"
# Where the project is hosted: the install commands, pre-commit's `repo:` and SARIF's rule links
# name it. OWNER is a placeholder until it has a public home (docs/install.md); pyproject's
# [project.urls] and the docs say the same, and tests/test_install.py keeps them together.
REPOSITORY = "https://github.com/OWNER/tenantlint"
