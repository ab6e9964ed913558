"""Find and repair misaligned-GBK mojibake: pure ``str -> Repaired`` with an offset map and an audit trail.

A damaged run starts where a character ending in byte ``A3`` lost its first byte (shown as ``?``)
and the straddling pair showed as a mark (``? ! ; ,``); from there the text was decoded one byte out
of step until a byte below 0x80 put the decoder back in step (see :mod:`kefu_corpus.text.cp936`).

The repair is analysis by synthesis. A beam search proposes the original characters one at a time,
and each proposal must reproduce, byte for byte, what the damage model would have printed: the
garbage character made of its trail byte and the next character's lead byte, or nothing for a pair
CP936 leaves unassigned, or ``?`` for a lost byte. Characters whose bytes are visible are fixed by
that constraint; only lost bytes are open. A character model chooses among them: the character
n-grams of the corpus's clean text (:class:`~kefu_corpus.text.charlm.CharNgramModel`), pooled with a
reference text of general Chinese where that helps (:mod:`kefu_corpus.text.reference`), backing off,
where the text has not seen enough of a context, to jieba's word unigram model read as a character
model (:class:`~kefu_corpus.text.charlm.WordPrefixModel`), which credits a character for the words
it may begin. It is one distribution over the next character, so readings of different lengths
compare fairly; a prior from the document's script weighs in too. Every state is scored as the
search goes; two states merge only when they agree on everything either model can still see, the
survivor carrying the probability of both; a state keeps more of the children that end the run
than of those that go on, since those cost no further search; and states that must assume another
dropped pair before they can read on are pruned apart from those that can. The search ends where
the decoder got back in step; readings that end at the same place are compared with a few
characters of the clean text that follows, and a reading is accepted only when it is far more
probable than the text as it stands. Its confidence is its share of every reading finished.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from kefu_corpus.text import cp936
from kefu_corpus.text.chars import code_points
from kefu_corpus.text.charlm import (CharNgramModel, NgramCounts, WordPrefixModel, count_ngrams,
                                     dictionary_unigram, shape_text, token_logprob)
from kefu_corpus.text.convert import char_mapping
from kefu_corpus.text.offsets import OffsetMap, OffsetMapBuilder
from kefu_corpus.text.reference_choice import choose_reference, reference_counts
from kefu_corpus.text.repair_params import RepairParams
from kefu_corpus.text.script import script_profile

METHOD = "cp936-realign"
#: Where a damaged run may start: the lost byte, then the mark the straddling pair shows as.
SITE = re.compile(r"\?[?!;,]")
#: Characters of clean text after the run that are scored with each reading.
RIGHT_CONTEXT = 4
#: Characters before a run that the word model sees with each reading.
WORD_CONTEXT = 6
#: Characters around a site left out of training and script statistics.
SITE_WINDOW = 60
#: Repairs less confident than this are right about half the time: worth a look by hand.
REVIEW_CONFIDENCE = 0.9
#: Characters after a site that the site test scores (:func:`site_scores`).
SITE_TEST_CHARS = 3
_SITE_TEST = re.compile(rf"[^\x00-\x7f\s]\S{{0,{SITE_TEST_CHARS - 1}}}")
_MARKS = re.compile(r"[?!;,]*")
#: A run of question and exclamation marks at a site, read as the text stands: one mark of emphasis.
#: The model cannot learn how often writers double their marks (every ``??`` and ``?!`` is a possible
#: site, cut out of its training text), so it would score ``???`` as three unlikely characters, and a
#: two-character reading of a legitimate ``??? `` before a space could beat it.
_EMPHASIS = re.compile(r"^([?!])[?!]+")


@dataclass(frozen=True)
class Repair:
    """One repaired run: ``text[start:end]`` of the input was ``damaged`` and is now ``repaired``."""

    start: int
    end: int
    damaged: str
    repaired: str
    confidence: float
    gain: float  # log-likelihood ratio (nats) of the repaired reading over the text as it stands
    method: str = METHOD


@dataclass(frozen=True)
class Repaired:
    text: str
    offsets: OffsetMap  # repaired text -> input text
    repairs: tuple[Repair, ...]


def find_sites(text: str) -> list[int]:
    """Offsets of every possible run start (``?`` followed by ``? ! ; ,``)."""
    return [m.start() for m in SITE.finditer(text)]


def site_scores(text: str, sites: Sequence[int], model: CharNgramModel,
                prior: dict[str, float] | None = None) -> np.ndarray:
    """How fluent the text after each site is: the mean log-probability (nats) under ``model`` of the
    first :data:`SITE_TEST_CHARS` characters after the site's two, read as the start of a sentence, with
    the document's script prior (:func:`script_prior`) for each character only one script has.

    A damaged run reads one byte out of step from the character after its mark, so what follows the
    mark is a string of characters made of the halves of two others, rare code points in odd order,
    and as often Simplified as Traditional, whatever the document's script (GBK's common block is the
    Simplified one). ``benchmarks/repair_quality.py`` shows the scores of damaged and of legitimate
    sites, and how many of each a threshold searches. The search
    (:func:`repair`) runs only at sites scoring below ``RepairParams.site_threshold``. Two cases need
    no model: a damaged run always leaves a character after its mark (the next byte pair, or ``?``
    for a lone byte), never a space, a line break or the end of the text, so a site followed by one of
    those is legitimate (+inf); and a site followed by an ASCII character is searched (-inf), since a
    run that is one ends there and its search is short. More marks after the site (``???``) are passed
    over: in a run they are a lone byte before an ASCII one (searched), or a mark the garbage shows
    with more garbage after it (scored). Scored all at once, in one pass of the model.
    """
    scores = np.full(len(sites), -np.inf)
    pieces, where = [], []
    for i, s in enumerate(sites):
        after = s + 2
        if after >= len(text) or text[after].isspace():
            scores[i] = np.inf
            continue
        # More marks (`???`, `??!`): in a run, a lone byte before an ASCII one (searched: the run ends
        # there), or a mark the garbage itself shows, with garbage after it (scored like the rest).
        after = _MARKS.match(text, after).end()
        found = _SITE_TEST.match(text, after)
        if found:
            pieces.append("。" + found.group())
            where.append(i)
    if pieces:
        joined = "\n".join(pieces)
        logprob = model.text_logprob(joined)  # one score per character, line breaks left out
        if prior is not None:
            codes = code_points(joined.replace("\n", ""))
            t2s, s2t = char_mapping("t2s"), char_mapping("s2t")
            logprob = logprob + np.where(t2s[codes] != codes, prior["traditional"],
                                         np.where(s2t[codes] != codes, prior["simplified"], 0.0))
        running = np.r_[0.0, np.cumsum(logprob)]
        lengths = np.array([len(p) for p in pieces])
        ends = np.cumsum(lengths)
        starts = ends - lengths + 1  # the 。 is history, not scored
        scores[where] = (running[ends] - running[starts]) / (ends - starts)
    return scores


def clean_text(text: str) -> str:
    """``text`` without the windows around possible damage: what a model may learn from."""
    sites = find_sites(text)
    if not sites:
        return text
    parts, prev = [], 0
    for s in sites:
        lo = max(prev, s - 2)
        parts.append(text[prev:lo])
        prev = max(prev, s + SITE_WINDOW)
    parts.append(text[prev:])
    return "\n".join(p for p in parts if p)


def build_model(clean_texts: Iterable[str], order: int = 4, reference: bool | None = None,
                counts: NgramCounts | None = None, shape_counts: NgramCounts | None = None) -> CharNgramModel:
    """A repair model: a character model of running text (the corpus's clean passages, and the general
    Chinese of :mod:`~kefu_corpus.text.reference` if ``reference``) that backs off to character
    frequencies from jieba's dictionary. ``reference=None`` uses the reference text when it makes
    held-out text of the corpus more probable (:func:`~kefu_corpus.text.reference_choice.choose_reference`).
    ``counts`` and ``shape_counts``: the n-gram counts of ``clean_texts`` and of their shapes
    (:func:`~kefu_corpus.text.charlm.count_ngrams`), when the caller has them.

    The running text teaches punctuation and how sentences join; words and idioms the text never
    shows are left to the word model (:class:`~kefu_corpus.text.charlm.WordPrefixModel`). The corpus
    and the reference text count alike: Kneser-Ney discounts assume whole counts. The reference
    text's counts are counted once per process and added
    (:func:`~kefu_corpus.text.reference_choice.reference_counts`).
    """
    segments = [(t, 1.0) for t in clean_texts if t]
    if counts is None:
        counts = count_ngrams(segments, order)
    if shape_counts is None:
        shape_counts = _shape_counts([t for t, _ in segments], order)
    if reference is None:
        reference, _ = choose_reference([t for t, _ in segments], "auto", order, counts)
    if reference:
        counts = counts + reference_counts(order)
        shape_counts = shape_counts + reference_counts(order, shapes=True)
    model = CharNgramModel(order=order).from_counts(counts, base=dictionary_unigram(), shape_counts=shape_counts)
    model.reference_ = bool(reference)  # the word model then also learns the reference text's words
    return model


def _shape_counts(texts: Sequence[str], order: int) -> NgramCounts:
    """The n-gram counts of the shapes of ``texts`` (:func:`~kefu_corpus.text.charlm.shape_text`)."""
    return count_ngrams([(shape_text(t), 1.0) for t in texts], order)


# -- remembered work --------------------------------------------------------------------------------------
# Building a model and searching a damaged run are pure but slow (seconds). A process that normalises the
# same corpus again (a rerun in a notebook, a second run over the same folder) gets them from here, keyed
# by content: the model by the hash of its training texts and settings, a repair by the hash of the text,
# the model's fingerprint and the parameters. Both are bounded; results are the same objects the
# computation gives, so tables do not change.

_MODELS: OrderedDict[str, tuple[CharNgramModel, bool, object]] = OrderedDict()
_MODELS_KEPT = 2
_REPAIRS: OrderedDict[tuple, Repaired] = OrderedDict()
_REPAIRS_MAX_CHARS = 8_000_000
_repairs_chars = 0


def _digest(parts: Iterable[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def corpus_model(clean_texts: Sequence[str], reference_mode: str = "auto", order: int = 4):
    """:func:`build_model` of ``clean_texts``, with the reference text as ``reference_mode`` decides
    (:func:`~kefu_corpus.text.reference_choice.choose_reference`). Returns ``(model, uses reference, the
    reference test or None)``; the model carries a ``fingerprint_`` of what it was built from. The
    texts' n-grams are counted once, for the test and the model."""
    key = _digest([str(order), reference_mode, *clean_texts])
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return _MODELS[key]
    texts = [t for t in clean_texts if t]
    # The shapes are counted in a thread while the texts are counted and the reference test runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        shapes = pool.submit(_shape_counts, texts, order)
        counts = count_ngrams([(t, 1.0) for t in texts], order)
        reference, test = choose_reference(texts, reference_mode, order, counts)
        model = build_model(texts, order, reference=reference, counts=counts, shape_counts=shapes.result())
    model.fingerprint_ = key
    _MODELS[key] = (model, reference, test)
    while len(_MODELS) > _MODELS_KEPT:
        _MODELS.popitem(last=False)
    return _MODELS[key]


