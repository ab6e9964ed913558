"""Language models for the mojibake repair, in the canonical (Simplified) script.

* :class:`CharNgramModel`: a character n-gram model (interpolated Kneser-Ney, or Witten-Bell) trained
  on clean running text (the corpus's undamaged passages). Its unigram level backs off to character
  frequencies from jieba's dictionary (:func:`dictionary_unigram`); a caller may put another model of
  the next character in the unigram level's place.
* :class:`WordPrefixModel`: jieba's word unigram model turned into a character model (the forward
  algorithm over a trie of the dictionary), for the words and idioms running text never shows. The
  repair backs the n-grams off to it. Its words and frequencies come from
  :func:`kefu_corpus.text.lexicon.word_frequencies`.

N-grams of up to four characters are packed into one ``uint64`` key (16 bits per character id), so
the model is a few sorted arrays, built with ``np.unique`` and queried with ``np.searchsorted`` for a
whole batch of candidate characters at once (:meth:`CharNgramModel.text_logprob`: for every position
of a text at once). A full-width form and its ASCII character share an id: text that folded its
full-width punctuation (as the damage in seed 003 did) reads like text that kept it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kefu_corpus.text.chars import code_points, from_code_points, han_mask
from kefu_corpus.text.convert import char_mapping
from kefu_corpus.text.cp936 import table as cp936_table
from kefu_corpus.text.lexicon import jieba_lexicon, word_frequencies

MAX_ORDER = 4
_BITS = 16
_MAX_ID = (1 << _BITS) - 1
SEPARATOR = 0  # id of a boundary; never predicted
UNKNOWN = 1  # id of a character outside the vocabulary
IMPOSSIBLE = -50.0  # log probability reported for a character a model gives no mass
_FULL_WIDTH = np.arange(0xFF01, 0xFF5F)  # full-width forms of ASCII 0x21-0x7E


@dataclass
class _Order:
    keys: np.ndarray  # sorted packed n-grams
    counts: np.ndarray  # their (weighted) counts
    ctx_keys: np.ndarray  # sorted packed contexts (the first n-1 characters)
    ctx_total: np.ndarray  # summed counts of each context's continuations
    ctx_types: np.ndarray  # number of distinct continuations of each context


def _search(keys: np.ndarray, query: np.ndarray, sort: bool = False) -> np.ndarray:
    """``np.searchsorted(keys, query)``. ``sort``: the query is long and in no order (a whole text's
    n-grams): it is searched in sorted order, which walks the keys once instead of jumping about them,
    several times faster."""
    if not sort:
        return np.searchsorted(keys, query)
    order = np.argsort(query)
    found = np.empty(len(query), np.intp)
    found[order] = np.searchsorted(keys, query[order])
    return found


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray, sort: bool = False) -> np.ndarray:
    idx = _search(keys, query, sort)
    idx_c = np.minimum(idx, len(keys) - 1) if len(keys) else idx
    found = (idx < len(keys)) & (keys[idx_c] == query) if len(keys) else np.zeros(len(query), bool)
    return np.where(found, values[idx_c] if len(keys) else 0.0, 0.0)


class CharNgramModel:
    """Interpolated character n-gram model over canonical code points.

    Parameters
    ----------
    order
        Longest n-gram (2 to 4).
    canonical
        OpenCC config that maps characters to the script the model is trained and queried in.
    smoothing
        ``"kn"``: interpolated Kneser-Ney (lower orders count the distinct characters seen before an
        n-gram, with absolute discounts from the counts of counts); ``"wb"``: Witten-Bell.
    """

    def __init__(self, order: int = MAX_ORDER, canonical: str = "t2s", smoothing: str = "kn") -> None:
        if not 2 <= order <= MAX_ORDER:
            raise ValueError(f"The 'order' parameter of CharNgramModel must be an int in [2, {MAX_ORDER}]. Got {order!r} instead.")
        if smoothing not in ("kn", "wb"):
            raise ValueError(f"The 'smoothing' parameter of CharNgramModel must be 'kn' or 'wb'. Got {smoothing!r} instead.")
        self.order = order
        self.canonical = canonical
        self.smoothing = smoothing

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, segments: Iterable[tuple[str, float]], base: np.ndarray | None = None,
            shapes: bool = False) -> CharNgramModel:
        """Count n-grams in ``(text, weight)`` segments; n-grams never cross a segment boundary.

        ``base`` is the distribution (over ids) the unigram level backs off to; uniform by default.
        ``shapes`` also fits a model of the text's shape (:meth:`shape_logprob`), backing off to
        ``base`` summed over each shape class, so a symbol the text never shows is as improbable as a
        shape as it is as a character.
        """
        segments = list(segments)
        counts = count_ngrams(segments, self.order, self.canonical)
        shape_counts = None
        if shapes:
            shape_counts = count_ngrams([(shape_text(text), weight) for text, weight in segments], self.order,
                                        self.canonical)
        return self.from_counts(counts, base, shape_counts)

    def from_counts(self, counts: NgramCounts, base: np.ndarray | None = None,
                    shape_counts: NgramCounts | None = None) -> CharNgramModel:
        """The model of n-gram ``counts`` (:func:`count_ngrams`, of orders 1 to :attr:`order`), as
        :meth:`fit` would build it from the texts counted; ``shape_counts``, the counts of their shapes,
        also fits the shape model."""
        self.shape_ = None
        if shape_counts is not None:
            size = int(vocabulary(self.canonical).max()) + 1
            full = np.full(size, 1.0 / size) if base is None else base
            shape_base = np.bincount(shape_ids(self.canonical).astype(np.int64), weights=full, minlength=size)
            self.shape_ = CharNgramModel(self.order, self.canonical, self.smoothing).from_counts(
                shape_counts, base=shape_base)
        self.cp2id_ = vocabulary(self.canonical)
        self.vocab_size_ = int(self.cp2id_.max()) + 1
        self.orders_ = [_order(keys, level) for keys, level in zip(counts.keys[: self.order], counts.counts)]
        self.characters_ = self.orders_[0]  # how often each character occurs
        self.total_ = float(self.characters_.counts.sum())
        self.types_ = float(len(self.characters_.keys))
        self.discounts_: list[float] | None = None
        if self.smoothing == "kn":
            self.discounts_ = [_discount(level.counts) for level in self.orders_]
            self.orders_ = _continuation(self.orders_)
        if base is None:
            base = np.full(self.vocab_size_, 1.0 / self.vocab_size_)
        self.base_ = base
        return self

    # -- querying ------------------------------------------------------------------------------
    def ids(self, text: str) -> np.ndarray:
        """Canonical ids of ``text``'s characters."""
        return self.cp2id_[char_mapping(self.canonical)[code_points(text)]].astype(np.uint64)

    def id_of(self, ch: str) -> int:
        return int(self.cp2id_[char_mapping(self.canonical)[ord(ch)]])

    def unigram(self, candidates: np.ndarray) -> np.ndarray:
        """The unigram level: each candidate id's share of the running text, backing off to ``base``."""
        cand = np.asarray(candidates, dtype=np.uint64)
        first = self.characters_
        base = self.base_[cand.astype(np.int64)]
        if not self.total_:
            return base
        return (_lookup(first.keys, first.counts, cand) + self.types_ * base) / (self.total_ + self.types_)

    def logprob(self, history: tuple[int, ...], candidates: np.ndarray, lower: np.ndarray | None = None) -> np.ndarray:
        """Natural-log probability of each candidate id after ``history`` (ids, oldest first).

        ``lower`` replaces the unigram level as what the bigrams back off to: the probability of each
        candidate under another model of the next character (for the repair, the word model's).
        """
        cand = np.asarray(candidates, dtype=np.uint64)
        prob = self.unigram(cand) if lower is None else lower
        return np.log(_interpolate(self.orders_, history, cand, prob, self.order, self.discounts_))

    def shape_logprob(self, history: tuple[int, ...], candidates: np.ndarray) -> np.ndarray:
        """Natural-log probability of each candidate's shape class (:func:`shape_text`) after the shapes
        of ``history``. Every Han character is one class, so contexts the character n-grams have never
        seen, such as an opening quote and one character, are well attested as shapes."""
        if self.shape_ is None:
            raise ValueError("This model was fitted without shapes: fit it with shapes=True.")
        shape = shape_ids(self.canonical)
        hist = tuple(int(x) for x in shape[np.asarray(history, np.int64)]) if len(history) else ()
        return self.shape_.logprob(hist, shape[np.asarray(candidates, np.int64)])

    def shaped_symbols(self) -> np.ndarray:
        """id -> the shape model informs its score: a symbol (:func:`symbol_ids`) the training text
        shows. Of a symbol it never shows, the shape model knows no more than the character model."""
        if self.shape_ is None:
            raise ValueError("This model was fitted without shapes: fit it with shapes=True.")
        out = np.zeros(self.vocab_size_, bool)
        out[self.characters_.keys.astype(np.int64)] = True
        return out & symbol_ids(self.canonical)

    def text_logprob(self, text: str) -> np.ndarray:
        """Log probability of each character of ``text`` after the ones before it (a newline starts
        afresh), all positions at once."""
        ids = self.ids(text.replace("\n", "\0"))
        prob = _interpolate_all(self.orders_, ids, self.unigram(ids), self.order, self.discounts_)
        return np.log(prob[ids != SEPARATOR])


