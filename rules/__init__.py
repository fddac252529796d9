"""Built-in rules, one module per rule (`tl102_unique_not_tenant_scoped.py`).

Registered through the `tenantlint.rules` entry point `builtin`, the same path plugins take.
"""

from __future__ import annotations

import importlib
import pkgutil

from tenantlint.rule import Rule


def builtin_rules() -> list[type[Rule]]:
    """Every `Rule` subclass defined in this package's `tlNNN_*` modules."""
    found: list[type[Rule]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("tl"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Rule)
            and obj.__module__ == module.__name__
            and "code" in vars(obj)
        ]
    return found
