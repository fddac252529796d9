"""The rule registry: every rule comes through the `tenantlint.rules` entry-point group.

Built-in rules register there exactly as plugins do. An entry point names either a `Rule`
subclass or a callable returning `Rule` subclasses. One lookup (`select`) resolves a code
(`TL301`), a prefix (`TL3`), a name (`unscoped-query`) or `ALL`, for every place a user names
rules: `--select`, config, per-file-ignores, suppressions and `explain`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib.metadata import entry_points

from tenantlint.errors import PluginError, UserError
from tenantlint.rule import Rule

GROUP = "tenantlint.rules"
_CODE = re.compile(r"^[A-Z]{1,5}[0-9]{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Registry:
    def __init__(self, rules: Iterable[type[Rule]]) -> None:
        self.rules: dict[str, type[Rule]] = {}
        self._by_name: dict[str, str] = {}
        for rule in rules:
            self._add(rule)
        self.rules = dict(sorted(self.rules.items()))

    def _add(self, rule: type[Rule]) -> None:
        code, name = getattr(rule, "code", ""), getattr(rule, "name", "")
        where = f"{rule.__module__}.{rule.__qualname__}"
        if not _CODE.match(code) or not _NAME.match(name):
            raise PluginError(f"rule {where}: invalid code {code!r} or name {name!r}")
        if code in self.rules or name in self._by_name:
            other = self.rules.get(code) or self.rules[self._by_name[name]]
            raise PluginError(
                f"rule {where} collides with {other.__module__}.{other.__qualname__} on {code}/{name}"
            )
        self.rules[code] = rule
        self._by_name[name] = code

    def select(self, selector: str) -> list[str]:
        """Codes matching one selector; raises UserError for a selector that matches none."""
        sel = selector.strip()
        if sel.upper() == "ALL":
            return list(self.rules)
        if sel in self._by_name:
            return [self._by_name[sel]]
        codes = [c for c in self.rules if c.startswith(sel.upper())] if sel else []
        if not codes:
            raise UserError(f"unknown rule code or name '{selector}'")
        return codes

    def lookup(self, code_or_name: str) -> type[Rule] | None:
        """Exactly one rule by code or name (no prefixes), or None."""
        key = code_or_name.strip()
        return self.rules.get(key.upper()) or self.rules.get(self._by_name.get(key, ""))

    def resolve(
        self,
        select: Iterable[str] | None,
        extend_select: Iterable[str] = (),
        ignore: Iterable[str] = (),
    ) -> list[str]:
        """The enabled codes: `select` (or each rule's default) + `extend_select` minus `ignore`."""
        if select is None:
            chosen = {c for c, r in self.rules.items() if r.enabled_by_default}
        else:
            chosen = {c for s in select for c in self.select(s)}
        chosen |= {c for s in extend_select for c in self.select(s)}
        chosen -= {c for s in ignore for c in self.select(s)}
        return sorted(chosen)


@cache
def load_registry() -> Registry:
    rules: list[type[Rule]] = []
    eps = entry_points(group=GROUP)
    if not eps:
        raise PluginError("no rules registered: is tenantlint installed (pip install -e .)?")
    for ep in sorted(eps, key=lambda e: (e.name != "builtin", e.name)):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must be loud, never silently dropped
            raise PluginError(
                f"rule plugin '{ep.name}' ({ep.value}) failed to load: {exc}"
            ) from exc
        if isinstance(obj, type) and issubclass(obj, Rule):
            rules.append(obj)
        elif callable(obj):
            rules.extend(obj())
        else:
            raise PluginError(
                f"rule plugin '{ep.name}' ({ep.value}) is neither a Rule nor a callable"
            )
    return Registry(rules)
