"""How a TypeScript/JavaScript file sets tenancy up: Prisma clients and whether a tenant guard
wraps them, the names passed to a guard, tenancy-flag reads that fail open, default-tenant
fallbacks and the tenant context a Next.js middleware establishes.

`TenancyFacts` is the part of the file analysis (`analysis.Analysis`) that reads these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tenantlint.config import Config
from tenantlint.facts import ClientSite, FlagRead, TenantFallback

if TYPE_CHECKING:
    from tree_sitter import Node

    from tenantlint.frontends.typescript.prisma import PrismaCall
    from tenantlint.frontends.typescript.syntax import Source

# `tenantId`, `currentTenant`, `TENANT_SLUG` — not `AZUREAD_TENANT_ID` (someone else's tenant)
_TENANT_NAME = re.compile(
    r"(?i)^(?:current|default|active|resolved|my)?_?tenant(?:_?(?:id|slug|key))?$"
)
# a literal that names a default tenant; Microsoft Entra ID's directory aliases (`tenantId ||
# "common"`) name the identity provider's tenant, not the app's (PRECISION 15)
_DEFAULT_LITERAL = re.compile(
    r"(?i)^(?!(common|organizations|consumers)$).*(default|public|main|demo|shared|global|"
    r"fallback|system|common)"
)
_LOOSE_COMPARE = frozenset({"!==", "!="})
_DEFAULT_TENANT = re.compile(r"(?i)default_?tenant|fallback_?tenant|tenant_?fallback")


class TenancyFacts:
    """Clients, guards, flags, fallbacks and middleware of one analysed file."""

    src: Source
    config: Config
    guards: set[str]
    resolvers: set[str]
    prisma: list[PrismaCall]
    named_calls: list[Node]

    def _clients(self, news: list[Node]) -> Iterable[ClientSite]:
        from tenantlint.frontends.typescript.syntax import callee_name, text

        guards = "|".join(re.escape(g) for g in self.guards)
        body = self.src.data.decode("utf-8", "replace")
        for new in news:
            guarded = False
            parent = new.parent
            while parent is not None and not guarded:
                if parent.type == "call_expression" and callee_name(parent) in self.guards:
                    guarded = True
                elif parent.type == "call_expression" and callee_name(parent) in (
                    "$extends",
                    "$use",
                ):
                    guarded = (
                        bool(guards) and re.search(rf"\b(?:{guards})\b", text(parent)) is not None
                    )
                elif parent.type in (
                    "variable_declarator",
                    "assignment_expression",
                    "expression_statement",
                ):
                    break
                parent = parent.parent
            if (
                not guarded
                and guards
                and parent is not None
                and parent.type in ("variable_declarator", "assignment_expression")
            ):
                target = parent.child_by_field_name("name") or parent.child_by_field_name("left")
                var = re.escape(text(target).rsplit(".", 1)[-1]) if target is not None else ""
                guarded = (
                    bool(var)
                    and re.search(
                        rf"\b(?:{guards})\s*\(\s*[\w.]*\b{var}\b|\b{var}\s*\.\s*\$(?:extends|use)\s*\(\s*[\w.]*(?:{guards})",
                        body,
                    )
                    is not None
                )
            binding = None
            if parent is not None and parent.type in (
                "variable_declarator",
                "assignment_expression",
            ):
                target = parent.child_by_field_name("name") or parent.child_by_field_name("left")
                binding = text(target).rsplit(".", 1)[-1] if target is not None else None
            yield ClientSite(
                loc=self.src.loc(new), kind="PrismaClient", guarded=guarded, binding=binding
            )

    def _guard_targets(self) -> tuple[str, ...]:
        """The names this file passes to a configured guard (`registerTenantGuard(prisma)`)."""
        from tenantlint.frontends.typescript.syntax import call_args, call_name, text

        found = {
            text(args[0]).rsplit(".", 1)[-1]
            for c in self.named_calls
            if call_name(c) in self.guards and (args := call_args(c))
        }
        return tuple(sorted(found))

    def _guard_defined(self) -> bool:
        from tenantlint.frontends.typescript.routes import module_function
        from tenantlint.frontends.typescript.syntax import call_name

        return any(call_name(c) in self.guards for c in self.named_calls) or any(
            module_function(self.src, g) is not None for g in self.guards
        )

    def _flags(self, reads: list[Node], patterns: list[Node]) -> Iterable[FlagRead]:
        from tenantlint.frontends.typescript.syntax import pattern_names, text

        flags = set(self.config.tenancy_flags)
        for node in reads:
            prop = node.child_by_field_name("property") or node.child_by_field_name("index")
            flag = text(prop).strip("'\"") if prop is not None else ""
            if flag in flags:
                yield FlagRead(loc=self.src.loc(node), flag=flag, problem=_flag_problem(node))
        for pattern in patterns:
            for child in pattern.named_children:
                if child.type == "object_assignment_pattern":
                    for name in pattern_names(child):
                        if name in flags:
                            yield FlagRead(
                                loc=self.src.loc(child), flag=name, problem="destructuring default"
                            )
                elif child.type == "shorthand_property_identifier_pattern" and text(child) in flags:
                    yield FlagRead(loc=self.src.loc(child), flag=text(child), problem=None)

    def _fallbacks(self, binaries: list[Node], defaults: list[Node]) -> Iterable[TenantFallback]:
        from tenantlint.frontends.typescript.syntax import string_value, text, unwrap

        tenantish = self._tenantish
        for node in binaries:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None:
                continue
            right = unwrap(right)
            literal = string_value(right)
            if _DEFAULT_TENANT.search(text(right)) and right.type != "string":
                yield TenantFallback(
                    loc=self.src.loc(node), description=f"falls back to `{text(right)}`"
                )
            elif literal and _DEFAULT_LITERAL.search(literal) and tenantish(left):
                yield TenantFallback(
                    loc=self.src.loc(node), description=f"falls back to the tenant '{literal}'"
                )
        for node in defaults:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None:
                continue
            literal = string_value(right)
            if tenantish(left) and (
                (literal and _DEFAULT_LITERAL.search(literal))
                or _DEFAULT_TENANT.search(text(right))
            ):
                yield TenantFallback(
                    loc=self.src.loc(node), description=f"defaults the tenant to `{text(right)}`"
                )
        roots = {m[:1].lower() + m[1:] for m in self.config.tenant_models}
        for p in self.prisma:
            if (
                p.delegate in roots
                and p.action in ("upsert", "create")
                and re.search(r"(?i)['\"`]default['\"`]|default_?tenant", text(p.call))
            ):
                yield TenantFallback(
                    loc=self.src.loc(p.call), description="creates a default tenant"
                )

    def _tenantish(self, node: Node) -> bool:
        """An expression that holds a tenant id: a tenant field, a `…tenant…` name, a resolver call."""
        from tenantlint.frontends.typescript.syntax import text

        words = set(re.findall(r"[\w$]+", text(node)))
        return bool(words & (set(self.config.tenant_fields) | self.resolvers)) or any(
            _TENANT_NAME.match(w) for w in words
        )

    def _middleware(self) -> dict[str, str]:
        """Next.js middleware: its matcher and the tenant context it establishes (for TL401)."""
        from tenantlint.frontends.typescript.routes import is_middleware, middleware_matchers
        from tenantlint.frontends.typescript.syntax import call_name

        if not is_middleware(self.src.path):
            return {}
        context = next(
            (
                n
                for c in self.named_calls
                for n in [call_name(c)]
                if n in self.resolvers | self.guards
            ),
            None,
        )
        if context is None:
            return {}
        matchers = middleware_matchers(self.src)
        return {
            "middleware_context": context,
            "middleware_matcher": "\n".join(matchers) if matchers is not None else "*",
        }


def _flag_problem(node: Node) -> str | None:
    """How a flag read fails open: a default, a loose comparison, or bare truthiness."""
    from tenantlint.frontends.typescript.syntax import callee_name, string_value, text

    parent = node.parent
    while parent is not None and parent.type in (
        "parenthesized_expression",
        "as_expression",
        "non_null_expression",
    ):
        parent = parent.parent
    if parent is None:
        return None
    if parent.type == "binary_expression":
        op = parent.child_by_field_name("operator")
        operator = text(op) if op is not None else ""
        right = parent.child_by_field_name("right")
        if operator in ("??", "||") and parent.child_by_field_name("left") == node:
            return f"read with a fallback default ({operator} {text(right) if right else ''})"
        if operator in _LOOSE_COMPARE:
            other = (
                right
                if parent.child_by_field_name("left") == node
                else parent.child_by_field_name("left")
            )
            shown = string_value(other) if other is not None else None
            return (
                f"loose comparison ({operator} '{shown}'): any other value counts"
                if shown is not None
                else None
            )
        if operator == "&&":
            return "read for truthiness: 'false' and '0' count as set"
        return None
    if (
        parent.type == "arguments"
        and parent.parent is not None
        and callee_name(parent.parent) == "Boolean"
    ):
        return "parsed with Boolean(): 'false' and '0' count as true"
    if parent.type == "unary_expression" or (
        parent.type in ("if_statement", "ternary_expression", "while_statement")
        and parent.child_by_field_name("condition") in (node, node.parent)
    ):
        return "read for truthiness: 'false' and '0' count as set"
    return None
