"""Word segmentation with jieba's dictionary and algorithm, plus the domain dictionary and stopwords.

The engine is rjieba, a binding of jieba-rs: the same dictionary and the same algorithm as jieba, so
its tokens are jieba's (tested against ``jieba.lcut``), about ten times faster, and with POS tags
from the same cut (``jieba.posseg`` cuts on its own and is slower still; see
``benchmarks/segment_throughput.py``).

Text is segmented in the canonical script (Simplified by default): jieba's dictionary is Simplified,
so Traditional text segments far better through its canonical form, and the tokens are mapped back
to the original script through the offset maps.

Token types: ``word`` (Chinese), ``latin`` (Latin letters, possibly with digits: ROI, APP, 5G,
Z世代 counts as a word), ``number``, ``punctuation`` and ``whitespace``. Latin tokens are folded to
upper case in ``token`` (APP, App and app are one token); ``token_original`` keeps the case as written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus.config import section_params
from kefu_corpus.errors import KefuError

_DEFAULT_FREQ = 1000
_DEFAULT_TAG = "n"


@dataclass(frozen=True)
class SegmentParams:
    """The ``segment.*`` configuration a worker needs (picklable)."""

    hmm: bool = False
    mode: str = "default"
    user_dicts: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()
    canonical: str = "t2s"
    include_duplicates: bool = False

    @classmethod
    def from_config(cls, config) -> SegmentParams:
        return section_params(cls, config, "segment", canonical=config["normalise.canonical"])


def _shipped(name: str) -> str:
    return resources.files("kefu_corpus.resources").joinpath(name).read_text(encoding="utf-8")


def read_dictionary(text: str, source: str, canonical: str) -> list[tuple[str, int, str]]:
    """Entries of a jieba-format user dictionary (``word [freq] [tag]`` per line, ``#`` comments), with
    each word converted to the canonical script."""
    from kefu_corpus.text.convert import convert

    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        word, freq, tag = parts[0], _DEFAULT_FREQ, _DEFAULT_TAG
        rest = parts[1:]
        if rest and rest[0].isdigit():
            freq, rest = int(rest[0]), rest[1:]
        if rest:
            tag = rest[0]
        if len(rest) > 1:
            raise KefuError(f"{source}, line {number}: expected 'word [frequency] [tag]', got {line.strip()!r}.",
                            hint="one entry per line; frequency is a whole number, tag a jieba POS tag")
        entries.append((convert(word, canonical).text, freq, tag))
    return entries


def _read_user_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise KefuError(f"Cannot read the {what} {path}: {exc.strerror}.",
                        hint=f"fix the path in segment.{'user_dicts' if what == 'dictionary' else 'stopwords'}") from exc
    except UnicodeDecodeError as exc:
        raise KefuError(f"The {what} {path} is not UTF-8.", hint="save it as UTF-8") from exc


def stopword_set(params: SegmentParams) -> frozenset[str]:
    """The stopwords: stopwords-iso's Chinese list (MIT licence) plus any configured files, in canonical form."""
    import stopwordsiso

    from kefu_corpus.text.convert import convert

    words = set(stopwordsiso.stopwords("zh"))
    for path in params.stopwords:
        words.update(line.strip() for line in _read_user_file(path, "stopword list").splitlines()
                     if line.strip() and not line.startswith("#"))
    return frozenset(convert(w, params.canonical).text for w in words)


class Segmenter:
    """jieba's dictionary (through rjieba) with the domain dictionary and the user's; one per process."""

    def __init__(self, params: SegmentParams) -> None:
        import rjieba

        logging.getLogger("jieba").setLevel(logging.getLogger("kefu_corpus").getEffectiveLevel())
        self.params = params
        self.engine = rjieba.Jieba()
        entries = read_dictionary(_shipped("domain_dict.txt"), "the domain dictionary", params.canonical)
        for path in params.user_dicts:
            entries += read_dictionary(_read_user_file(path, "dictionary"), path, params.canonical)
        for word, freq, tag in entries:
            self.engine.add_word(word, freq, tag)
        self.n_entries = len(entries)
        self.stopwords = pa.array(sorted(stopword_set(params)), pa.string())

    def tag(self, text: str) -> list[tuple[str, str]]:
        """``(token, POS)`` pairs; the tokens concatenate to ``text``."""
        return self.engine.tag(text, hmm=self.params.hmm)

    def cut(self, text: str) -> list[str]:
        return self.engine.cut(text, hmm=self.params.hmm)

    def search(self, text: str) -> list[tuple[str, str, int, int]]:
        """Search mode: the default cut plus the dictionary words inside its long words, as
        ``(token, POS, start, end)``; spans overlap. A word added this way is tagged on its own."""
        tags = {}
        pos = 0
        for token, tag in self.tag(text):
            tags[(pos, pos + len(token))] = tag
            pos += len(token)
        out = []
        for token, start, end in self.engine.tokenize(text, mode="search", hmm=self.params.hmm):
            tag = tags.get((start, end))
            if tag is None:
                tag = self.engine.tag(token, hmm=False)[0][1]
            out.append((token, tag, start, end))
        return out


@lru_cache(maxsize=4)
def segmenter(params: SegmentParams) -> Segmenter:
    """The process's segmenter for ``params`` (dictionaries are loaded once)."""
    return Segmenter(params)


# -- token classes, vectorised over a batch of tokens ------------------------------------------------------

_LATIN = r"^[A-Za-z][A-Za-z0-9.+&'\-]*$|^[0-9]+[A-Za-z][A-Za-z0-9]*$"
_NUMBER = r"^[0-9０-９][0-9０-９.,%％:：\-/]*$|^[零〇一二三四五六七八九十百千万亿两]+$"


def token_types(tokens: pa.Array) -> pa.Array:
    """The type of each token (one of :data:`kefu_corpus.schemas.TOKEN_TYPES`)."""
    space = pc.utf8_is_space(tokens)
    latin = pc.match_substring_regex(tokens, _LATIN)
    number = pc.match_substring_regex(tokens, _NUMBER)
    punct = pc.match_substring_regex(tokens, r"^[\p{P}\p{S}]+$")
    types = np.full(len(tokens), "word", dtype=object)
    for mask, name in ((punct, "punctuation"), (number, "number"), (latin, "latin"), (space, "whitespace")):
        types[np.asarray(mask.to_numpy(zero_copy_only=False), bool)] = name
    return pa.array(types, pa.string())


def fold_latin(tokens: pa.Array, types: pa.Array) -> pa.Array:
    """Latin tokens upper-cased (APP, App, app -> APP); others as they are."""
    return pc.if_else(pc.equal(types, "latin"), pc.utf8_upper(tokens), tokens)


def is_stopword(tokens: pa.Array, stopwords: pa.Array) -> pa.Array:
    return pc.is_in(tokens, value_set=stopwords)


def tokenize_text(text: str, seg: Segmenter, normalize_options: dict) -> list[tuple[int, int, str]]:
    """Tokens of one line of text as ``(start, end, pos)`` spans of ``text`` itself: normalised and
    converted to the canonical script as the pipeline does, segmented, mapped back. Whitespace tokens
    are left out."""
    from kefu_corpus.text.convert import convert
    from kefu_corpus.text.normalize import normalize

    normal = normalize(text, **normalize_options)
    canonical = convert(normal.text, seg.params.canonical)
    back = normal.offsets.then(canonical.offsets)
    spans, pos = [], 0
    for token, tag in seg.tag(canonical.text):
        end = pos + len(token)
        if not token.isspace():
            spans.append((*back.source_span(pos, end), tag))
        pos = end
    # Tokens that map into one source block share its span: report the block once.
    out: list[tuple[int, int, str]] = []
    for start, end, tag in spans:
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]), out[-1][2])
        else:
            out.append((start, end, tag))
    return out
