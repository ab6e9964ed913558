"""Language models for the mojibake repair, in the canonical (Simplified) script.

* :class:`CharNgramModel`: a character n-gram model with Witten-Bell interpolation, trained on clean
  running text (the corpus's undamaged passages); its unigram level backs off to character
  frequencies from jieba's dictionary (:func:`dictionary_unigram`).
* :class:`WordModel`: jieba's word unigram model, for the words and idioms running text never shows.

N-grams of up to four characters are packed into one ``uint64`` key (16 bits per character id), so
the model is a few sorted arrays, built with ``np.unique`` and queried with ``np.searchsorted`` for a
whole batch of candidate characters at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kefu_corpus.text.convert import char_mapping

MAX_ORDER = 4
_BITS = 16
_MAX_ID = (1 << _BITS) - 1
SEPARATOR = 0  # id of a boundary; never predicted
UNKNOWN = 1  # id of a character outside the vocabulary


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


@dataclass
class _Order:
    keys: np.ndarray  # sorted packed n-grams
    counts: np.ndarray  # their (weighted) counts
    ctx_keys: np.ndarray  # sorted packed contexts (the first n-1 characters)
    ctx_total: np.ndarray  # summed counts of each context's continuations
    ctx_types: np.ndarray  # number of distinct continuations of each context


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(keys, query)
    idx_c = np.minimum(idx, len(keys) - 1) if len(keys) else idx
    found = (idx < len(keys)) & (keys[idx_c] == query) if len(keys) else np.zeros(len(query), bool)
    return np.where(found, values[idx_c] if len(keys) else 0.0, 0.0)


class CharNgramModel:
    """Interpolated Witten-Bell character model over canonical code points.

    Parameters
    ----------
    order
        Longest n-gram (2 to 4).
    canonical
        OpenCC config that maps characters to the script the model is trained and queried in.
    """

    def __init__(self, order: int = MAX_ORDER, canonical: str = "t2s") -> None:
        if not 2 <= order <= MAX_ORDER:
            raise ValueError(f"The 'order' parameter of CharNgramModel must be an int in [2, {MAX_ORDER}]. Got {order!r} instead.")
        self.order = order
        self.canonical = canonical

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, segments: Iterable[tuple[str, float]], base: np.ndarray | None = None) -> CharNgramModel:
        """Count n-grams in ``(text, weight)`` segments; n-grams never cross a segment boundary.

        ``base`` is the distribution (over ids) the unigram level backs off to; uniform by default.
        """
        mapping = char_mapping(self.canonical)
        pieces, weights = [], []
        for text, weight in segments:
            if not text:
                continue
            pieces.append(mapping[_codes(text)])
            pieces.append(np.zeros(1, np.uint32))
            weights.append(np.full(len(text) + 1, weight, np.float64))
        codes = np.concatenate(pieces) if pieces else np.zeros(0, np.uint32)
        weight = np.concatenate(weights) if weights else np.zeros(0, np.float64)
        self.cp2id_ = vocabulary(self.canonical)
        self.vocab_size_ = int(self.cp2id_.max()) + 1
        ids = self.cp2id_[codes].astype(np.uint64)
        self.orders_: list[_Order] = []
        for n in range(1, self.order + 1):
            m = len(ids) - n + 1
            if m <= 0:
                empty = np.zeros(0, np.uint64)
                self.orders_.append(_Order(empty, np.zeros(0), empty, np.zeros(0), np.zeros(0)))
                continue
            key = np.zeros(m, np.uint64)
            valid = np.ones(m, bool)
            for j in range(n):
                window = ids[j: j + m]
                valid &= window != SEPARATOR
                key = (key << np.uint64(_BITS)) | window
            key, w = key[valid], weight[: m][valid]
            keys, inverse = np.unique(key, return_inverse=True)
            counts = np.bincount(inverse, weights=w, minlength=len(keys))
            ctx = keys >> np.uint64(_BITS)
            ctx_keys, ctx_inv = np.unique(ctx, return_inverse=True)
            self.orders_.append(_Order(keys, counts, ctx_keys,
                                       np.bincount(ctx_inv, weights=counts, minlength=len(ctx_keys)),
                                       np.bincount(ctx_inv, minlength=len(ctx_keys)).astype(np.float64)))
        self.total_ = float(self.orders_[0].counts.sum())
        self.types_ = float(len(self.orders_[0].keys))
        if base is None:
            base = np.full(self.vocab_size_, 1.0 / self.vocab_size_)
        self.base_ = base
        return self

    # -- querying ------------------------------------------------------------------------------
    def ids(self, text: str) -> np.ndarray:
        """Canonical ids of ``text``'s characters."""
        return self.cp2id_[char_mapping(self.canonical)[_codes(text)]].astype(np.uint64)

    def id_of(self, ch: str) -> int:
        return int(self.cp2id_[char_mapping(self.canonical)[ord(ch)]])

    def logprob(self, history: tuple[int, ...], candidates: np.ndarray) -> np.ndarray:
        """Natural-log probability of each candidate id after ``history`` (ids, oldest first)."""
        cand = np.asarray(candidates, dtype=np.uint64)
        first = self.orders_[0]
        base = self.base_[cand.astype(np.int64)]
        prob = (_lookup(first.keys, first.counts, cand) + self.types_ * base) / (self.total_ + self.types_) \
            if self.total_ else base
        for n in range(2, self.order + 1):
            if len(history) < n - 1:
                break
            ctx = history[len(history) - (n - 1):]
            if SEPARATOR in ctx or UNKNOWN in ctx:
                break
            packed = 0
            for h in ctx:
                packed = (packed << _BITS) | int(h)
            level = self.orders_[n - 1]
            i = int(np.searchsorted(level.ctx_keys, np.uint64(packed)))
            if i >= len(level.ctx_keys) or int(level.ctx_keys[i]) != packed:
                break
            total, types = level.ctx_total[i], level.ctx_types[i]
            keys = (np.uint64(packed) << np.uint64(_BITS)) | cand
            prob = (_lookup(level.keys, level.counts, keys) + types * prob) / (total + types)
        return np.log(prob)

    def score(self, ids: Iterable[int], history: tuple[int, ...] = ()) -> float:
        """Total log probability of a sequence of ids after ``history``."""
        hist = list(history)
        total = 0.0
        for i in ids:
            total += float(self.logprob(tuple(hist[-(self.order - 1):]), np.array([i], np.uint64))[0])
            hist.append(int(i))
        return total