def _remember(key: tuple, repaired: Repaired) -> Repaired:
    global _repairs_chars
    size = len(repaired.text)
    if size > _REPAIRS_MAX_CHARS // 4:
        return repaired
    _REPAIRS[key] = repaired
    _repairs_chars += size
    while _repairs_chars > _REPAIRS_MAX_CHARS:
        _, old = _REPAIRS.popitem(last=False)
        _repairs_chars -= len(old.text)
    return repaired


@dataclass(order=True)
class _State:
    score: float
    i: int = field(compare=False)  # next observed character to explain
    pending: int = field(compare=False)  # trail byte the decoder holds as a lead; -1 if none
    fixed: int = field(compare=False)  # lead byte already consumed with a mark; -1 if none
    hist: tuple = field(compare=False)  # last ids, for the model
    chars: tuple = field(compare=False)  # original characters, as a cons list (char, rest)
    dropped: int = field(compare=False)  # consecutive unassigned pairs so far
    done: bool = field(compare=False, default=False)
    # the word model's state, kept as (parent's state, character id) until first needed: most children
    # are pruned before they are expanded, so most never pay for it
    words_from: tuple = field(compare=False, default=(WordPrefixModel.START, -1))
    words_: tuple | None = field(compare=False, default=None)
    # log of (the probability of every reading merged into this state, and this one) / this one's
    extra: float = field(compare=False, default=0.0)

    def key(self):
        parent, cid = self.words_from
        return (self.i, self.pending, self.fixed, self.hist, self.dropped, parent[0], cid)

    def words(self, model: WordPrefixModel) -> tuple:
        """The word model's state after this state's characters."""
        if self.words_ is None:
            self.words_ = model.advance(*self.words_from)[0]
        return self.words_

    def text(self) -> str:
        out, node = [], self.chars
        while node:
            out.append(node[0])
            node = node[1]
        return "".join(reversed(out))


