"""What `tenantlint init` reads from the source text of the product code (tests, seeds and scripts
left out): guards applied to clients, scope helpers (functions returning a tenant predicate),
tenant resolvers, tenancy flags read from the environment, and the top-level definition holding
a line. Heuristics for a starter config, which a person reviews; the front ends stay the only
readers of syntax for the rules."""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tenantlint.config import NON_PRODUCT_CODE
from tenantlint.discovery import globspec, os_path

CODE_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".py")

_TOP_LEVEL = re.compile(
    r"(?:export\s+)?(?:default\s+)?(?:async\s+)?"
    r"(?:function\s*\*?\s*(\w+)|(?:const|let|var)\s+(\w+)\s*=|def\s+(\w+)|(class)\s+\w+)"
)
_GUARD_CALL = re.compile(r"(?<![\w$])(?<!def )(?<!function )(register\w*guard\w*)\s*\(", re.I)
_ENV_READ = re.compile(
    r"""process\.env\.(\w+)|process\.env\[\s*["'](\w+)["']|import\.meta\.env\.(\w+)"""
    r"""|os\.(?:environ\.get|getenv)\(\s*["'](\w+)["']|os\.environ\[\s*["'](\w+)["']"""
    r"""|\benv(?:\.\w+)?\(\s*["'](\w+)["']"""
)
_ENV_DESTRUCTURED = re.compile(r"\{([^{}]*)\}\s*=\s*process\.env\b")
# `MULTI_TENANCY`, `TENANT_MODE`, `REDASH_MULTI_ORG`, `multiTenant`; not `MAINTENANCE_MODE`
# (a TENAN inside a word) nor `MULTIPROC_DIR`, `MULTI_BYTE_SEARCH` (another MULTI)
_FLAG_NAME = re.compile(
    r"(?:^|_)(?:MULTI_?)?TENAN|(?:^|_)MULTI_?(?:ORG|WORKSPACE|TEAM|COMPAN)", re.I
)
# a tenant id, URL, key or name in the environment is a value, not a switch
_VALUE_NAME = re.compile(r"_(?:IDS?|URL|URI|KEY|SECRET|TOKEN|HOST|PORT|NAME|PATH|DOMAIN|HEADER)$")
_TS_HELPER = re.compile(
    r"^(?:export\s+)?function\s+(\w+)\s*\([^)]*\)[^{]*\{\s*return\s*(\{[^{}]*\})"
    r"|^(?:export\s+)?const\s+(\w+)\s*=\s*\([^)]*\)\s*(?::[^=]*)?=>\s*\(\s*(\{[^{}]*\})\s*\)",
    re.MULTILINE,
)


def product_code(root: Path, rels: Iterable[str]) -> dict[str, str]:
    """The text of every code file that is not test, seed or script code (`non-product-code`)."""
    skip = globspec(NON_PRODUCT_CODE)
    texts: dict[str, str] = {}
    for rel in rels:
        if rel.endswith(CODE_SUFFIXES) and not skip.match_file(rel):
            try:
                texts[rel] = (root / os_path(rel)).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    return texts


def top_level_at(text: str, line: int) -> str | None:
    """The top-level function or constant whose definition holds `line` (1-based); None inside a
    class, whose methods are named as they are."""
    name = None
    for source in text.splitlines()[:line]:
        m = _TOP_LEVEL.match(source)
        if m:
            name = next((g for g in m.groups()[:3] if g), None)
    return name


def guards(texts: dict[str, str]) -> Counter[str]:
    """`register…Guard(client)` calls (not their definitions), by name."""
    return Counter(m[1] for text in texts.values() for m in _GUARD_CALL.finditer(text))


def tenancy_flags(texts: dict[str, str]) -> Counter[str]:
    """Environment variables read by the code whose names say tenancy (`MULTI_TENANT`,
    `TENANCY_MODE`, `MULTI_ORG`) and that are switches, not values (`DEFAULT_TENANT_ID`)."""
    names: Counter[str] = Counter()
    for text in texts.values():
        names.update(next(g for g in m.groups() if g) for m in _ENV_READ.finditer(text))
        for m in _ENV_DESTRUCTURED.finditer(text):
            names.update(re.findall(r"(\w+)\s*(?:=[^,]*)?(?:,|$)", m[1]))
    return Counter(
        {n: c for n, c in names.items() if _FLAG_NAME.search(n) and not _VALUE_NAME.search(n)}
    )


def scope_helpers(texts: dict[str, str], tenant_names: set[str]) -> Counter[str]:
    """Functions whose whole body returns a tenant predicate: an object literal with a tenant
    key (`return { tenantId }`), a comparison on a tenant column (`model.tenant_id == t`), a
    dict or a call with a tenant key (`Q(organization=org)`)."""
    found: Counter[str] = Counter()
    for rel, text in texts.items():
        if rel.endswith(".py"):
            found.update(_python_helpers(text, tenant_names))
            continue
        for m in _TS_HELPER.finditer(text):
            name, literal = (m[1], m[2]) if m[1] else (m[3], m[4])
            keys = re.findall(r"(?:^|[{,])\s*(?:\.\.\.)?(\w+)\s*(?=[:,}])", literal)
            if tenant_names & set(keys):
                found[name] += 1
    return found


def _python_helpers(text: str, names: set[str]) -> list[str]:
    """Module-level functions, and methods of managers and querysets (`Project.objects.for_org`),
    whose one statement returns a tenant predicate; not a view's `get_queryset`."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):  # newer syntax: a starter config can do without it
        return []
    functions = list(tree.body)
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and any(
            _base_name(b).endswith(("Manager", "QuerySet")) for b in cls.bases
        ):
            functions += cls.body
    out = []
    for node in functions:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = [s for s in node.body if not _is_docstring(s)]
        ret = body[0] if len(body) == 1 else None
        if isinstance(ret, ast.Return) and ret.value and _tenant_predicate(ret.value, names):
            out.append(node.name)
    return out


def _base_name(base: ast.expr) -> str:
    return base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _tenant_predicate(expr: ast.expr, names: set[str]) -> bool:
    def named(e: ast.expr) -> bool:
        return (isinstance(e, ast.Attribute) and e.attr in names) or (
            isinstance(e, ast.Name) and e.id in names
        )

    if isinstance(expr, ast.Compare):
        return any(named(e) for e in (expr.left, *expr.comparators))
    if isinstance(expr, ast.BoolOp):
        return any(_tenant_predicate(v, names) for v in expr.values)
    if isinstance(expr, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value in names for k in expr.keys)
    if isinstance(expr, ast.Call):
        return any(kw.arg in names for kw in expr.keywords)
    return False
