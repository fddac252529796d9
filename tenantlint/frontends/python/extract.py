"""One module's tree → its `FileFacts`: migrations, or models and code facts."""

from __future__ import annotations

import ast

from tenantlint.config import Config
from tenantlint.facts import CallSite, Comment, Entity, FileFacts, FunctionSummary
from tenantlint.frontends.python.code import CodeVisitor
from tenantlint.frontends.python.migrations import MigrationExtractor, sql_templates
from tenantlint.frontends.python.models import ModelExtractor
from tenantlint.frontends.python.util import Imports, Source


def extract(
    path: str, text: str, module: ast.Module, config: Config, notes: tuple[Comment, ...]
) -> FileFacts:
    imports = Imports(module)
    source = Source(path, text)
    migrations = MigrationExtractor(path, module, imports, source, config)
    migrations.run()
    entities: list[Entity] = []
    code = CodeVisitor(path, module, imports, source, config)
    functions: list[FunctionSummary] = []
    calls: list[CallSite] = []
    if not migrations.is_migration:
        entities = ModelExtractor(path, module, imports, source, config).entities()
        code.run()
        functions, calls = code.finish_calls()
    return FileFacts(
        path=path,
        frontend="python",
        comments=notes,
        parse_errors=tuple(migrations.errors),
        entities=tuple(entities),
        migration=migrations.is_migration,
        sql_ops=tuple(migrations.ops),
        settings=tuple(code.settings),
        queries=tuple(code.queries),
        raw_sql=tuple(code.raw_sql),
        handlers=tuple(code.handlers),
        request_tenants=tuple(code.request_tenants),
        clients=tuple(code.clients()),
        guard_defined=code.guard_defined,
        flags=tuple(code.flags),
        fallbacks=tuple(code.fallbacks),
        sql_templates=tuple(sql_templates(migrations.functions, migrations.constants)),
        context_providers=tuple(code.context_providers()),
        functions=tuple(functions),
        calls=tuple(calls),
        extra=migrations.extra,
    )
