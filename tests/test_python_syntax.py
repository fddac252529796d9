"""Python files on any interpreter: syntax newer than the running one is analysed (positions
intact), only what no Python accepts is TL001, and no input makes the front end raise."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tenantlint.collect import parse_bytes
from tenantlint.config import Config
from tenantlint.facts import FileFacts
from tenantlint.frontends.python import PythonFrontEnd

CFG = Config(tenant_fields=("tenant_id",))
HEAD = "from sqlalchemy import select, text\nfrom app.models import Note\n"


def parse(body: str) -> FileFacts:
    return PythonFrontEnd().parse("app/mod.py", HEAD + dedent(body), CFG)


def sites(facts: FileFacts) -> list[tuple[int, int, str]]:
    return [(q.loc.line, q.loc.column, q.model) for q in facts.queries] + [
        (r.loc.line, r.loc.column, r.api) for r in facts.raw_sql
    ]


def clean(facts: FileFacts) -> None:
    assert facts.parse_errors == () and facts.unverified == ()


def test_pep758_except_without_parentheses() -> None:
    facts = parse(
        """
        def load(session, note_id):
            try:
                return session.execute(select(Note).where(Note.id == note_id))
            except ValueError, KeyError:
                return session.execute(text("SELECT * FROM notes"))
        """
    )
    clean(facts)
    assert sites(facts) == [(6, 32, "Note"), (8, 16, "session.execute")]


def test_pep695_type_aliases_and_type_parameters() -> None:
    facts = parse(
        """
        type NoteId = int
        type Pair[T] = tuple[
            T, T
        ]

        class Repository[
            M: Note,
            K = int,
        ](Base):
            def get[T](self, session, note_id: T):
                return session.execute(select(Note).where(Note.id == note_id))

        def first[T](items: list[T]) -> T:
            return items[0]
        """
    )
    clean(facts)
    assert sites(facts) == [(14, 32, "Note")]


def test_pep701_fstrings_keep_their_interpolations() -> None:
    facts = parse(
        """
        def search(session, filters):
            session.execute(text(f"SELECT * FROM notes WHERE tag = '{filters["tag"]}'"))
            session.execute(
                text(f"SELECT * FROM notes WHERE id = {
                    filters.get("id")
                }")
            )
            return session.execute(select(Note).where(Note.tenant_id == 1))
        """
    )
    clean(facts)
    assert [(r.loc.line, r.injection) for r in facts.raw_sql] == [(5, True), (6, True)]
    assert [(q.loc.line, q.loc.column) for q in facts.queries] == [(11, 28)]


def test_pep750_template_strings_bind_their_values() -> None:
    facts = parse(
        """
        def search(cursor, tag):
            cursor.execute(t"SELECT * FROM notes WHERE tag = {tag}")
        """
    )
    clean(facts)
    assert [(r.loc.line, r.injection) for r in facts.raw_sql] == [(5, False)]


def test_valid_newer_python_that_cannot_be_analysed_is_unverified_not_tl001() -> None:
    # format specs nested three deep: Python 3.12 accepts them, older interpreters do not
    facts = parse('x = f"{a:{b:{c}}}"\nsession.execute(text("SELECT 1"))\n')
    if not facts.unverified:  # this interpreter reads it: nothing to rewrite
        assert facts.parse_errors == () and len(facts.raw_sql) == 1
        return
    assert facts.parse_errors == ()
    assert "valid newer Python" in facts.unverified[0].reason


@pytest.mark.parametrize(
    "text",
    [
        "def f(:\n    pass\n",
        "x = (1,\n",
        "class C[T:\n    pass\n",
        "except A, B:\n",
        "x = 'unterminated\n",
        "print 'python 2'\n",
    ],
)
def test_what_no_python_accepts_is_tl001(text: str) -> None:
    facts = PythonFrontEnd().parse("app/mod.py", text, CFG)
    assert len(facts.parse_errors) == 1 and facts.unverified == ()
    assert facts.parse_errors[0].message.startswith("Python syntax error")


# `ast.parse` accepts these; the compiler does not, so no Python runs the file (fuzz: 9 mutants)
COMPILE_ONLY = {
    "return outside a function": "import os\nreturn os\n",
    "return in a class body": "class C:\n    return 1\n",
    "yield at module level": "x = 1\nyield x\n",
    "await at module level": "x = await f()\n",
    "await in a plain def": "def f():\n    return await g()\n",
    "async for in a plain def": "async def f():\n    def g():\n        async for x in y:\n            pass\n",
    "break outside a loop": "for x in y:\n    pass\nelse:\n    break\n",
    "continue in a def in a loop": "while x:\n    def f():\n        continue\n",
    "nonlocal at module level": "if x:\n    nonlocal y\n",
    "duplicate argument": "def f(a, *, b, **a):\n    pass\n",
    "late __future__ import": '"""Doc."""\nimport os\nfrom __future__ import annotations\n',
    "unknown __future__ feature": "from __future__ import braces\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(COMPILE_ONLY))
def test_what_only_the_compiler_rejects_is_one_tl001_in_its_words(name: str) -> None:
    text = COMPILE_ONLY[name]
    with pytest.raises(SyntaxError) as compiled:
        compile(text, "<test>", "exec", dont_inherit=True)
    facts = PythonFrontEnd().parse("scripts/tool.py", "\n" + text, CFG)  # no marker: still read
    [error] = facts.parse_errors
    assert error.message == f"Python syntax error: {compiled.value.msg}"
    assert (error.loc.line, error.loc.column) == (
        (compiled.value.lineno or 0) + 1,
        compiled.value.offset,
    )


def test_a_compile_error_column_counts_characters() -> None:
    # the compiler counts UTF-8 bytes here (19): the editor's column is 18
    facts = PythonFrontEnd().parse("app/mod.py", "def f(é, *, b, **é):\n    pass\n", CFG)
    assert [(e.loc.line, e.loc.column) for e in facts.parse_errors] == [(1, 18)]


def test_what_the_compiler_accepts_is_no_tl001() -> None:
    text = dedent(
        '''
        """Doc."""
        from __future__ import annotations
        import asyncio

        async def f(a, /, b, *c, d, **e):
            async with g() as h:
                async for x in h:
                    await x
                    def inner():
                        nonlocal h
                        yield (yield)
            for y in c:
                try:
                    continue
                finally:
                    break
            while True:
                match a:
                    case 1:
                        return await asyncio.sleep(0)
            else:
                pass
        '''
    )
    compile(text, "<test>", "exec", dont_inherit=True)
    clean(PythonFrontEnd().parse("app/mod.py", text, CFG))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("one odd character", "\U00013460"),
        ("NUL byte", "import sqlalchemy\nx = 1\0\n"),
        ("deep brackets", "import sqlalchemy\nx = " + "[" * 5000 + "]" * 5000 + "\n"),
        ("issue 11's nesting", "import sqlalchemy\nx = " + "[" * 1500 + "]" * 1500 + "\n"),
        ("long operator chain", "import sqlalchemy\nx = " + "+".join(["a"] * 50_000) + "\n"),
        ("deep calls", "import sqlalchemy\nx = " + "f(" * 150 + ")" * 150 + "\n"),
        ("lone surrogate", "import sqlalchemy\nx = '\ud800'\n"),
        ("form feed", "import sqlalchemy\n\x0cx = 1\n"),
    ],
)
def test_no_input_makes_the_front_end_raise(name: str, text: str) -> None:
    facts = PythonFrontEnd().parse("app/mod.py", text, CFG)
    assert facts.path == "app/mod.py"
    assert len(facts.parse_errors) + len(facts.unverified) <= 1, name


def test_bom_crlf_and_non_ascii_identifiers_keep_exact_columns() -> None:
    source = (
        "\ufefffrom sqlalchemy import text\r\n"
        "def café(session, naïve):\r\n"
        "    naïve_q = 'x';  session.execute(text(f'SELECT {naïve}'))\r\n"
    )
    facts = parse_bytes("app/mod.py", source.encode("utf-8"), CFG)
    clean(facts)
    (site,) = facts.raw_sql
    # column in characters: `ï` is two bytes in `col_offset`
    assert (site.loc.line, site.loc.column, site.injection) == (3, 21, True)
    assert site.loc.snippet == "session.execute(text(f'SELECT {naïve}'))"


def test_a_broken_file_without_markers_is_still_reported() -> None:
    facts = PythonFrontEnd().parse("scripts/util.py", "def helper(:\n    return 1\n", CFG)
    assert [(e.loc.line, e.loc.column) for e in facts.parse_errors] == [(1, 12)]


def test_a_huge_broken_line_is_not_sent_to_the_second_opinion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libcst's time grows with the square of a long expression (fuzz: a 50,000-term chain ending
    in a syntax error took over 5 minutes): such a file is a TL001 without asking it."""
    from tenantlint.frontends.python import syntax

    def refuse(text: str) -> bool:
        raise AssertionError("libcst was asked")

    monkeypatch.setattr(syntax, "_libcst_accepts", refuse)
    facts = PythonFrontEnd().parse("app/mod.py", "import sqlalchemy\nx = " + "x + " * 50_000, CFG)
    assert [e.message for e in facts.parse_errors] == ["Python syntax error: invalid syntax"]


