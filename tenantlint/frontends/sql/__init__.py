"""The SQL front end: `.sql` files (and SQL strings in Python migrations) → DDL operations.

`frontend` reads a file; `scan` cuts it into statements, `ddl` and `pg` turn statements into
operations, `policy` analyses the USING / WITH CHECK expressions of policies.
"""

from tenantlint.frontends.sql.frontend import SqlFrontEnd, is_migration, migration_key, sql_to_ops

__all__ = ["SqlFrontEnd", "is_migration", "migration_key", "sql_to_ops"]
