"""Writing a file all at once: a temporary file beside it, then a rename.

Readers (CI steps, concurrent runs) see the old file or the new one, never half of one, and an
interrupted run (SIGINT, SIGTERM) leaves no partial file and no temporary behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str, *, private: bool = False) -> None:
    """Write `text` (UTF-8) to `path` via a temporary file and `os.replace`.

    The file gets the mode a plain write would give it (the existing file's, else 0o666 less the
    umask) unless `private`, which keeps the temporary file's 0o600. Raises OSError; on any error
    or interruption the temporary file is removed and `path` is left as it was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        if not private:
            os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
