"""Tenancy flags read from the environment, default-tenant fallbacks, and ORM clients (for the
guard rule): the facts about configuration rather than queries."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache

from tenantlint.facts import ClientSite, FlagRead, TenantFallback
from tenantlint.frontends.python.util import (
    dotted,
    kwarg,
    last_name,
    literal_str,
    positional,
    walk,
)
from tenantlint.frontends.python.walker import Walker

_ENV_READS = ("os.getenv", "os.environ.get", "os.environ.setdefault")
# literals that are no default tenant: flags, and Microsoft Entra ID's directory aliases
# (`tenant_id or "common"` names the identity provider's tenant, not the app's: PRECISION 15)
_NOT_A_TENANT = frozenset(
    {"", "true", "false", "0", "1", "yes", "no", "on", "off", "none"}
    | {"common", "organizations", "consumers"}
)


class Flags(Walker):
    def client(self, call: ast.Call, name: str) -> None:
        if not self.imports.is_from(call.func, "sqlalchemy", "sqlmodel", "flask_sqlalchemy"):
            return
        guarded = id(call) in self.guarded_calls
        site = ClientSite(loc=self.loc(call), kind=name, guarded=guarded)
        targets = _assign_targets(self.stmt, call) if self.stmt is not None else []
        self.client_sites.append((site, set(targets)))

    def clients(self) -> list[ClientSite]:
        out = []
        for site, names in self.client_sites:
            if names & self.guard_args:
                site = site.model_copy(update={"guarded": True})
            out.append(site)
        return out

    def flag_name(self, call: ast.Call) -> str | None:
        if last_name(call.func) not in ("getenv", "get", "setdefault"):
            return None
        q = self.imports.qualify(call.func) or ""
        if q not in _ENV_READS:
            return None
        args = positional(call)
        flag = literal_str(args[0]) if args else None
        return flag if flag in self.config.tenancy_flags else None

    def environ_subscript(self, node: ast.Subscript) -> str | None:
        if self.imports.qualify(node.value) != "os.environ":
            return None
        key = literal_str(node.slice)
        return key if key in self.config.tenancy_flags else None

    def flag(self, call: ast.Call, flag: str) -> None:
        args = positional(call)
        problem = None
        if len(args) > 1 or kwarg(call, "default") is not None:
            default = args[1] if len(args) > 1 else kwarg(call, "default")
            if default is not None:
                problem = f"read with a fallback default ({self.src.code(default).strip()})"
        elif id(call) in self.loose:
            problem = "read with loose truthiness (any non-empty value, even 'false', enables it)"
        self.flags.append(FlagRead(loc=self.loc(call), flag=flag, problem=problem))

    def fallback(self, target: str, value: ast.expr) -> None:
        """`tenant = x.get("tenant", "default")`, `tenant = t or DEFAULT_TENANT`, …"""
        tenantish = is_tenantish(target, self.tenant_fields)
        for n in _fallback_candidates(value):
            default: ast.expr | None = None
            if (
                isinstance(n, ast.Call)
                and last_name(n.func) in ("get", "getattr", "getenv")
                and len(positional(n)) >= 2
            ):
                args = positional(n)
                getattr_call = last_name(n.func) == "getattr"
                key = literal_str(args[1] if getattr_call else args[0]) or ""
                if tenantish or is_tenantish(key, self.tenant_fields):
                    default = args[1] if not getattr_call else next(iter(args[2:]), None)
            elif isinstance(n, ast.BoolOp) and isinstance(n.op, ast.Or) and tenantish:
                default = n.values[-1]
            if default is not None and _default_value(default):
                self.fallbacks.append(
                    TenantFallback(
                        loc=self.loc(n),
                        description=f"falls back to {self.src.code(default).strip()}",
                    )
                )
                return


def is_tenantish(name: str, tenant_fields: set[str]) -> bool:
    low = name.lower()
    if "tenant" in low:
        return True
    stems = _stems(frozenset(tenant_fields))
    return any(
        stem and (low == stem or low.startswith(stem + "_") or low == f"current_{stem}")
        for stem in stems
    )


@cache
def _stems(tenant_fields: frozenset[str]) -> frozenset[str]:
    """`organization_id` → `organization`: the names a tenant variable goes by."""
    return frozenset(re.sub(r"(_id|id)$", "", f.lower()).rstrip("_") for f in tenant_fields)


def _fallback_candidates(value: ast.expr) -> Iterator[ast.expr]:
    """The value, and what it falls back to: `a.get(k, b.get(k2, d))`, `a or b or c`."""
    todo = [value]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.Call) and len(node.args) + len(node.keywords) >= 2:
            last = node.keywords[-1].value if node.keywords else node.args[-1]
            todo.append(last.value if isinstance(last, ast.Starred) else last)
        elif isinstance(node, ast.BoolOp):
            todo.extend(node.values)
        elif isinstance(node, ast.Await):
            todo.append(node.value)


def _default_value(node: ast.expr) -> bool:
    """A concrete default tenant: a non-empty literal or a DEFAULT_* name."""
    s = literal_str(node)
    if s is not None:
        return s.lower() not in _NOT_A_TENANT
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value not in (0, True, False)
    d = dotted(node) or ""
    return "default" in d.lower()


def _assign_targets(stmt: ast.stmt, call: ast.Call) -> list[str]:
    """Names a top-level `X = <call>` assigns (to tie a client to guard calls on it)."""
    if (
        isinstance(stmt, (ast.Assign, ast.AnnAssign))
        and stmt.value is not None
        and any(n is call for n in walk(stmt.value))
    ):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return [d for t in targets if (d := dotted(t)) is not None]
    return []