def _word_model(model: CharNgramModel) -> WordPrefixModel:
    """The word model that backs ``model``'s n-grams off, built once per model (every document's search
    uses the same one)."""
    words = getattr(model, "word_model_", None)
    if words is None:
        words = model.word_model_ = WordPrefixModel(token_logprob(model), reference=getattr(model, "reference_", False))
    return words


class _Search:
    """Beam search over original characters, vectorised per state over candidate byte pairs."""

    def __init__(self, model, prior: dict[str, float], params: RepairParams) -> None:
        self.model, self.params, self.table = model, params, cp936.table()
        self.order = model.order
        self.words = _word_model(model)
        self.shapes = params.shape_weight > 0 and getattr(model, "shape_", None) is not None
        self.symbol = model.shaped_symbols() if self.shapes else None
        tbl = self.table
        self.assigned = np.zeros((256, 256), bool)
        self.cid = np.zeros((256, 256), np.uint64)
        self.prior = np.zeros((256, 256), np.float64)
        chars = list(tbl.encode)
        pairs = np.array([tbl.encode[ch] for ch in chars], np.int64)
        codes = np.array([ord(ch) for ch in chars], np.uint32)
        t2s, s2t = char_mapping("t2s"), char_mapping("s2t")
        lead, trail = pairs[:, 0], pairs[:, 1]
        self.assigned[lead, trail] = True
        self.cid[lead, trail] = model.ids("".join(chars))
        self.prior[lead, trail] = np.where(t2s[codes] != codes, prior["traditional"],
                                           np.where(s2t[codes] != codes, prior["simplified"], 0.0))
        self.dropped = [np.array(d, np.int64) for d in tbl.dropped]
        self.lost_leads = np.array([lead for lead, _ch in tbl.by_trail[cp936.TRIGGER_BYTE]], np.int64)

    # -- constraints -------------------------------------------------------------------------
    def masks(self, obs: str) -> np.ndarray:
        """For each observed position j, the trail bytes a character may end with (a bool row)."""
        out = np.zeros((len(obs) + 1, 256), bool)
        drop = np.array(sorted(self.table.drop_leads), np.int64)
        out[:, drop] = True
        for j in range(len(obs) + 1):
            if j == len(obs) or obs[j] == "?":
                out[j, 0x80:0xFF] = True  # end of text, an invalid trail, or a lost lead byte next
                continue
            o = obs[j]
            enc = self.table.encode.get(o)
            if enc is not None:
                out[j, enc[0]] = True
            if 0x21 <= ord(o) <= 0x7E:
                out[j, cp936.TRIGGER_BYTE] = True  # a folded full-width pair A3 xx
                if 0x40 <= ord(o) <= 0x7E:
                    out[j, ord(o)] = True  # a trail byte read as ASCII: back in step
        return out

    # -- expansion ---------------------------------------------------------------------------
    def _pairs(self, leads: np.ndarray, trail_mask: np.ndarray):
        li, trails = np.nonzero(self.assigned[leads] & trail_mask)
        return leads[li], trails

    def children(self, st: _State, obs: str, masks: np.ndarray):
        """Scored children of ``st``, best first, at most ``beam`` of them."""
        i, n = st.i, len(obs)
        groups = []  # (leads, trails, next i, pending, fixed, dropped, done)
        singles = []  # (char, next i, fixed, done): characters not made of a free byte pair

        def add(leads: np.ndarray, j: int, dropped: int) -> None:
            jj = min(j, n)
            lead, trail = self._pairs(leads, masks[jj])
            if not len(lead):
                return
            resync = trail <= 0x80  # back in step: the trail shows as ASCII, or 0x80 shows as "?"
            nxt = np.where(resync, min(j + 1, n), j)
            groups.append((lead, trail, nxt, np.where(resync, -1, trail), -1, dropped, resync))

        if st.fixed >= 0:
            add(np.array([st.fixed]), i, 0)
        else:
            p = st.pending
            if i < n:
                o = obs[i]
                for lead in self.table.emits[p].get(o, ()):
                    if lead < 0x80:  # the next original character is this ASCII byte
                        singles.append((chr(lead), i + 1, -1, True))
                    else:
                        add(np.array([lead]), i + 1, 0)
                if o == "?" and i + 1 < n:
                    nxt = obs[i + 1]
                    if nxt == "?" and i + 2 < n and obs[i + 2] in cp936.TRIGGER_LEAD:  # another lost lead byte
                        leads = self.lost_leads
                        groups.append((leads, np.full(len(leads), cp936.TRIGGER_BYTE), np.full(len(leads), i + 3),
                                       np.full(len(leads), -1), cp936.TRIGGER_LEAD[obs[i + 2]], 0,
                                       np.zeros(len(leads), bool)))
                    if ord(nxt) < 0x40 or nxt == "\x7f":  # an ASCII character the pair could not take
                        singles.append((nxt, i + 2, -1, True))
            if st.dropped < self.params.max_dropped and len(self.dropped[p]):
                add(self.dropped[p], i, st.dropped + 1)
        return self._score(st, groups, singles)

    def _score(self, st: _State, groups, singles, per_state: int | None = None) -> list[_State]:
        if not groups and not singles:
            return []
        hist = st.hist[len(st.hist) - (self.order - 1):] if len(st.hist) >= self.order - 1 else st.hist
        parts_lead = [g[0] for g in groups]
        parts_trail = [g[1] for g in groups]
        lead = np.concatenate(parts_lead) if groups else np.zeros(0, np.int64)
        trail = np.concatenate(parts_trail) if groups else np.zeros(0, np.int64)
        ids = np.concatenate([self.cid[lead, trail],
                              np.array([self.model.id_of(c) for c, *_ in singles], np.uint64)])
        score = st.score + self.step(hist, st.words(self.words), ids)
        score[: len(lead)] += self.prior[lead, trail]
        top = _top(score, per_state or self.params.per_state)
        n_pairs = len(lead)
        if self.params.per_state_done and groups:  # children that end the run cost no expansion: keep more
            done_all = np.concatenate([np.concatenate([g[6] for g in groups]),
                                       np.array([d for *_, d in singles], bool)])
            idx = np.flatnonzero(done_all)
            if len(idx):
                extra = idx[_top(score[idx], self.params.per_state_done)]
                top = np.union1d(top, extra)
        pairs, others = top[top < n_pairs], top[top >= n_pairs]
        out = []
        keep = self.order - 1
        if groups and len(pairs):
            sizes = [len(g[0]) for g in groups]
            nxt = np.concatenate([g[2] for g in groups])[pairs].tolist()
            pending = np.concatenate([g[3] for g in groups])[pairs].tolist()
            done = np.concatenate([g[6] for g in groups])[pairs].tolist()
            fixed = np.repeat([g[4] for g in groups], sizes)[pairs].tolist()
            dropped = np.repeat([g[5] for g in groups], sizes)[pairs].tolist()
            pair = self.table.pair
            for j, (t, lead_b, trail_b, id_, sc) in enumerate(zip(pairs.tolist(), lead[pairs].tolist(), trail[pairs].tolist(),
                                                                  ids[pairs].tolist(), score[pairs].tolist())):
                out.append(self._child(st, pair[lead_b][trail_b], nxt[j], pending[j], fixed[j],
                                       0 if done[j] else dropped[j], bool(done[j]), id_, sc, keep))
        for t in others.tolist():
            ch, nxt_i, fixed_i, done_i = singles[t - n_pairs]
            out.append(self._child(st, ch, nxt_i, -1, fixed_i, 0, done_i, int(ids[t]), float(score[t]), keep))
        return out

    def _child(self, st: _State, ch: str, i: int, pending: int, fixed: int, dropped: int, done: bool, id_: int,
               score: float, keep: int) -> _State:
        return _State(score, i, pending, fixed, (st.hist + (id_,))[-keep:], (ch, st.chars), dropped, done,
                      (st.words(self.words), id_), extra=st.extra)

    # -- scoring -----------------------------------------------------------------------------
    def step(self, hist: tuple, words: tuple, ids: np.ndarray) -> np.ndarray:
        """Log score of each candidate id as the next character: the character n-grams of the
        corpus's text, backing off to the word model's distribution (in the share ``word_weight``;
        the rest is the text's own character frequencies), plus ``word_factor`` times the word
        model's own log probability; for punctuation, the share ``shape_weight`` of the score is the
        shape model's (:meth:`CharNgramModel.shape_logprob`)."""
        w, factor = self.params.word_weight, self.params.word_factor
        word = self.words.probs(words, ids) if w > 0 or factor > 0 else None
        if w <= 0:
            out = self.model.logprob(hist, ids)
        else:
            lower = word if w >= 1 else w * word + (1.0 - w) * self.model.unigram(ids)
            out = self.model.logprob(hist, ids, np.maximum(lower, 1e-300))
        if factor > 0:
            out += factor * np.log(np.maximum(word, 1e-300))
        if self.shapes:
            symbol = self.symbol[ids.astype(np.int64)]
            if symbol.any():
                s = self.params.shape_weight
                out[symbol] = (1.0 - s) * out[symbol] + s * self.model.shape_logprob(hist, ids[symbol])
        return out

    def start(self, left: str) -> tuple[tuple, tuple]:
        """Both models' states after ``left`` (the clean text before a run)."""
        hist = tuple(int(x) for x in self.model.ids(left[-(self.order - 1):]))
        words = WordPrefixModel.START
        for cid in self.model.ids(left[-WORD_CONTEXT:]).tolist():
            words = self.words.advance(words, int(cid))[0]
        return hist, words

    def text_score(self, hist: tuple, words: tuple, text: str) -> float:
        """Log score of ``text`` after the given states."""
        return _Prefix(self, hist, words, text).score(len(text))

    # -- search ------------------------------------------------------------------------------
    def run(self, left: str, obs: str, first_mark: str) -> tuple[list[tuple[float, str, int]], int, float]:
        """Readings of a run, best first, as (score, original characters, observed characters used);
        how much of ``obs`` every score covers; and the log probability of every reading the search
        finished, those merged into others on the way included.

        The search stops once every open reading is ``give_up`` nats behind the unrepaired text of
        the same span: read out of step, clean text (after a legitimate ``??``, or after the place a
        run ended) never catches up."""
        masks = self.masks(obs)
        hist0, words0 = self.start(left)
        as_is = _Prefix(self, hist0, words0, "?" + first_mark + obs)  # the run as it stands
        start = _State(0.0, 0, -1, -1, hist0, None, 0, words_=words0)
        leads = self.lost_leads
        first = [(leads, np.full(len(leads), cp936.TRIGGER_BYTE), np.zeros(len(leads), np.int64),
                  np.full(len(leads), -1), cp936.TRIGGER_LEAD[first_mark], 0, np.zeros(len(leads), bool))]
        buckets: dict[int, dict] = {}
        finished: list[_State] = []
        for st in self._score(start, first, [], per_state=len(leads)):
            _keep(buckets.setdefault(st.i, {}), st)
        while buckets:
            i = min(buckets)
            frontier = self._prune(buckets.pop(i), obs)
            if frontier[0].score < as_is.score(2 + i) - self.params.give_up:
                break  # readings that finished earlier still count
            for _ in range(self.params.max_dropped + 2):
                same: dict = {}
                for st in frontier:
                    for child in self.children(st, obs, masks):
                        if child.done:
                            finished.append(child)
                        elif child.i == i:
                            _keep(same, child)
                        else:
                            _keep(buckets.setdefault(child.i, {}), child)
                frontier = self._prune(same, obs)
                if not frontier:
                    break
        if not finished:
            return [], 0, -math.inf
        end = min(len(obs), max(st.i for st in finished) + RIGHT_CONTEXT)
        best: dict[tuple[str, int], float] = {}
        mass = []
        by_end: dict[int, list[_State]] = {}
        for st in finished:  # readings are compared with the text after them only where they end alike
            by_end.setdefault(st.i, []).append(st)
        for st in (st for group in by_end.values() for st in heapq.nlargest(self.params.finals, group)):
            total = st.score + self.text_score(st.hist, st.words(self.words), obs[st.i:end])
            key = (st.text(), st.i)
            best[key] = max(best.get(key, total), total)
            mass.append(total + st.extra)
        finals = [(score, reading, i) for (reading, i), score in best.items()]
        return sorted(finals, reverse=True)[: self.params.beam], end, float(np.logaddexp.reduce(mass))

    def _prune(self, states: dict, obs: str) -> list[_State]:
        """The best ``beam`` states that can read ``obs``'s next character as it stands, and the best
        ``beam_dropping`` of those that must first assume another dropped pair. The two compete apart:
        the last character of a state that must drop may end in any of the many bytes that start an
        unassigned pair, so it looks more probable than a character held to the one byte the garbage
        shows, and it has still to pay for the character it drops into."""
        ready, dropping = [], []
        emits, n = self.table.emits, len(obs)
        for st in states.values():
            i = st.i
            if st.fixed >= 0 or i >= n or obs[i] == "?" or (st.pending >= 0 and obs[i] in emits[st.pending]):
                ready.append(st)
            else:
                dropping.append(st)
        return sorted(heapq.nlargest(self.params.beam, ready) + heapq.nlargest(self.params.beam_dropping, dropping),
                      reverse=True)


