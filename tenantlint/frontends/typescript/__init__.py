"""The TypeScript/JavaScript front end (tree-sitter): `.ts`, `.tsx`, `.js`… files → code facts.

`frontend` reads a file (prefilter, parse errors, suppression comments); `analysis` finds the
facts of a file that passed the prefilter, `tenancy` those of how it sets tenancy up; `grammar`
holds the tree-sitter grammars and queries, `syntax` the node helpers; `prisma`, `sql` and
`routes` read Prisma calls, raw SQL and handlers. Nothing here imports tree-sitter at load time.
"""

from tenantlint.frontends.typescript.frontend import TypeScriptFrontEnd

__all__ = ["TypeScriptFrontEnd"]