def _interpolate_all(orders: list[_Order], ids: np.ndarray, prob: np.ndarray, order: int,
                     discounts: list[float] | None = None) -> np.ndarray:
    """:func:`_interpolate` for every position of ``ids`` at once, each after the ids before it."""
    usable = (ids != SEPARATOR) & (ids != UNKNOWN)
    ctx = np.zeros(len(ids), np.uint64)  # the packed n-1 ids before each position
    found = np.ones(len(ids), bool)  # every shorter context was seen, so this order still applies
    for n in range(2, order + 1):
        prev = np.zeros(len(ids), np.uint64)
        prev[n - 1:] = ids[: len(ids) - n + 1]
        ok = np.zeros(len(ids), bool)
        ok[n - 1:] = usable[: len(ids) - n + 1]
        ctx = ctx | (prev << np.uint64(_BITS * (n - 2)))  # the new, older id goes on top
        found &= ok
        level = orders[n - 1]
        if not len(level.ctx_keys):
            break
        i = np.minimum(_search(level.ctx_keys, ctx, sort=True), len(level.ctx_keys) - 1)
        found &= level.ctx_keys[i] == ctx
        total, types = level.ctx_total[i], level.ctx_types[i]
        counts = _lookup(level.keys, level.counts, (ctx << np.uint64(_BITS)) | ids, sort=True)
        if discounts is None:
            new = (counts + types * prob) / np.where(found, total + types, 1.0)
        else:
            d = discounts[n - 1]
            new = (np.maximum(counts - d, 0.0) + d * types * prob) / np.where(found, total, 1.0)
        prob = np.where(found, new, prob)
    return prob


