"""Where a site of one TypeScript/JavaScript file runs: inside the RLS wrapper, inside a
transaction, inside what a handler reaches. Each answer comes from indexes built once per file
(calls by name, sites by position, the verdict per function name), so that asking for every
query site of a large function costs each site its own depth, not a rescan of the file.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from tree_sitter import Node

    from tenantlint.frontends.typescript.sql import RawCall
    from tenantlint.frontends.typescript.syntax import Source

T = TypeVar("T")
_TRANSACTION_CALLS = frozenset({"$transaction", "transaction", "begin"})


class Positions(Generic[T]):
    """Items of one file indexed by their start byte, to find those inside byte ranges."""

    def __init__(self, items: list[T], start: Callable[[T], int]) -> None:
        self._items = items
        self._order = sorted(range(len(items)), key=lambda i: start(items[i]))
        self._starts = [start(items[i]) for i in self._order]

    def within(self, ranges: Iterable[tuple[int, int]]) -> list[T]:
        """The items that start inside any of the `[start, end)` ranges, in their own order."""
        picked: set[int] = set()
        for start, end in ranges:
            lo, hi = bisect_left(self._starts, start), bisect_left(self._starts, end)
            picked.update(self._order[lo:hi])
        return [self._items[i] for i in sorted(picked)]

    def any_within(self, start: int, end: int) -> bool:
        lo = bisect_left(self._starts, start)
        return lo < len(self._starts) and self._starts[lo] < end


class Reach:
    """The file's calls by callee name and by position, and what is known of each function."""

    def __init__(
        self, src: Source, wrappers: set[str], plain_calls: list[Node], raw: list[RawCall]
    ) -> None:
        from tenantlint.frontends.typescript.syntax import text

        self.src = src
        self.wrappers = wrappers
        self.plain = Positions(plain_calls, lambda n: n.start_byte)
        self._calls_by_name: dict[str, list[Node]] = {}
        for call in plain_calls:
            self._calls_by_name.setdefault(text(call), []).append(call)
        begins = [
            r.node for r in raw if r.text.sql and r.text.sql.strip().upper().startswith("BEGIN")
        ]
        self._begins = Positions(begins, lambda n: n.start_byte)
        self._only_wrapped: dict[str, bool] = {}

    # --- the RLS wrapper -------------------------------------------------------------------

    def in_wrapper(self, node: Node) -> bool:
        """Lexically inside a function passed to an RLS wrapper, or inside the wrapper's definition,
        or in a module function that is only ever called from such places."""
        inside, named = self._lexically_wrapped(node)
        if inside:
            return True
        return named is not None and self.src.root.type == "program" and self._wrapped(named)

    def _lexically_wrapped(self, node: Node) -> tuple[bool, str | None]:
        """(inside the wrapper lexically, the name of the outermost named function around)."""
        from tenantlint.frontends.typescript.syntax import (
            callee_name,
            enclosing_functions,
            function_name,
        )

        named: str | None = None
        for fn in enclosing_functions(node):
            name = function_name(fn)
            if name in self.wrappers:
                return True, None
            args = fn.parent
            if (
                args is not None
                and args.type == "arguments"
                and args.parent is not None
                and callee_name(args.parent) in self.wrappers
            ):
                return True, None
            named = name or named
        return False, named

    def _wrapped(self, name: str) -> bool:
        """Whether every call of the module function `name` runs inside the wrapper: lexically,
        or from functions of which the same holds. A cycle, a call from outside any named
        function, or a function never called, is not wrapped. One verdict per name, found by an
        iterative depth-first walk (a chain of thousands of calls must not hit the recursion
        limit)."""
        done = self._only_wrapped
        if name in done:
            return done[name]
        if not self._calls_by_name.get(name):
            done[name] = False
            return False
        path = [(name, iter(self._calls_by_name[name]))]
        on_path = {name}
        while path:
            current, calls = path[-1]
            verdict: bool | None = True
            for call in calls:
                inside, caller = self._lexically_wrapped(call)
                if inside:
                    continue
                if caller is None or caller in on_path or done.get(caller) is False:
                    verdict = False
                    break
                if caller in done:
                    continue
                if not self._calls_by_name.get(caller):
                    done[caller] = verdict = False
                    break
                path.append((caller, iter(self._calls_by_name[caller])))
                on_path.add(caller)
                verdict = None  # decided once the caller is
                break
            if verdict is None:
                continue
            path.pop()
            on_path.discard(current)
            done[current] = verdict
            if not verdict:  # every function on the path needs this one: none of them is wrapped
                for pending, _ in path:
                    done[pending] = False
                break
        return done[name]

    # --- transactions ----------------------------------------------------------------------

    def in_transaction(self, node: Node) -> bool:
        """Inside a `$transaction(…)`/`transaction(…)`/`begin(…)` call, or after a `BEGIN` query
        of the same function."""
        from tenantlint.frontends.typescript.syntax import callee_name, enclosing_function

        parent = node.parent
        while parent is not None:
            if parent.type == "call_expression" and callee_name(parent) in _TRANSACTION_CALLS:
                return True
            parent = parent.parent
        fn = enclosing_function(node)
        return self._begins.any_within(fn.start_byte if fn is not None else 0, node.start_byte)

    # --- what a handler reaches ------------------------------------------------------------

    def functions_reached(self, fn: Node) -> list[tuple[int, int]]:
        """Byte ranges of the function and the same-module functions it calls, transitively."""
        from tenantlint.frontends.typescript.routes import module_function
        from tenantlint.frontends.typescript.syntax import text

        seen = {(fn.start_byte, fn.end_byte)}
        todo = [fn]
        while todo:
            cur = todo.pop()
            for call in self.plain.within([(cur.start_byte, cur.end_byte)]):
                target = module_function(self.src, text(call))
                if target is not None and (target.start_byte, target.end_byte) not in seen:
                    seen.add((target.start_byte, target.end_byte))
                    todo.append(target)
        return sorted(seen)