class _Prefix:
    """Scores of growing prefixes of ``text`` after the given states, computed as far as asked."""

    def __init__(self, search: _Search, hist: tuple, words: tuple, text: str) -> None:
        self.search, self.ids = search, search.model.ids(text).tolist()
        self.hist, self.words = hist, words
        self.scores = [0.0]

    def score(self, n: int) -> float:
        """Log score of the first ``n`` characters."""
        search, keep = self.search, self.search.order - 1
        while len(self.scores) <= min(n, len(self.ids)):
            cid = self.ids[len(self.scores) - 1]
            step = float(search.step(self.hist, self.words, np.array([cid], np.uint64))[0])
            self.scores.append(self.scores[-1] + step)
            self.hist = (self.hist + (cid,))[-keep:]
            self.words = search.words.advance(self.words, cid)[0]
        return self.scores[min(n, len(self.ids))]


def _top(score: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best scores (all of them when there are fewer)."""
    if k >= len(score):
        return np.arange(len(score))
    return np.argpartition(-score, k - 1)[:k]


def _keep(bucket: dict, st: _State) -> None:
    """Put ``st`` in ``bucket``, merging it with a state of the same key: the better one goes on,
    holding the probability of both (for the confidence of what it finally reads)."""
    key = st.key()
    old = bucket.get(key)
    if old is None:
        bucket[key] = st
        return
    best, other = (st, old) if old.score < st.score else (old, st)
    best.extra = _logaddexp(best.extra, other.score + other.extra - best.score)
    bucket[key] = best


def _logaddexp(a: float, b: float) -> float:
    """``log(exp(a) + exp(b))`` for two floats, without numpy's per-call cost."""
    hi, lo = (a, b) if a >= b else (b, a)
    return hi + math.log1p(math.exp(lo - hi))


def script_prior(text: str) -> dict[str, float]:
    """Log prior of a script-specific character, from the share of each script in ``text``'s clean part
    (its :func:`~kefu_corpus.text.script.script_profile`)."""
    profile = script_profile(text)
    n_trad, n_simp = profile.n_traditional, profile.n_simplified
    total = n_trad + n_simp + 2
    return {"traditional": math.log((n_trad + 1) / total), "simplified": math.log((n_simp + 1) / total)}


def _fold_output(text: str) -> bool:
    """Fold full-width forms in repairs when the clean text has none (the damage folded them)."""
    return not re.search("[\uff01-\uff5e]", text)


def repair(text: str, model: CharNgramModel | None = None, params: RepairParams = RepairParams()) -> Repaired:
    """Find and repair every damaged run in ``text``.

    Parameters
    ----------
    text
        Decoded text, possibly damaged.
    model
        A repair model (:func:`build_model`); by default one is built from ``text``'s own clean part
        (and the reference text, when the held-out test of :func:`build_model` says so).
    params
        Search and acceptance settings.

    Returns
    -------
    Repaired
        The text with every accepted repair applied, its offset map back to ``text``, and the repairs.
        Text outside the repairs is unchanged.
    """
    sites = find_sites(text)
    if not sites:
        return Repaired(text, OffsetMap.identity(len(text)), ())
    fingerprint = getattr(model, "fingerprint_", None)
    if fingerprint is None:
        return _repair(text, sites, model, params)
    key = (fingerprint, params, _digest([text]))
    if key in _REPAIRS:
        _REPAIRS.move_to_end(key)
        return _REPAIRS[key]
    return _remember(key, _repair(text, sites, model, params))


def _repair(text: str, sites: list[int], model: CharNgramModel | None, params: RepairParams) -> Repaired:
    sites = [s for s in sites if s + 2 < len(text) and not text[s + 2].isspace()]  # see site_scores
    if not sites:
        return Repaired(text, OffsetMap.identity(len(text)), ())
    clean = clean_text(text)
    model = model or build_model([clean])
    prior = script_prior(clean)
    scores = site_scores(text, sites, model, prior)
    sites = [s for s, score in zip(sites, scores.tolist()) if score < params.site_threshold]
    if not sites:  # every mark legitimate: nothing to search
        return Repaired(text, OffsetMap.identity(len(text)), ())
    search = _Search(model, prior, params)
    fold = _fold_output(clean)
    repairs: list[Repair] = []
    pieces: list[str] = []
    builder = OffsetMapBuilder()
    pos = 0
    for s in sites:
        if s < pos:
            continue  # inside a run already repaired
        line_end = text.find("\n", s)
        line_end = len(text) if line_end < 0 else line_end + 1
        obs = text[s + 2: min(line_end, s + 2 + params.max_run)]
        left = "".join(pieces[-4:])[-8:] + text[pos:s]
        found = _best(search, left, obs, text[s + 1], text, s, params, fold)
        if found is None:
            continue
        pieces.append(text[pos:s])
        builder.same(pos, s - pos)
        pieces.append(found.repaired)
        builder.block(found.start, found.end, len(found.repaired))
        repairs.append(found)
        pos = found.end
    pieces.append(text[pos:])
    builder.same(pos, len(text) - pos)
    if not repairs:
        return Repaired(text, OffsetMap.identity(len(text)), ())
    return Repaired("".join(pieces), builder.build(len(text)), tuple(repairs))


def _best(search: _Search, left: str, obs: str, mark: str, text: str, s: int, params: RepairParams,
          fold: bool) -> Repair | None:
    readings, end, mass = search.run(left, obs, mark)
    if not readings:
        return None
    score, reading, used = readings[0]
    as_is = search.text_score(*search.start(left), _EMPHASIS.sub(r"\1", text[s: s + 2] + obs[:end], count=1))
    gain = score - as_is
    if gain < params.min_gain:
        return None
    confidence = math.exp(score - _logaddexp(mass, as_is))  # its share of every reading and the text as it is
    repaired = "".join(cp936.fold(ch) for ch in reading) if fold else reading
    return Repair(s, s + 2 + used, text[s: s + 2 + used], repaired, round(confidence, 4), round(gain, 2))