def test_typescript_error_thousands_of_levels_deep_is_one_tl001() -> None:
    """tree-sitter's `Node.parent` overflowed the C stack (SIGSEGV, the run ended) on an error
    14,500 levels down (fuzz mutant typescript:24)."""
    from tenantlint.frontends.typescript import TypeScriptFrontEnd

    text = 'import { prisma } from "./db";\nconst o = {\n  a: 1,\n' + "x + " * 15_000 + "\n};\n"
    facts = TypeScriptFrontEnd().parse("lib/deep.ts", text, CFG)
    assert len(facts.parse_errors) == 1


def test_a_template_named_py_is_unverified_not_tl001() -> None:
    """A code generator's Jinja template (`{% if … %}`) is no Python source; a broken file
    without template markers is still TL001."""
    template = (
        "import enum\n\n{% if enums %}\nclass Kind(enum.Enum):\n    {{ body }}\n{% endif %}\n"
    )
    facts = PythonFrontEnd().parse("generator/template/kinds.py", template, CFG)
    assert facts.parse_errors == ()
    assert [(u.kind, u.loc.line) for u in facts.unverified] == [("skipped", 3)]
    broken = PythonFrontEnd().parse("app/broken.py", "def f(:\n    return {1: 2}\n", CFG)
    assert len(broken.parse_errors) == 1 and broken.unverified == ()


def test_an_unclosed_fstring_is_tl001_not_rewritten_into_a_string() -> None:
    """The PEP 701 rewrite could turn an unclosed f-string into a triple-quoted string that
    swallows the rest of the file; a rewrite is kept only when the original is valid newer
    Python."""
    text = 'def f(token):\n    return f"<b>{go("/invitations/{token}/accept")\nx = 1\n'
    facts = PythonFrontEnd().parse("app/invitations.py", HEAD + text, CFG)
    assert len(facts.parse_errors) == 1 and facts.unverified == ()
