"""Finished parts, kept by what they were computed from, so that a rerun redoes only what changed.

Every task of a per-document stage (ingest, normalise, dedup's scan and annotation, segment) computes
one part from inputs the driver can name: the bytes of its input part files (or, for ingest, of its
input records), the stage's configuration, the models it was handed, the code and the library versions.
The SHA-256 of these is the part's *key*. The task writes its output part files and its summary into
``OUT/.parts/<stage>/<key>/``, first under a temporary name, then renamed: a folder there is complete
(the completion marker, as datatrove keeps them). The driver hard-links the files into the run folder.

A later run whose task has the same key finds the folder, checks that its files still have the bytes
they were written with (they are hard links shared with run folders, and a table file changed in place
must not be reused), and computes nothing. So:

- a rerun after a few documents were added redoes only the parts they fall in (ingest cuts parts at
  content-defined places, :func:`kefu_corpus.sources.content_parts`, so the other parts keep their
  keys), then the corpus-wide steps;
- a rerun after a kill resumes from the parts that were finished;
- the tables are the same bytes as a full run's, as every part is.

The folder holds the parts of the last run of each stage: a run removes the entries it did not use
(while it holds the output folder's lock). Part files are hard links shared with the run folder, so
the cache costs little disk. ``run.reuse_parts = false`` (``kefu run --force``) computes every part
again. Summaries are pickled: the folder is written by kefu itself and trusted like its code.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from kefu_corpus import tablefiles
from kefu_corpus.store import fsync

CACHE = ".parts"
_RESULT = "result.pkl"


def digest(*pieces: Any) -> str:
    """SHA-256 of ``pieces`` (bytes as they are, anything else as sorted JSON)."""
    h = hashlib.sha256()
    for piece in pieces:
        data = piece if isinstance(piece, bytes) else json.dumps(piece, sort_keys=True, ensure_ascii=False,
                                                                 default=str).encode()
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """A 128-bit digest of a file's bytes (xxh3: a part file is hashed at memory speed). Part files are
    written by kefu itself, so the digest need not resist forgery, only tell different bytes apart."""
    import xxhash

    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


class PartCache:
    """The finished parts of one stage in output folder ``out``."""

    def __init__(self, out: Path, stage: str, context: str, *, reuse: bool = True) -> None:
        self.root = out / CACHE / stage
        self.context = context
        self.reuse = reuse
        self.used: set[str] = set()
        self.reused = 0

    def entry(self, *pieces: Any) -> str:
        """The entry folder of the part computed from ``pieces`` (in this stage's context)."""
        key = digest(self.context, *pieces)
        self.used.add(key)
        return str(self.root / key)

    def complete(self, entry: str) -> bool:
        """Whether ``entry`` holds a finished part that can be reused (its files unchanged)."""
        return self.reuse and _stored(Path(entry)) is not None

    def adopt(self, entry: str, folder: Path, index: int, names: tuple[str, ...], reused: bool) -> None:
        """Link the part files of ``entry`` into run folder ``folder`` as part ``index`` of ``names``."""
        self.reused += bool(reused)
        for name in names:
            src = Path(entry) / f"{name}.parquet" / tablefiles.part_name(0)
            dst = folder / f"{name}.parquet" / tablefiles.part_name(index)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.unlink(missing_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

    def prune(self) -> None:
        """Remove the entries this run did not use, and what killed tasks left half written."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.name not in self.used:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def run_cached(fn: Callable[..., Any], task: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``fn(task, ...)`` in a worker, through the task's cache entry (``task.entry``): the stored summary
    if the entry is complete and reuse is on, else computed with its parts written into a temporary
    folder that is renamed to the entry when complete. Returns ``{"result": ..., "reused": bool}``."""
    entry = Path(task.entry)
    if task.reuse:
        stored = _stored(entry, check=not task.extra.get("checked"))
        if stored is not None:
            return {"result": stored["result"], "reused": True}
        if task.extra.get("checked"):
            raise RuntimeError(f"{entry} was a finished part when the run started and is gone: another process "
                               "changed the output folder's part cache. Run again.")
    tmp = entry.with_name(f"{entry.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        result = fn(replace(task, target=replace(task.target, folder=str(tmp), index=0)), *args, **kwargs)
        # The part files' digests are checked before reuse: the files are hard links shared with run
        # folders, and a table changed in place there must not be reused.
        written = {str(p.relative_to(tmp)): file_digest(p) for p in sorted(tmp.rglob("*.parquet")) if p.is_file()}
        (tmp / _RESULT).write_bytes(pickle.dumps({"result": result, "files": written},
                                                 protocol=pickle.HIGHEST_PROTOCOL))
        for path in [*tmp.rglob("*"), tmp]:
            fsync(path)
        if entry.exists():  # computed again (reuse off, or an unreadable entry)
            shutil.rmtree(entry)
        try:
            os.rename(tmp, entry)
        except OSError:  # the same part twice in one run (identical inputs): the first one stays
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"result": result, "reused": False}


def _stored(entry: Path, check: bool = True) -> dict | None:
    """The stored summary of a finished entry, or None (no entry, unreadable, or a file whose bytes are
    not those it was written with; ``check=False`` skips reading the files)."""
    done = entry / _RESULT
    if not done.is_file():
        return None
    try:
        stored = pickle.loads(done.read_bytes())
        if check and any(file_digest(entry / name) != value for name, value in stored["files"].items()):
            return None
        return stored
    except Exception:  # noqa: BLE001 - an unreadable entry is computed again
        return None
