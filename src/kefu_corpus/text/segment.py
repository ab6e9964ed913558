"""Word segmentation with jieba's dictionary and algorithm, plus the domain dictionary and stopwords.

The engine is rjieba, a binding of jieba-rs: the same dictionary and the same algorithm as jieba, so
its tokens are jieba's (tested against ``jieba.lcut``), about ten times faster. Its POS tags depend on
the word alone, so text is cut without them and each distinct word is tagged once
(:meth:`Segmenter.word_tags`; ``jieba.posseg`` cuts on its own and is slower still; see
``benchmarks/segment_throughput.py``).

Text is segmented in the canonical script (Simplified by default): jieba's dictionary is Simplified,
so Traditional text segments far better through its canonical form, and the tokens are mapped back
to the original script through the offset maps.

Two layers refine the engine's cut; both are configurable, and both work on the canonical text inside
:meth:`Segmenter.cut`, so the pipeline and ``kefu tokenize`` cut alike:

Number expressions (``segment.numbers``)
    An Arabic number is one token with its decimal point, thousands separators, colon (scores and
    times: 6:4, 10:30), its magnitude characters (8万, 1.5亿) and a date unit from ``segment.date_units``
    (7月); runs of dashes and ellipses (——, ……) are one mark, as the Chinese punctuation standard has
    them; a Chinese numeral written with ○/〇 as zero (一九八○) is one token. jieba splits all of these
    (it cuts digits apart from everything, and ○ is not a Han character to it). Text around an
    expression that jieba had joined to it (万吨 in 8万吨) is cut again on its own.
Granularity (``segment.granularity``, ``segment.split_margin``)
    jieba's dictionary holds many compounds (国有企业, 特区政府, 改革开放) that segmentation standards cut
    into their words. With ``'fine'``, a dictionary word of four or more characters that tiles into
    dictionary words of two or more characters is cut into them when the parts are nearly as probable
    as the whole by jieba's own unigram model: when their joint log-probability is within
    ``split_margin`` nats of the word's. Idioms stay whole (their halves are rare or not words), and
    so do the words of the domain dictionary and the user's dictionaries.

HMM (``segment.hmm``, ``segment.hmm_traditional``)
    jieba's HMM guesses words that are not in the dictionary. It is set per script: Traditional text
    reaches the dictionary through conversion, so more of its words (Hong Kong and Taiwan names and
    terms) are missing from it, and the HMM's guesses gain there what they lose on Simplified text.

Token types: ``word`` (Chinese), ``latin`` (Latin letters, possibly with digits: ROI, APP, 5G,
Z世代 counts as a word), ``number``, ``punctuation`` and ``whitespace``. Latin tokens are folded to
upper case in ``token`` (APP, App and app are one token); ``token_original`` keeps the case as written.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_left, bisect_right
from itertools import accumulate
import re
from functools import cached_property, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from kefu_corpus.errors import KefuError
from kefu_corpus.text.lexicon import JiebaEntries, jieba_unigram_total

if TYPE_CHECKING:
    import pyarrow as pa  # the batch functions import it when they run: `kefu tokenize` does without

_DEFAULT_FREQ = 1000
_DEFAULT_TAG = "n"
#: Guessed tags a segmenter remembers (words outside every dictionary), before it starts afresh.
_GUESSES = 200_000


class SegmenterOptions(Protocol):
    """What a :class:`Segmenter` is configured with: the ``segment.*`` settings and the canonical script
    (the segment stage's ``SegmentParams`` provides them). Hashable, so one segmenter is built per process
    and configuration."""

    hmm: bool
    hmm_traditional: bool
    mode: str
    numbers: bool
    date_units: str
    granularity: str
    split_margin: float
    user_dicts: tuple[str, ...]
    stopwords: tuple[str, ...]
    canonical: str


GRANULARITIES = ("jieba", "fine")
#: Scripts (of :func:`kefu_corpus.text.script.detect_script`) cut with ``segment.hmm_traditional``.
TRADITIONAL_SCRIPTS = ("traditional", "mixed")


def _shipped(name: str) -> str:
    return resources.files("kefu_corpus.resources").joinpath(name).read_text(encoding="utf-8")


def read_dictionary(text: str, source: str, canonical: str) -> list[tuple[str, int, str]]:
    """Entries of a jieba-format user dictionary (``word [freq] [tag]`` per line, ``#`` comments), with
    each word converted to the canonical script."""
    from kefu_corpus.userfiles import excerpt

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
            raise KefuError(f"{source}, line {number}: expected 'word [frequency] [tag]', got {excerpt(line)}.",
                            hint="one entry per line; frequency is a whole number, tag a jieba POS tag")
        entries.append((word, freq, tag))
    converted = _canonical_words([word for word, _, _ in entries], canonical)
    return [(word, freq, tag) for word, (_, freq, tag) in zip(converted, entries)]


def _read_user_file(path: str, what: str) -> str:
    from kefu_corpus.userfiles import read_user_file

    return read_user_file(path, what, f"segment.{'user_dicts' if what == 'dictionary' else 'stopwords'}")


def _dictionary_entries(params: SegmenterOptions) -> list[tuple[str, int, str]]:
    """Entries of the domain dictionary, then of each configured user dictionary."""
    entries = read_dictionary(_shipped("domain_dict.txt"), "the domain dictionary", params.canonical)
    for path in params.user_dicts:
        entries += read_dictionary(_read_user_file(path, "dictionary"), path, params.canonical)
    return entries


def stopword_set(params: SegmenterOptions) -> frozenset[str]:
    """The stopwords: stopwords-iso's Chinese list (MIT licence) plus any configured files, in canonical form."""
    import stopwordsiso

    words = set(stopwordsiso.stopwords("zh"))
    for path in params.stopwords:
        words.update(line.strip() for line in _read_user_file(path, "stopword list").splitlines()
                     if line.strip() and not line.startswith("#"))
    return frozenset(_canonical_words(sorted(words), params.canonical))


def _canonical_words(words: list[str], canonical: str) -> list[str]:
    """Each of ``words`` converted to the canonical script, in one conversion for the whole list."""
    from kefu_corpus.text.convert import converter

    converted = converter(canonical).convert("\n".join(words)).split("\n")
    if len(converted) != len(words):  # pragma: no cover - a conversion that joined lines: one call per word
        converted = [converter(canonical).convert(word) for word in words]
    return converted


_DIGITS = "0-9"
_ZERO_NUMERAL = "〇○零一二三四五六七八九"


def number_pattern(date_units: str) -> re.Pattern:
    """Number expressions that are one token (see the module docstring)."""
    number = rf"[{_DIGITS}]+(?:[.．][{_DIGITS}]+|,[{_DIGITS}]{{3}}(?![{_DIGITS}])|[:：﹕︰][{_DIGITS}]+)*[万亿萬億]*"
    if date_units:
        number += f"[{re.escape(date_units)}]?"
    return re.compile(rf"{number}|—{{2,}}|…{{2,}}|[{_ZERO_NUMERAL}]*[〇○][{_ZERO_NUMERAL}]*")


#: A character that every number expression of :func:`number_pattern` holds: text without one has none
#: (a one-class scan, many times faster than the pattern, which is tried at every position).
_NUMBER_MARK = re.compile(f"[{_DIGITS}—…〇○]")


def new_engine():
    """A new rjieba engine, with jieba's dictionary.

    Importing the ``rjieba`` package builds a default engine (a tenth of a second, and memory for a second
    copy of the dictionary) that kefu-corpus never uses, so its extension module is loaded on its own when
    the package has not been imported yet; the package, if imported later, finds the module already loaded.
    """
    import sys

    module = sys.modules.get("rjieba.rjieba")
    if module is None and "rjieba" not in sys.modules:
        module = _load_extension("rjieba", "rjieba")
    if module is None:
        import rjieba as module
    return module.Jieba()


def _load_extension(package: str, name: str):
    """The extension module ``package.name``, loaded (and registered) without running ``package``'s
    ``__init__``; ``None`` when it cannot be found or loaded that way."""
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"{name}{suffix}"
            if path.is_file():
                full = f"{package}.{name}"
                sub = importlib.util.spec_from_file_location(full, path)
                try:
                    module = importlib.util.module_from_spec(sub)
                    sys.modules[full] = module
                    sub.loader.exec_module(module)
                except Exception:  # pragma: no cover - an extension this loading cannot start
                    sys.modules.pop(full, None)
                    return None
                return module
    return None  # pragma: no cover - a package laid out otherwise


class Segmenter:
    """jieba's dictionary (through rjieba) with the domain dictionary and the user's, and the
    configured layers on its cut (see the module docstring); one per process."""

    def __init__(self, params: SegmenterOptions) -> None:
        if params.granularity not in GRANULARITIES:
            raise KefuError(f"The 'granularity' parameter of Segmenter must be one of {GRANULARITIES}. "
                            f"Got {params.granularity!r} instead.")
        if not params.split_margin >= 0:
            raise KefuError(f"The 'split_margin' parameter of Segmenter must be a float >= 0. "
                            f"Got {params.split_margin!r} instead.")
        logging.getLogger("jieba").setLevel(logging.getLogger("kefu_corpus").getEffectiveLevel())
        self.params = params
        self.engine = new_engine()
        entries = _dictionary_entries(params)
        # The configured words jieba's dictionary has too, asked of the engine before they are added.
        self._in_jieba = sorted({word for word, _, _ in entries if self.engine.has_word(word)})
        for word, freq, tag in entries:
            self.engine.add_word(word, freq, tag)
        self.n_entries = len(entries)
        for path in params.stopwords:  # checked now; read with stopwords-iso's list when first wanted
            _read_user_file(path, "stopword list")
        self._jieba = JiebaEntries()  # looked up as words come: a one-line command reads little of it
        self._numbers = number_pattern(params.date_units) if params.numbers else None
        self._fine = params.granularity == "fine"
        # The tag of a word as the engine has it: jieba's own, else the first one a word of the configured
        # dictionaries was added with (the engine keeps the tag a word has), else a guess (_guess). Each
        # word's is found once and kept in _tags.
        self._own_tags: dict[str, str] = {}
        for word, _, tag in entries:
            self._own_tags.setdefault(word, tag)
        self._tags: dict[str, str] = {}
        self._guessed: list[str] = []
        if self._fine:
            self._own = {word: (freq, tag) for word, freq, tag in entries}
            self._protected = frozenset(word for word, _, _ in entries)
            self._parts: dict[str, tuple[str, ...] | None] = {}

    @cached_property
    def stopwords(self) -> pa.Array:
        """The stopwords (:func:`stopword_set`), sorted, as an Arrow array (for :func:`is_stopword`)."""
        import pyarrow as pa

        return pa.array(sorted(stopword_set(self.params)), pa.string())

    @cached_property
    def _log_total(self) -> float:
        """The log of the engine's total frequency, the unigram model's denominator: jieba's total, with the
        configured dictionaries' entries in place of jieba's for the same words."""
        replaced = sum(entry[0] for entry in self._jieba.get_many(self._in_jieba) if entry is not None)
        return math.log(jieba_unigram_total() - replaced + sum(f for f, _ in self._own.values()))

    def hmm_for(self, script: str | None) -> bool:
        """Whether the HMM is on for text of ``script`` (``None``: not known, ``segment.hmm``)."""
        return self.params.hmm_traditional if script in TRADITIONAL_SCRIPTS else self.params.hmm

    def cut(self, text: str, script: str | None = None, *, fine: bool = True) -> list[str]:
        """The tokens of canonical ``text`` written in ``script``; they concatenate to ``text``.
        ``fine=False`` leaves compounds whole: for a caller that cuts a batch's compounds at once
        (:meth:`split_compounds`)."""
        hmm = self.hmm_for(script)
        tokens = self.engine.cut(text, hmm=hmm)
        if self._numbers is not None:
            tokens = self._join_numbers(text, tokens, hmm)
        if self._fine and fine:
            tokens = self._split_compounds(tokens)
        return tokens

    def tag(self, text: str, script: str | None = None, *, fine: bool = True) -> list[tuple[str, str]]:
        """``(token, POS)`` pairs of canonical ``text`` written in ``script``: :meth:`cut`, with
        :meth:`word_tags`."""
        tokens = self.cut(text, script, fine=fine)
        hmm = self.hmm_for(script)
        return list(zip(tokens, self.word_tags(tokens, lambda _: (text, hmm))))

    def word_tags(self, words: list[str], context: Callable[[int], tuple[str, bool]]) -> list[str]:
        """The POS tag of each of ``words`` (tokens of :meth:`cut`), as the engine's own tagging gives it:

        - a word of jieba's dictionary has its tag there, and a word of the domain or a user dictionary
          that jieba lacks has the tag it was added with;
        - a number expression of the numbers layer is ``m``, or ``t`` when it ends in a date unit;
        - any other word has the engine's guess (jieba-rs's ``guess_tag``): ``m`` for ASCII digits, ``eng``
          with ASCII letters, and for Chinese the tag its POS HMM gives the word.

        Every rule is a function of the word alone, so each distinct word is tagged once per batch, not
        each occurrence (cutting without tags and tagging the distinct words is a third faster than
        tagging every token). The engine only guesses a word it has cut as one token, and alone it may cut
        a word apart that it joined in context (并应 in ...并应...): such a word is tagged in the text it
        came from, ``context(i)`` giving that text of ``words[i]`` and its HMM setting."""
        tags = list(map(self._tags.get, words))
        if None in tags:
            missing = [i for i, tag in enumerate(tags) if tag is None]
            for i, entry in zip(missing, self._jieba.get_many([words[i] for i in missing])):
                word = words[i]
                tag = self._tags.get(word)  # found already, for a word listed twice
                if tag is None:
                    if entry is not None or word in self._own_tags:
                        tag = self._tags[word] = entry[1] if entry is not None else self._own_tags[word]
                    else:
                        tag = self._guess(word, lambda: context(i))
                tags[i] = tag
        return tags

    def _guess(self, word: str, context: Callable[[], tuple[str, bool]]) -> str:
        """The tag of ``word``, which no dictionary holds (see :meth:`word_tags`); remembered, up to
        :data:`_GUESSES` words."""
        if len(self._guessed) >= _GUESSES:
            for guessed in self._guessed:
                del self._tags[guessed]
            self._guessed.clear()
        tag = self._tags[word] = self._guess_once(word, context)
        self._guessed.append(word)
        return tag

    def _guess_once(self, word: str, context: Callable[[], tuple[str, bool]]) -> str:
        if self._numbers is not None and len(word) > 1 and self._numbers.fullmatch(word):
            return "t" if word[-1] in self.params.date_units else "m"
        ascii_alnum = [c for c in word if c.isascii() and c.isalnum()]
        if ascii_alnum:
            return "m" if all(c.isdigit() for c in ascii_alnum) else "eng"
        alone = self.engine.tag(word, hmm=True)
        if len(alone) == 1:
            return alone[0][1]
        text, hmm = context()
        tag = dict(self.engine.tag(text, hmm=hmm)).get(word)
        if tag is None:  # pragma: no cover - a word cut from a piece around a number, never seen alone
            tag = max(alone, key=lambda pair: len(pair[0]))[1]
        return tag

    def split_compounds(self, values: pa.Array, index: np.ndarray) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """The granularity layer over a batch of tokens at once, given as their distinct ``values`` and each
        token's ``index`` into them: each distinct token is looked at once, and its parts spread to its
        occurrences by index. Returns the new distinct values (in order of first appearance), each new
        token's index into them, and how many tokens each input token became (1 where it stays whole)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        ones = np.ones(len(index), np.int64)
        if not self._fine or not len(index):
            return values, index, ones
        long = np.flatnonzero(pc.utf8_length(values).to_numpy() >= 4)
        words = values.take(pa.array(long)).to_pylist()
        self._jieba.expect(len(words))
        parts_of = {}
        for value, word in zip(long.tolist(), words):
            parts = self._parts_of(word)
            if parts is not None:
                parts_of[value] = parts
        if not parts_of:
            return values, index, ones
        split = np.zeros(len(values), np.int64)  # parts per distinct value, 0 when whole
        first = np.zeros(len(values), np.int64)  # where its parts start in the flat list of parts
        flat: list[str] = []
        for value, parts in parts_of.items():
            split[value], first[value] = len(parts), len(flat)
            flat += parts
        n = np.maximum(split[index], 1)
        owner = np.repeat(np.arange(len(index)), n)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(n) - n, n)
        cut = split[index][owner] > 0
        source = np.where(cut, len(values) + first[index][owner] + within, index[owner])
        # One value per distinct string (a part may be a token of the batch too), in order of first appearance.
        distinct = pc.dictionary_encode(pa.concat_arrays([values, pa.array(flat, pa.string())]))
        order = pc.dictionary_encode(pa.array(distinct.indices.to_numpy()[source]))
        return distinct.dictionary.take(order.dictionary), order.indices.to_numpy(), n

    def search(self, text: str, script: str | None = None) -> list[tuple[str, str, int, int]]:
        """Search mode: the default cut plus the engine's search-mode words (the dictionary words inside
        long words, and the compounds the granularity layer cut), as ``(token, POS, start, end)``; spans
        overlap, but none crosses a token of the default cut. A word added this way is tagged on its own."""
        out, bounds, pos = [], [0], 0
        for token, tag in self.tag(text, script):
            out.append((token, tag, pos, pos + len(token)))
            pos += len(token)
            bounds.append(pos)
        at = set(bounds)
        seen = {(start, end) for _, _, start, end in out}
        for token, start, end in self.engine.tokenize(text, mode="search", hmm=self.hmm_for(script)):
            if (start, end) in seen or token.isspace():
                continue
            inside = bisect_right(bounds, start) == bisect_left(bounds, end)  # no boundary within
            if inside or (start in at and end in at):
                seen.add((start, end))
                out.append((token, self.engine.tag(token, hmm=False)[0][1], start, end))
        out.sort(key=lambda t: (t[2], -t[3]))
        return out

    # -- layers ----------------------------------------------------------------------------------------

    def _join_numbers(self, text: str, tokens: list[str], hmm: bool) -> list[str]:
        """Each number expression one token; text that jieba had joined to one is cut again alone."""
        if not _NUMBER_MARK.search(text):
            return tokens
        found = [m.span() for m in self._numbers.finditer(text) if m.end() - m.start() > 1]
        if not found:
            return tokens
        ends = list(accumulate(map(len, tokens)))
        starts = {0, *ends}
        if all(start in starts and end in starts and bisect_left(ends, end) == bisect_left(ends, start + 1)
               for start, end in found):
            return tokens  # each number is one token already (the common case): nothing to redo
        return self._rejoin(text, tokens, ends, hmm, found)

    def _rejoin(self, text: str, tokens: list[str], ends: list[int], hmm: bool,
                found: list[tuple[int, int]]) -> list[str]:
        """:meth:`_join_numbers` without its shortcut: the cut rebuilt around the number spans ``found``
        (``ends``: where each token ends). Only the tokens a span touches are looked at again."""
        groups: list[tuple[int, int, list[tuple[int, int]]]] = []  # first and last token touched, spans
        for start, end in found:
            first, last = bisect_right(ends, start), bisect_left(ends, end)
            if groups and first <= groups[-1][1]:
                groups[-1] = (groups[-1][0], max(last, groups[-1][1]), groups[-1][2] + [(start, end)])
            else:
                groups.append((first, last, [(start, end)]))
        out, done = [], 0
        for first, last, spans in groups:
            out += tokens[done:first]
            base = ends[first] - len(tokens[first])
            out += self._rebuild(text[base:ends[last]], tokens[first:last + 1], hmm,
                                 [(start - base, end - base) for start, end in spans])
            done = last + 1
        out += tokens[done:]
        return out

    def _rebuild(self, text: str, tokens: list[str], hmm: bool, found: list[tuple[int, int]]) -> list[str]:
        """The cut of ``text`` (cut into ``tokens``) around the number spans ``found``: a token that
        crosses no span edge is kept, a span is one token, and what is left of a token cut by a span edge
        is cut again on its own."""
        at, bounds, pos = {}, {0}, 0
        for token in tokens:
            at[pos] = token
            pos += len(token)
            bounds.add(pos)
        for start, end in found:
            bounds.difference_update(range(start + 1, end))
            bounds.update((start, end))
        edges = sorted(bounds)
        spans = dict(found)
        out = []
        for start, end in zip(edges, edges[1:]):
            old = at.get(start)
            if old is not None and len(old) == end - start:
                out.append(old)
            elif spans.get(start) == end:
                out.append(text[start:end])
            else:
                out.extend(self.engine.cut(text[start:end], hmm=hmm))
        return out

    def _split_compounds(self, tokens: list[str]) -> list[str]:
        if not self._jieba.read:
            self._look_up(tokens)
        out = []
        for token in tokens:
            parts = self._parts_of(token) if len(token) >= 4 else None
            if parts is None:
                out.append(token)
            else:
                out.extend(parts)
        return out

    def _look_up(self, tokens: list[str]) -> None:
        """Look up in jieba's dictionary, in two scans of its text, what splitting and tagging ``tokens`` asks
        of it word by word: the tokens themselves, with the configured words jieba has too (the unigram
        model's total needs their frequencies; asked once), then the parts of the long tokens it has."""
        words = list(dict.fromkeys(tokens))
        found = self._jieba.get_many(words + self._in_jieba)
        long = [word for word, entry in zip(words, found)
                if entry is not None and len(word) >= 4 and word not in self._parts and word not in self._protected]
        self._jieba.get_many([word[i:j] for word in long for i, j in _part_spans(len(word))])

    def _parts_of(self, word: str) -> tuple[str, ...] | None:
        """:meth:`_compound_parts` of ``word``, worked out once per segmenter."""
        parts = self._parts.get(word, False)
        if parts is False:
            parts = self._parts[word] = self._compound_parts(word)
        return parts

    def _compound_parts(self, word: str) -> tuple[str, ...] | None:
        """The most probable tiling of dictionary ``word`` by dictionary words of two or more
        characters, if it is within ``split_margin`` nats of the word itself; else ``None``."""
        if word in self._protected:
            return None
        entry = self._jieba.get(word)  # not the configured dictionaries': their words are protected
        if entry is None or entry[0] <= 0:
            return None
        n = len(word)
        spans = _part_spans(n)
        # (frequency, tag) of each candidate part: the configured dictionaries' entry, else jieba's
        best: list[tuple[float, int] | None] = [None] * (n + 1)
        best[0] = (0.0, 0)
        for (i, j), jieba_part in zip(spans, self._jieba.get_many([word[i:j] for i, j in spans])):
            if best[i] is None:
                continue
            part = self._own.get(word[i:j]) or jieba_part
            if part is None or part[0] <= 0:
                continue
            score = best[i][0] + math.log(part[0]) - self._log_total
            if best[j] is None or score > best[j][0]:
                best[j] = (score, i)
        whole = math.log(entry[0]) - self._log_total
        if best[n] is None or best[n][0] <= whole - self.params.split_margin:
            return None
        parts, j = [], n
        while j:
            i = best[j][1]
            parts.append(word[i:j])
            j = i
        return tuple(reversed(parts))


@lru_cache(maxsize=64)
def _part_spans(n: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each part of two or more characters a word of ``n`` characters may be cut into,
    the word itself left out, in order of start, then end."""
    return [(i, j) for i in range(n - 1) for j in range(i + 2, n + 1 if i else n)]


def dictionary_entries(params: SegmenterOptions) -> int:
    """Entries of the domain and user dictionaries, reading (and so checking) every user dictionary and
    stopword file, without building a segmenter: what the driver of a run checks before its workers start."""
    entries = len(_dictionary_entries(params))
    stopword_set(params)
    return entries


@lru_cache(maxsize=4)
def segmenter(params: SegmenterOptions) -> Segmenter:
    """The process's segmenter for ``params`` (dictionaries are loaded once)."""
    return Segmenter(params)


# -- token classes, vectorised over a batch of tokens ------------------------------------------------------

_LATIN = r"^[A-Za-z][A-Za-z0-9.+&'\-]*$|^[0-9]+[A-Za-z][A-Za-z0-9]*$"
_NUMBER = (r"^[0-9０-９][0-9０-９.．,%％:：﹕︰\-/]*[万亿萬億]*[年月日号號时時]?$"
           r"|^[零〇○一二三四五六七八九十百千万亿萬億两兩]+$")


def token_types(tokens: pa.Array) -> pa.Array:
    """The type of each token (one of :data:`kefu_corpus.schemas.TOKEN_TYPES`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

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
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(types, "latin"), pc.utf8_upper(tokens), tokens)


def is_stopword(tokens: pa.Array, stopwords: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    return pc.is_in(tokens, value_set=stopwords)


def tokenize_text(text: str, seg: Segmenter, normalize_options: dict) -> list[tuple[int, int, str]]:
    """Tokens of one line of text as ``(start, end, pos)`` spans of ``text`` itself: normalised and
    converted to the canonical script as the pipeline does, segmented, mapped back. Whitespace tokens
    are left out."""
    from kefu_corpus.text.convert import convert
    from kefu_corpus.text.normalize import normalize
    from kefu_corpus.text.script import detect_script

    normal = normalize(text, **normalize_options)
    canonical = convert(normal.text, seg.params.canonical)
    back = normal.offsets.then(canonical.offsets)
    spans, pos = [], 0
    for token, tag in seg.tag(canonical.text, detect_script(normal.text)):
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