@lru_cache(maxsize=None)
def vocabulary(canonical: str = "t2s") -> np.ndarray:
    """Code point -> id: every CP936 character, ASCII and CJK punctuation, in the canonical script.

    Fixed, so models trained on different text share ids and can be interpolated. Everything else
    is :data:`UNKNOWN`; the separator (code point 0) is :data:`SEPARATOR`.
    """
    from kefu_corpus.text.cp936 import table

    mapping = char_mapping(canonical)
    codes = np.array(sorted({ord(ch) for ch in table().encode} | set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040))
                            | set(range(0xFF01, 0xFF5F))), np.uint32)
    vocab = np.unique(mapping[codes])
    cp2id = np.full(0x110000, UNKNOWN, np.uint16)
    cp2id[0] = SEPARATOR
    cp2id[vocab] = np.arange(2, len(vocab) + 2, dtype=np.uint16)
    return cp2id


def dictionary_words(path: Path) -> list[tuple[str, float]]:
    """``(word, frequency)`` from a jieba-format dictionary (``word freq [tag]`` per line)."""
    words = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2:
                try:
                    words.append((parts[0], max(float(parts[1]), 1.0)))
                except ValueError:
                    continue
    return words


def jieba_dictionary() -> Path:
    """Path of jieba's main dictionary (a dependency of kefu-corpus)."""
    import jieba

    return Path(jieba.__file__).with_name("dict.txt")


@lru_cache(maxsize=2)
def dictionary_unigram(canonical: str = "t2s") -> np.ndarray:
    """Character probabilities (by id) from jieba's dictionary: each word's frequency counts once per
    character, add-one smoothed over the vocabulary. The distribution running-text models back off to."""
    cp2id = vocabulary(canonical)
    mapping = char_mapping(canonical)
    counts = np.ones(int(cp2id.max()) + 1, np.float64)
    counts[SEPARATOR] = counts[UNKNOWN] = 0.0
    words, freqs = [], []
    for word, freq in dictionary_words(jieba_dictionary()):
        words.append(word)
        freqs.append(freq)
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    ids = cp2id[mapping[_codes("".join(words))]]
    np.add.at(counts, ids, np.repeat(np.asarray(freqs), lengths))
    counts[UNKNOWN] = 1.0
    return counts / counts.sum()


