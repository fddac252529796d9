"""The TypeScript/JavaScript front end (tree-sitter): `.ts`, `.tsx`, `.js`… files → code facts.

Nothing here imports tree-sitter at load time: the grammars are loaded when the first file is read.
"""

from tenantlint.frontends.typescript.analysis import TypeScriptFrontEnd

__all__ = ["TypeScriptFrontEnd"]