@dataclass(frozen=True)
class NgramCounts:
    """N-gram counts of orders 1 to ``len(keys)``: for each order, the sorted packed n-grams and their
    counts (floats; whole numbers unless the texts were weighted). The counts of separate texts add up
    (``a + b``) to the counts of all of them, and subtract (``a - b``), exactly for whole counts: a
    model of several texts' counts is the model of those texts (:meth:`CharNgramModel.from_counts`)."""

    keys: tuple[np.ndarray, ...]
    counts: tuple[np.ndarray, ...]

    def __add__(self, other: NgramCounts) -> NgramCounts:
        return self._combine(other, 1.0)

    def __sub__(self, other: NgramCounts) -> NgramCounts:
        return self._combine(other, -1.0)

    def _combine(self, other: NgramCounts, sign: float) -> NgramCounts:
        pairs = [_merge(a_keys, a_counts, b_keys, sign * b_counts)
                 for a_keys, a_counts, b_keys, b_counts in zip(self.keys, self.counts, other.keys, other.counts)]
        return NgramCounts(tuple(k for k, _ in pairs), tuple(c for _, c in pairs))


def _merge(a_keys: np.ndarray, a_counts: np.ndarray, b_keys: np.ndarray,
           b_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted count tables as one: the counts of a key in both summed, keys whose sum is 0 left out."""
    both = np.concatenate([a_keys, b_keys])
    order = np.argsort(both, kind="stable")  # two sorted runs: a merge
    both, summed = both[order], np.concatenate([a_counts, b_counts])[order]
    if not len(both):
        return both, summed
    first = np.flatnonzero(np.r_[True, both[1:] != both[:-1]])
    summed = np.add.reduceat(summed, first)
    kept = summed != 0
    return both[first][kept], summed[kept]


def _group_sums(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``keys`` with repeats, as distinct keys and their summed counts."""
    if not len(keys):
        return keys, counts
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[first], np.add.reduceat(counts, first)


def count_ngrams(segments: Iterable[tuple[str, float]], order: int = MAX_ORDER, canonical: str = "t2s",
                 across: int | None = None) -> NgramCounts:
    """N-gram counts of orders 1 to ``order`` in ``(text, weight)`` segments, in the ids of ``canonical``;
    no n-gram crosses a segment boundary. ``across`` counts only the n-grams that cross a multiple of
    ``across`` characters of their segment: what cutting each segment into blocks of that size loses."""
    mapping = char_mapping(canonical)
    pieces, weights, lengths = [], [], []
    for text, weight in segments:
        if not text:
            continue
        pieces.append(mapping[code_points(text)])
        pieces.append(np.zeros(1, np.uint32))
        weights.append(np.full(len(text) + 1, weight, np.float64))
        lengths.append(len(text) + 1)
    codes = np.concatenate(pieces) if pieces else np.zeros(0, np.uint32)
    weight = np.concatenate(weights) if weights else np.zeros(0, np.float64)
    ids = vocabulary(canonical)[codes].astype(np.uint64)
    if across is None and bool(len(weight)) and bool((weight == 1.0).all()):
        return _whole_counts(ids, order)
    if across is not None:  # the multiples of `across` inside each segment, as positions in `ids`
        sizes = np.array(lengths, np.int64) - 1
        per = np.maximum(sizes - 1, 0) // across
        starts = np.repeat(np.cumsum(sizes + 1) - (sizes + 1), per)
        cuts = starts + across * (np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per) + 1)
        ids = np.concatenate([ids, np.zeros(order, np.uint64)])  # an n-gram at the end stops at a separator
    keys_out, counts_out = [], []
    for n in range(1, order + 1):
        m = len(ids) - n + 1
        at = None if across is None else (cuts[:, None] - np.arange(1, n)[None, :]).ravel()
        if m <= 0 or (at is not None and not len(at)):
            keys_out.append(np.zeros(0, np.uint64))
            counts_out.append(np.zeros(0))
            continue
        key, valid = _grams(ids, n, m, at)
        keys, inverse = np.unique(key[valid], return_inverse=True)
        keys_out.append(keys)
        counts_out.append(np.bincount(inverse, weights=(weight[:m] if at is None else weight[at])[valid],
                                      minlength=len(keys)))
    return NgramCounts(tuple(keys_out), tuple(counts_out))


