"""Raw SQL in Python code: DB-API `execute`, SQLAlchemy `text()`, Django `RawSQL`/`.raw`/
`.extra`, psycopg `sql.SQL`, with the text evaluated statically (constants, f-strings, `%`,
`.format`) and analysed; the session settings it writes (`set_config`) for the RLS rules."""

from __future__ import annotations

import ast
import re

from tenantlint.facts import RawSqlSite, SettingWrite, SqlStatement
from tenantlint.frontends.python.handlers import Handlers
from tenantlint.frontends.python.strings import PLACEHOLDER, SqlText, evaluate
from tenantlint.frontends.python.util import dotted, is_true, last_name, literal_str, positional
from tenantlint.frontends.python.walker import DB_RECEIVER

EXECUTE = ("execute", "executemany", "exec_driver_sql", "executescript")
SA_BUILDERS = {"select": "read", "update": "update", "delete": "delete", "insert": "create"}


class RawSql(Handlers):
    """Raw SQL sites and setting writes."""

    def raw(self, call: ast.Call) -> bool:
        func = call.func
        name = last_name(func) or ""
        args = positional(call)
        if isinstance(func, ast.Attribute) and name in EXECUTE:
            receiver = dotted(func.value) or last_name(func.value) or ""
            if receiver == "op" and self.imports.is_from(ast.Name(id="op"), "alembic"):
                return False
            if not args:
                return False
            short = receiver.rsplit(".", 1)[-1]
            return self.raw_site(
                call, f"{short or 'db'}.{name}", args[0], require_db=not DB_RECEIVER.search(short)
            )
        if name == "text" and self.imports.is_from(func, "sqlalchemy", "sqlmodel"):
            return bool(args) and self.raw_site(call, "text", args[0])
        if name == "RawSQL" and self.imports.is_from(func, "django"):
            return bool(args) and self.raw_site(call, "RawSQL", args[0])
        if name == "SQL" and self.imports.is_from(func, "psycopg", "psycopg2"):
            return bool(args) and self.raw_site(call, "sql.SQL", args[0])
        if name == "set_config" and (dotted(func) or "").endswith("func.set_config"):
            setting = literal_str(args[0]) if args else None
            if setting:
                local = None if len(args) < 3 else is_true(args[2])
                self.setting(SettingWrite(setting=setting.lower(), local=local, loc=self.loc(call)))
        return False

    def resolve(self, name: str) -> ast.expr | str | None:
        f = self.func
        if f is not None and name in f.assigns:
            return f.assigns[name]
        found = self.constants.get(name)
        if found is None and _constant(name):
            return PLACEHOLDER  # `TABLE`, `settings.SCHEMA`, `Kind.AUDIT.value`: fixed in code
        return found

    def _unwrap(self, expr: ast.expr) -> ast.expr:
        """The string under text(…).bindparams(…), names bound to text(…) / sql.SQL(…), and
        psycopg's `sql.SQL("… {}").format(sql.Identifier(t))` (which composes safely)."""
        for _ in range(4):
            if isinstance(expr, ast.Name):
                bound = self.resolve(expr.id)
                if isinstance(bound, ast.expr):
                    expr = bound
                    continue
                break
            if not isinstance(expr, ast.Call):
                break
            method = expr.func.attr if isinstance(expr.func, ast.Attribute) else None
            if method in ("bindparams", "columns", "params"):
                assert isinstance(expr.func, ast.Attribute)
                expr = expr.func.value
                continue
            if last_name(expr.func) in ("text", "SQL") and positional(expr):
                self.consumed.add(id(expr))
                expr = positional(expr)[0]
                continue
            if method == "format":
                assert isinstance(expr.func, ast.Attribute)
                inner = expr.func.value
                if (
                    isinstance(inner, ast.Call)
                    and last_name(inner.func) == "SQL"
                    and positional(inner)
                ):
                    self.consumed.add(id(inner))
                    expr = positional(inner)[0]
                    continue
            break
        return expr

    def raw_site(self, call: ast.Call, api: str, arg: ast.expr, require_db: bool = False) -> bool:
        expr = self._unwrap(arg)
        if isinstance(expr, ast.Call) and (
            _orm_statement(expr) or last_name(expr.func) in SA_BUILDERS
        ):
            return False  # an ORM statement, reported as a query site
        text: SqlText | None = evaluate(expr, self.resolve)
        if text is None and require_db:
            return False
        f = self.func
        if f is not None:
            f.raw = True
        loc = self.loc(call)
        parsed = False
        statements: tuple[SqlStatement, ...] = ()
        if text is not None:
            from tenantlint.sqlanalysis import analyse_sql

            parsed, statements = analyse_sql(text.text)
            for st in statements:
                if f is not None:
                    f.tables.update(use.table for use in st.tables)
                for sw in st.settings_written:
                    self.setting(sw.model_copy(update={"loc": loc}))
        rest = [*call.args[1:], *(k.value for k in call.keywords)]
        self.raw_sql.append(
            RawSqlSite(
                loc=loc,
                api=api,
                sql=text.text if text else None,
                parsed=parsed,
                statements=statements,
                injection=bool(text and text.dynamic),
                rls_scoped=self.in_rls(),
                pass_through=bool(
                    f is not None and f.handler is None and rest and self.from_params(f, rest)
                ),
                function=f.name if f else None,
            )
        )
        return True

    def setting(self, sw: SettingWrite) -> None:
        f = self.func
        in_wrapper = self.in_rls() or (
            f is not None and f.name.rsplit(".", 1)[-1] in self.config.rls_wrappers
        )
        in_txn = True if (self.txn_depth > 0 or (f is not None and f.in_transaction)) else None
        self.settings.append(
            sw.model_copy(
                update={
                    "in_wrapper": in_wrapper,
                    "in_transaction": in_txn,
                    "function": f.name if f else None,
                }
            )
        )


_CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]+$")


def _constant(name: str) -> bool:
    """A name that by convention holds a constant: UPPER_CASE, or an enum member's `.value`."""
    parts = name.split(".")
    if parts[-1] == "value" and len(parts) > 1:
        parts = parts[:-1]
    return bool(_CONSTANT.match(parts[-1]))


def _orm_statement(call: ast.Call) -> bool:
    """`select(M).where(…)` and the like: an ORM statement, not SQL text."""
    node: ast.expr = call
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return isinstance(node, ast.Call) and last_name(node.func) in SA_BUILDERS
