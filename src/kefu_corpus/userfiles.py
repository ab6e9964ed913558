"""Files the user names in the config (the config itself, patterns, dictionaries, stopword lists).

Each is checked before it is read: it must exist, be a regular file (not a folder, pipe or device, which
could hang a run or be read without end), be at most :data:`MAX_BYTES` long and be UTF-8 text. Error
messages quote at most :data:`EXCERPT_CHARS` characters of a line, so a wrong path never prints a file's
contents.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kefu_corpus.errors import KefuError

#: The largest user file read (dictionaries and stopword lists are far smaller).
MAX_BYTES = 64 * 1024 * 1024
#: The most characters of a line an error message quotes.
EXCERPT_CHARS = 80


def excerpt(line: str) -> str:
    """``line`` for an error message: stripped, and cut to :data:`EXCERPT_CHARS` characters."""
    line = line.strip()
    return repr(line if len(line) <= EXCERPT_CHARS else line[:EXCERPT_CHARS] + "...")


def read_user_file(path: str | os.PathLike, what: str, key: str) -> str:
    """The text of the file ``path``, named by config key ``key`` as a ``what`` (e.g. "stopword list")."""
    path = Path(path)
    hint = f"fix {key}"
    try:
        info = path.stat()
    except OSError as exc:
        raise KefuError(f"Cannot read the {what} {path}: {exc.strerror}.", hint=hint) from exc
    if not stat.S_ISREG(info.st_mode):
        raise KefuError(f"The {what} {path} is not a regular file (a folder, pipe or device).", hint=hint)
    if info.st_size > MAX_BYTES:
        raise KefuError(f"The {what} {path} is {info.st_size / 1e6:,.0f} MB, more than a {what} can be "
                        f"({MAX_BYTES / 1e6:,.0f} MB): is it the right file?", hint=hint)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KefuError(f"Cannot read the {what} {path}: {exc.strerror}.", hint=hint) from exc
    if b"\x00" in data:
        raise KefuError(f"The {what} {path} is binary, not text: is it the right file?", hint=hint)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KefuError(f"The {what} {path} is not UTF-8 (byte {exc.start}).", hint="save it as UTF-8") from exc