def _grams(ids: np.ndarray, n: int, m: int, at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The packed ``n``-grams starting at the first ``m`` positions of ``ids`` (or at positions ``at``),
    and whether each is one (holds no ``SEPARATOR``)."""
    key = np.zeros(m if at is None else len(at), np.uint64)
    valid = np.ones(len(key), bool)
    for j in range(n):
        window = ids[j: j + m] if at is None else ids[at + j]
        valid &= window != SEPARATOR
        key = (key << np.uint64(_BITS)) | window
    return key, valid


def _whole_counts(ids: np.ndarray, order: int) -> NgramCounts:
    """:func:`count_ngrams` of unweighted segments (``ids``: each segment followed by a ``SEPARATOR``).
    One sort counts the longest n-grams. Every shorter n-gram is the prefix of a longer one, or ends
    its segment, so each lower order is its prefixes' counts summed (already in order) plus the few
    n-grams that end a segment."""
    keys: list[np.ndarray] = [np.zeros(0, np.uint64)] * order
    counts: list[np.ndarray] = [np.zeros(0)] * order
    m = len(ids) - order + 1
    if m > 0:
        key, valid = _grams(ids, order, m)
        top, top_counts = np.unique(key[valid], return_counts=True)
        keys[-1], counts[-1] = top, top_counts.astype(np.float64)
    ends = np.flatnonzero(ids == SEPARATOR)
    for n in range(order - 1, 0, -1):
        prefix_keys, prefix_counts = _group_sums(keys[n] >> np.uint64(_BITS), counts[n])
        at = ends - n
        at = at[at >= 0]
        final, valid = _grams(ids, n, 0, at)
        final_keys, final_counts = np.unique(final[valid], return_counts=True)
        keys[n - 1], counts[n - 1] = _merge(prefix_keys, prefix_counts, final_keys, final_counts.astype(np.float64))
    return NgramCounts(tuple(keys), tuple(counts))


def _order(keys: np.ndarray, counts: np.ndarray) -> _Order:
    """One level of the model from its sorted n-grams and their counts."""
    contexts = keys >> np.uint64(_BITS)  # sorted, as the keys are
    new = np.r_[True, contexts[1:] != contexts[:-1]] if len(contexts) else np.zeros(0, bool)
    ctx_inv = np.cumsum(new) - 1
    ctx_keys = contexts[new]
    return _Order(keys, counts, ctx_keys, np.bincount(ctx_inv, weights=counts, minlength=len(ctx_keys)),
                  np.bincount(ctx_inv, minlength=len(ctx_keys)).astype(np.float64))


def _discount(counts: np.ndarray) -> float:
    """Kneser-Ney's absolute discount from the counts of counts: n1 / (n1 + 2 n2). Without n-grams
    seen once (a small or very regular text, such as the shapes of one short document) that is 0 and
    would leave no mass for what was never seen; the classic constant 0.75 stands in."""
    n1, n2 = float((counts == 1).sum()), float((counts == 2).sum())
    return n1 / (n1 + 2 * n2) if n1 else 0.75


def _continuation(orders: list[_Order]) -> list[_Order]:
    """Kneser-Ney: every order but the highest counts, for each n-gram, the distinct characters seen
    before it rather than its occurrences."""
    out = []
    for n in range(1, len(orders)):
        longer = orders[n].keys
        suffix = longer & np.uint64((1 << (_BITS * n)) - 1)
        keys, counts = np.unique(suffix, return_counts=True)
        out.append(_order(keys, counts.astype(np.float64)))
    return out + [orders[-1]]


def _interpolate(orders: list[_Order], history: tuple[int, ...], cand: np.ndarray, prob: np.ndarray,
                 order: int, discounts: list[float] | None = None) -> np.ndarray:
    """Interpolation of ``prob`` (the level below) with n-grams of orders 2 to ``order``: Witten-Bell,
    or Kneser-Ney's absolute discounting when ``discounts`` (one per order) are given."""
    for n in range(2, order + 1):
        if len(history) < n - 1:
            break
        ctx = history[len(history) - (n - 1):]
        if SEPARATOR in ctx or UNKNOWN in ctx:
            break
        packed = 0
        for h in ctx:
            packed = (packed << _BITS) | int(h)
        level = orders[n - 1]
        i = int(np.searchsorted(level.ctx_keys, np.uint64(packed)))
        if i >= len(level.ctx_keys) or int(level.ctx_keys[i]) != packed:
            break
        total, types = level.ctx_total[i], level.ctx_types[i]
        keys = (np.uint64(packed) << np.uint64(_BITS)) | cand
        if discounts is None:
            prob = (_lookup(level.keys, level.counts, keys) + types * prob) / (total + types)
        else:
            d = discounts[n - 1]
            prob = (np.maximum(_lookup(level.keys, level.counts, keys) - d, 0.0) + d * types * prob) / total
    return prob


def _is_digit(codes: np.ndarray) -> np.ndarray:
    """ASCII and full-width digits."""
    return ((codes >= 0x30) & (codes <= 0x39)) | ((codes >= 0xFF10) & (codes <= 0xFF19))


def _is_latin(codes: np.ndarray) -> np.ndarray:
    """ASCII and full-width Latin letters."""
    return ((codes >= 0x41) & (codes <= 0x5A)) | ((codes >= 0x61) & (codes <= 0x7A)) \
        | ((codes >= 0xFF21) & (codes <= 0xFF3A)) | ((codes >= 0xFF41) & (codes <= 0xFF5A))


@lru_cache(maxsize=4)
def _id_codes(canonical: str = "t2s") -> np.ndarray:
    """id -> the code point it stands for (0 for the separator and unknown characters)."""
    cp2id = vocabulary(canonical)
    inverse = np.zeros(int(cp2id.max()) + 1, np.uint32)
    known = np.flatnonzero(cp2id > UNKNOWN)
    known = known[(known < _FULL_WIDTH[0]) | (known > _FULL_WIDTH[-1])]  # an id stands for its ASCII form
    inverse[cp2id[known]] = known
    return inverse


@lru_cache(maxsize=4)
def han_ids(canonical: str = "t2s") -> np.ndarray:
    """id -> is a Han character (:func:`kefu_corpus.text.chars.is_han`)."""
    return han_mask(_id_codes(canonical))


#: What :func:`shape_text` writes for every Han character, digit and Latin letter.
SHAPE_HAN, SHAPE_DIGIT, SHAPE_LATIN = "\u4e00", "0", "a"


def shape_text(text: str) -> str:
    """The shape of ``text``: every Han character becomes one class character, every digit another and
    every Latin letter a third; punctuation and other symbols stand for themselves."""
    codes = code_points(text).copy()
    codes[han_mask(codes)] = ord(SHAPE_HAN)
    codes[_is_digit(codes)] = ord(SHAPE_DIGIT)
    codes[_is_latin(codes)] = ord(SHAPE_LATIN)
    return from_code_points(codes)


@lru_cache(maxsize=4)
def shape_ids(canonical: str = "t2s") -> np.ndarray:
    """id -> the id of its shape class (:func:`shape_text`); unknown characters count as Han."""
    cp2id = vocabulary(canonical)
    codes = _id_codes(canonical).copy()
    codes[UNKNOWN] = ord(SHAPE_HAN)
    shape = cp2id[code_points(shape_text(from_code_points(codes)))].astype(np.uint64)
    shape[SEPARATOR] = SEPARATOR
    return shape


@lru_cache(maxsize=4)
def symbol_ids(canonical: str = "t2s") -> np.ndarray:
    """id -> is a class of its own in :func:`shape_text` (punctuation and other symbols; not the
    characters that stand for the classes of Han characters, digits and Latin letters)."""
    codes = _id_codes(canonical)
    out = ~(han_mask(codes) | _is_digit(codes) | _is_latin(codes))
    out[[SEPARATOR, UNKNOWN]] = False
    return out


@lru_cache(maxsize=None)
def vocabulary(canonical: str = "t2s") -> np.ndarray:
    """Code point -> id: every CP936 character, ASCII and CJK punctuation, in the canonical script;
    a full-width form (U+FF01-U+FF5E) has its ASCII character's id.

    Fixed, so models trained on different text share ids and can be interpolated. Everything else
    is :data:`UNKNOWN`; the separator (code point 0) is :data:`SEPARATOR`.
    """
    mapping = char_mapping(canonical)
    codes = np.array(sorted({ord(ch) for ch in cp936_table().encode} | set(range(0x20, 0x7F))
                            | set(range(0x3000, 0x3040)) | set(range(0xFF01, 0xFF5F))), np.uint32)
    vocab = np.unique(mapping[codes[(codes < _FULL_WIDTH[0]) | (codes > _FULL_WIDTH[-1])]])
    cp2id = np.full(0x110000, UNKNOWN, np.uint16)
    cp2id[0] = SEPARATOR
    cp2id[vocab] = np.arange(2, len(vocab) + 2, dtype=np.uint16)
    cp2id[_FULL_WIDTH] = cp2id[_FULL_WIDTH - 0xFEE0]  # a full-width form is its ASCII character
    return cp2id


@lru_cache(maxsize=2)
def dictionary_unigram(canonical: str = "t2s") -> np.ndarray:
    """Character probabilities (by id) from jieba's dictionary: each word's frequency counts once per
    character, add-one smoothed over the vocabulary. The distribution running-text models back off to."""
    cp2id = vocabulary(canonical)
    mapping = char_mapping(canonical)
    counts = np.ones(int(cp2id.max()) + 1, np.float64)
    counts[SEPARATOR] = counts[UNKNOWN] = 0.0
    lexicon = jieba_lexicon()
    ids = cp2id[mapping[code_points(lexicon.text)]]
    np.add.at(counts, ids, np.repeat(np.maximum(lexicon.freqs, 1.0), lexicon.lengths))
    counts[UNKNOWN] = 1.0
    return counts / counts.sum()


@dataclass(frozen=True)
class _Trie:
    """jieba's dictionary as a trie over canonical ids, with the probability mass under each node."""

    mass: np.ndarray  # node -> summed probability of the words through it (the root: 1)
    term: np.ndarray  # node -> probability of the word that ends there
    edge_key: np.ndarray  # sorted (parent << 16) | char id
    edge_child: np.ndarray  # the child node of each edge
    first_edge: np.ndarray  # node -> index of its first edge
    n_edges: np.ndarray  # node -> number of edges
    root_child: np.ndarray  # char id -> node of the one-character prefix (-1: none)
    han: np.ndarray  # char id -> is a Han character


@lru_cache(maxsize=4)
def _dictionary_trie(canonical: str = "t2s", reference: bool = False, max_word: int = 8,
                     floor: float = 0.5) -> _Trie:
    """The trie of :class:`WordPrefixModel` (words of
    :func:`~kefu_corpus.text.lexicon.word_frequencies`). Every Han character of the vocabulary is also a
    word of frequency ``floor``, so no character is impossible; Han probabilities sum to 1."""
    cp2id = vocabulary(canonical)
    mapping = char_mapping(canonical)
    size = int(cp2id.max()) + 1
    han = han_ids(canonical)
    words = [(w, f) for w, f in word_frequencies(reference) if len(w) <= max_word]
    lengths = np.fromiter((len(w) for w, _ in words), np.int64, len(words))
    flat = cp2id[mapping[code_points("".join(w for w, _ in words))]].astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    all_han = np.logical_and.reduceat(han[flat], starts) if len(words) else np.zeros(0, bool)
    singles = np.flatnonzero(han)
    flat = np.concatenate([flat[np.repeat(all_han, lengths)], singles])
    lengths = np.concatenate([lengths[all_han], np.ones(len(singles), np.int64)])
    freq = np.concatenate([np.fromiter((f for _, f in words), np.float64, len(words))[all_han],
                           np.full(len(singles), floor)])
    prob = freq / freq.sum()
    starts = np.cumsum(lengths) - lengths
    node = np.zeros(len(lengths), np.int64)
    keys, children, masses, terms = [], [], [np.ones(1)], [np.zeros(1)]
    n_nodes = 1
    for depth in range(1, max_word + 1):
        alive = np.flatnonzero(lengths >= depth)
        if not len(alive):
            break
        key = (node[alive] << _BITS) | flat[starts[alive] + depth - 1]
        uniq, inv = np.unique(key, return_inverse=True)
        new = n_nodes + np.arange(len(uniq))
        node[alive] = new[inv]
        keys.append(uniq)
        children.append(new)
        masses.append(np.bincount(inv, weights=prob[alive], minlength=len(uniq)))
        ends = lengths[alive] == depth
        terms.append(np.bincount(inv[ends], weights=prob[alive][ends], minlength=len(uniq)))
        n_nodes += len(uniq)
    edge_key, edge_child = np.concatenate(keys), np.concatenate(children)
    parent = edge_key >> _BITS
    n_edges = np.bincount(parent, minlength=n_nodes)
    first_edge = np.cumsum(n_edges) - n_edges
    root_child = np.full(size, -1, np.int64)
    root_child[keys[0] & _MAX_ID] = children[0]
    return _Trie(np.concatenate(masses), np.concatenate(terms), edge_key, edge_child, first_edge, n_edges,
                 root_child, han)


class WordPrefixModel:
    """jieba's word unigram model (mixed, with ``reference``, with the reference text's words:
    :func:`~kefu_corpus.text.lexicon.word_frequencies`) as a character model.

    ``P(next character | text so far)`` sums over every segmentation of the text into dictionary words
    and over every word the last, unfinished one may still become (the forward algorithm over a trie).
    So a character already earns the mass of every word it may begin, and a reading is not ranked
    only when its words are complete. Characters that are not Han are tokens of their own, with their share
    of the tokens of the running text the character model learnt from (``token_logprob``).

    A state is ``(nodes, weights)``: the trie node of each word that may still be open (the root, 0,
    for a word boundary) and its forward weight, scaled so the text so far has probability 1.
    """

    START = ((0,), (1.0,))

    def __init__(self, token_logprob: np.ndarray, canonical: str = "t2s", reference: bool = False) -> None:
        self.trie = _dictionary_trie(canonical, reference)
        trie = self.trie
        tokens = np.where(trie.han, 0.0, np.exp(token_logprob))
        tokens[SEPARATOR] = tokens[UNKNOWN] = 0.0
        p_han = max(1.0 - float(tokens.sum()), 0.5)
        tokens *= (1.0 - p_han) / tokens.sum() if tokens.sum() else 0.0
        self.tokens = tokens
        #: id -> probability that the next token starts with it (from the root)
        self.root = tokens.copy()
        has = trie.root_child >= 0
        self.root[has] = p_han * trie.mass[trie.root_child[has]]
        self.p_han = p_han

    def probs(self, state: tuple, candidates: np.ndarray) -> np.ndarray:
        """Probability of each candidate id after ``state``."""
        nodes, weights = state
        trie = self.trie
        if len(nodes) == 1:
            return weights[0] * self.root[candidates.astype(np.int64)]
        dense = weights[0] * self.root
        for v, a in zip(nodes[1:], weights[1:]):
            lo = trie.first_edge[v]
            hi = lo + trie.n_edges[v]
            dense[trie.edge_key[lo:hi] & _MAX_ID] += a * self.p_han * trie.mass[trie.edge_child[lo:hi]]
        return dense[candidates.astype(np.int64)]

    def advance(self, state: tuple, cid: int) -> tuple[tuple, float]:
        """The state after character id ``cid``, and the character's log probability."""
        nodes, weights = state
        trie = self.trie
        if not trie.han[cid]:
            p = weights[0] * self.tokens[cid]
            return self.START, (math.log(p) if p > 0 else IMPOSSIBLE)
        new_nodes, new_weights, boundary, total = [0], [0.0], 0.0, 0.0
        for v, a in zip(nodes, weights):
            if v == 0:
                child = int(trie.root_child[cid])
            else:
                key = (v << _BITS) | cid
                lo = int(trie.first_edge[v])
                hi = lo + int(trie.n_edges[v])
                j = lo + int(np.searchsorted(trie.edge_key[lo:hi], key))
                child = int(trie.edge_child[j]) if j < hi and trie.edge_key[j] == key else -1
            if child < 0:
                continue
            boundary += a * trie.term[child]
            total += a * trie.mass[child]
            if trie.n_edges[child]:
                new_nodes.append(child)
                new_weights.append(a)
        boundary *= self.p_han
        total *= self.p_han
        if total <= 0:
            return self.START, IMPOSSIBLE
        new_weights[0] = boundary
        return (tuple(new_nodes), tuple(w / total for w in new_weights)), math.log(total)


def token_logprob(model: CharNgramModel, chars_per_word: float = 1.6) -> np.ndarray:
    """Log probability (by id) of each character that is not Han as a token of running text, from
    ``model``'s character counts, taking Han text to average ``chars_per_word`` characters a word;
    characters the text never shows get half a count."""
    out = np.zeros(model.vocab_size_)
    if not model.total_:
        return out
    first = model.characters_
    ids = first.keys.astype(np.int64)
    han = han_ids(model.canonical)[ids]
    tokens = first.counts[han].sum() / chars_per_word + first.counts[~han].sum()
    out[:] = math.log(0.5 / tokens)
    out[ids[~han]] = np.log(first.counts[~han] / tokens)
    return out
