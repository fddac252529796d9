"""tenantlint: a static auditor for multi-tenant applications."""

__version__ = "0.1.0"
