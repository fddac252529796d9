"""Escaping for the output formats: names, paths and messages come from the user's code and file
names, so none may break a line of text, inject HTML or Markdown, or make an invalid URI.

Paths are project paths already (`discovery.project_path`: undecodable bytes of a name as
`\\xHH`, a backslash as `\\\\`); here they only get what each format needs on top.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote_from_bytes

from tenantlint.discovery import os_path

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each can end a line
# or drive a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_control(m: re.Match[str]) -> str:
    ch = m[0]
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def printable(text: str) -> str:
    """`text` on one line: control characters as `\\n`, `\\x1b`, `\\u2028` …"""
    return _CONTROL.sub(_escape_control, text)


def github_value(text: str, prop: bool = False) -> str:
    """A workflow-command value: `%`, CR and LF percent-encoded (the runner decodes them), `:`
    and `,` too in a property; every other control character escaped as by `printable`."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return printable(text)


_MD_SPECIAL = re.compile(r"[\\`*_\[\]|~]")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(text: str) -> str:
    """Text for a Markdown table cell: HTML as entities, Markdown punctuation backslashed, on
    one line."""
    text = _MD_SPECIAL.sub(lambda m: "\\" + m[0], printable(text))
    return re.sub("[&<>]", lambda m: _HTML[m[0]], text)


def md_code(text: str) -> str:
    """A code span in a Markdown table cell that shows `text` literally: a backtick fence longer
    than any run of backticks in it, `|` escaped (GFM splits cells even inside code spans)."""
    text = printable(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def uri_path(path: str) -> str:
    """A project path as an RFC 3986 relative reference: the bytes of the real file name (an
    escaped `\\xHH` is that byte again) percent-encoded, but for unreserved characters and `/`."""
    return quote_from_bytes(os.fsencode(os_path(path)), safe="/")