class WordModel:
    """A word unigram model over jieba's dictionary: the log probability of a text's best segmentation.

    It prefers readings made of real words (正在 over 遮, 舉辦 over 要積) where a character model
    trained on little running text cannot always tell them apart. Only runs of Han characters are
    scored as words, in the canonical script; other characters are scored as tokens of their own, by
    their share of the running text (:func:`token_costs`).
    """

    _HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

    def __init__(self, canonical: str = "t2s") -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.getLogger("kefu_corpus").getEffectiveLevel() or logging.WARNING)
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        self.canonical = canonical
        self._map = char_mapping(canonical)
        self._logtotal = math.log(self.tokenizer.total)
        self._steps: dict[tuple[str, str], tuple] = {}

    #: Longest word the incremental lattice (:meth:`extend`) looks for.
    MAX_WORD = 5

    def extend(self, state: tuple[str, tuple[float, ...]], ch: str, others: dict[str, float],
               unseen: float) -> tuple[str, tuple[float, ...]]:
        """One step of a left-to-right word lattice: ``state`` holds the Han characters (canonical)
        that end the text so far and the best segmentation score at each boundary among them; ``ch``
        is appended.

        Scores agree with :meth:`score` on Han text and non-Han tokens, up to words longer than
        :attr:`MAX_WORD` characters. The empty state is ``("", (0.0,))``.
        """
        tail, best = state
        step = self._steps.get((tail, ch)) or self._step(tail, ch)
        new_tail, words, c = step
        if words is None:
            return new_tail, (best[-1] + others.get(c, unseen),)
        value = best[-1] + words[0][1]
        for k, logp in words[1:]:
            value = max(value, best[-k] + logp)
        return new_tail, (best + (value,))[-(self.MAX_WORD + 1):]

    def _step(self, tail: str, ch: str) -> tuple[str, tuple[tuple[int, float], ...] | None, str]:
        """What :meth:`extend` needs to know of ``tail + ch``: the new tail, the dictionary words
        (length, log probability) that end with ``ch`` (None when ``ch`` is not Han), and ``ch`` in
        the canonical script."""
        if len(self._steps) > 1_000_000:
            self._steps.clear()
        c = chr(int(self._map[ord(ch)]))
        if not self._HAN.match(c):
            step: tuple = ("", None, c)
        else:
            new_tail = (tail + c)[-self.MAX_WORD:]
            freq, logtotal = self.tokenizer.FREQ, self._logtotal
            words = [(1, math.log(freq.get(c) or 1) - logtotal)]
            for k in range(2, len(new_tail) + 1):
                f = freq.get(new_tail[-k:])
                if f:
                    words.append((k, math.log(f) - logtotal))
            step = (new_tail, tuple(words), c)
        self._steps[(tail, ch)] = step
        return step

    def score(self, text: str, others: dict[str, float] | None = None, unseen: float = 0.0) -> float:
        """Log probability of the best segmentation of ``text``'s Han runs into dictionary words, plus
        ``others[ch]`` (else ``unseen``) for each other character, a token of its own."""
        if not text:
            return 0.0
        canonical = "".join(map(chr, char_mapping(self.canonical)[_codes(text)].tolist()))
        total = 0.0
        if others is not None:
            total += sum(others.get(ch, unseen) for ch in self._HAN.sub("", canonical))
        for m in self._HAN.finditer(canonical):
            run = m.group()
            route: dict = {}
            self.tokenizer.calc(run, self.tokenizer.get_DAG(run), route)
            total += route[0][0]
        return total


@lru_cache(maxsize=2)
def word_model(canonical: str = "t2s") -> WordModel:
    """The word model (jieba's dictionary loaded once per process)."""
    return WordModel(canonical)


def token_costs(model: CharNgramModel, chars_per_word: float = 1.6) -> tuple[dict[str, float], float]:
    """Log probabilities of non-Han characters as tokens of running text, from ``model``'s unigram
    counts, taking Han text to average ``chars_per_word`` characters a word; and the cost of an unseen one."""
    first = model.orders_[0]
    if not model.total_:
        return {}, 0.0
    inverse = np.zeros(int(model.cp2id_.max()) + 1, np.uint32)
    known = np.flatnonzero(model.cp2id_ > UNKNOWN)
    inverse[model.cp2id_[known]] = known
    ids = (first.keys).astype(np.int64)
    codes = inverse[ids]
    han = ((codes >= 0x3400) & (codes <= 0x9FFF)) | ((codes >= 0xF900) & (codes <= 0xFAFF))
    tokens = first.counts[han].sum() / chars_per_word + first.counts[~han].sum()
    costs = {chr(c): math.log(n / tokens) for c, n in zip(codes[~han].tolist(), first.counts[~han].tolist()) if c}
    return costs, math.log(0.5 / tokens)
