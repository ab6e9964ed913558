"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Below every other module of the package (it imports none of them), so the text functions may use it
as well as the table store (:mod:`kefu_corpus.store`).
"""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file beside it and a rename: a reader sees
    the old file or the new one, never half of one. The folder is created if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
