"""jieba's dictionary and the word frequencies built on it: the one module that reads ``dict.txt``.

jieba's main dictionary (``dict.txt`` in the jieba package, ``word frequency tag`` per line) is the word
list of three models: the segmenter's granularity layer (:func:`jieba_unigrams`), the character
frequencies the repair's n-grams back off to (:func:`kefu_corpus.text.charlm.dictionary_unigram`) and the
repair's word model (:func:`word_frequencies`, which may mix in the words of the reference text). The
file is read once per process and kept packed (:class:`Lexicon`): about 8 MB, where its 349,046 entries
as Python ``(word, frequency)`` pairs take nearly 60.

Reading it all takes about a quarter of a second, more than a one-line ``kefu tokenize`` needs to do
everything else. A segmenter therefore looks its words up through :class:`JiebaEntries`, which finds a
few words in the file's text and reads the whole file only once many are asked for, and the one figure
that needs every entry, the frequencies' total, is kept in a small cache file
(:func:`jieba_unigram_total`).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

import numpy as np

from kefu_corpus.atomic import write_text_atomic
from kefu_corpus.text.reference import reference_words

#: The tag of an entry that has none.
NO_TAG = "x"
#: Share of the reference text's words in the word model's frequencies, when it has them.
REFERENCE_WORD_SHARE = 0.5


@dataclass(frozen=True)
class Lexicon:
    """The entries of a jieba-format dictionary, in file order, packed: every word back to back in
    ``text``, with its length, its frequency and the index of its POS tag in ``tag_names``."""

    text: str
    lengths: np.ndarray  # int64, characters of each word
    freqs: np.ndarray  # float64, each word's frequency as written
    tags: np.ndarray  # uint16, index of each word's tag in tag_names
    tag_names: tuple[str, ...]

    def words(self) -> list[str]:
        """The words, in file order."""
        ends = np.cumsum(self.lengths).tolist()
        return [self.text[end - n: end] for end, n in zip(ends, self.lengths.tolist())]


def jieba_dictionary() -> Path:
    """Path of jieba's main dictionary (a dependency of kefu-corpus), found without importing jieba."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:  # pragma: no cover - jieba is a dependency
        raise ModuleNotFoundError("jieba is not installed")
    return Path(spec.origin).with_name("dict.txt")


def _entries(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """The words, frequencies and tags of the jieba-format dictionary ``path`` (``word freq [tag]`` per
    line; lines without a frequency are skipped). A file whose every line is ``word freq tag`` (jieba's
    own) is read in one split, several times faster than line by line."""
    text = Path(path).read_text(encoding="utf-8")
    parts = text.split()
    lines = text.count("\n") + (not text.endswith("\n") and bool(text))
    if len(parts) == 3 * lines:
        try:
            freqs = parts[1::3]
            return parts[0::3], np.fromiter(map(float, freqs), np.float64, len(freqs)), parts[2::3]
        except ValueError:  # a frequency that is not a number: the careful reading below skips its line
            pass
    entries = [entry for entry in map(_entry, text.splitlines()) if entry is not None]
    return [e[0] for e in entries], np.array([e[1] for e in entries], np.float64), [e[2] for e in entries]


def _entry(line: str) -> tuple[str, float, str] | None:
    """``(word, frequency, tag)`` of one line of a jieba-format dictionary; ``None`` for a line without a
    frequency."""
    fields = line.split()
    if len(fields) < 2:
        return None
    try:
        freq = float(fields[1])
    except ValueError:
        return None
    return fields[0], freq, fields[2] if len(fields) > 2 else NO_TAG


@lru_cache(maxsize=2)
def read_lexicon(path: Path) -> Lexicon:
    """The entries of the jieba-format dictionary ``path`` (see :func:`_entries`), read once per process
    and packed."""
    words, freqs, tags = _entries(path)
    tag_ids = {tag: i for i, tag in enumerate(dict.fromkeys(tags))}
    return Lexicon("".join(words), np.fromiter(map(len, words), np.int64, len(words)), freqs,
                   np.fromiter(map(tag_ids.__getitem__, tags), np.uint16, len(tags)), tuple(tag_ids))


def jieba_lexicon() -> Lexicon:
    """jieba's dictionary (:func:`jieba_dictionary`), read once per process."""
    return read_lexicon(jieba_dictionary())


def dictionary_words(path: Path) -> list[tuple[str, float]]:
    """``(word, frequency)`` of each entry of a jieba-format dictionary, in file order; frequencies
    below 1 count as 1."""
    lexicon = read_lexicon(path)
    return list(zip(lexicon.words(), np.maximum(lexicon.freqs, 1.0).tolist()))


@lru_cache(maxsize=1)
def jieba_unigrams() -> dict[str, tuple[int, str]]:
    """jieba's dictionary as ``{word: (frequency, tag)}``: the one rjieba carries (a word listed twice
    has its last entry). One per process: share it, never change it."""
    words, freqs, tags = _entries(jieba_dictionary())  # not through the packed form: a segmenter needs only this
    return dict(zip(words, zip(freqs.astype(np.int64).tolist(), tags)))


@lru_cache(maxsize=1)
def _jieba_unigram_total() -> int:
    return sum(map(itemgetter(0), jieba_unigrams().values()))


def jieba_unigram_total() -> int:
    """The sum of :func:`jieba_unigrams`'s frequencies (each distinct word once, at its last entry), kept in
    the cache folder (:func:`cache_folder`) for the dictionary file as it is (path, size and modification
    time), so that a process that looks up a few words need not read every entry. A cache that cannot be
    read or written is worked around: the total is computed."""
    path = jieba_dictionary()
    try:
        stat = path.stat()
        key = f"{path.resolve()}\t{stat.st_size}\t{stat.st_mtime_ns}"
        cache = cache_folder() / "jieba-unigram-total.tsv"
    except (OSError, RuntimeError):  # no home folder, or a dictionary that cannot be looked at (reading says why)
        return _jieba_unigram_total()
    try:
        cached_key, _, total = cache.read_text(encoding="utf-8").rstrip("\n").rpartition("\t")
        if cached_key == key:
            return int(total)
    except (OSError, ValueError):
        pass
    total = _jieba_unigram_total()
    try:
        write_text_atomic(cache, f"{key}\t{total}\n")
    except OSError as exc:
        logging.getLogger(__name__).debug("cannot write %s: %s", cache, exc)
    return total


def cache_folder() -> Path:
    """Where kefu-corpus keeps what it derives from installed files to start faster: ``KEFU_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/kefu-corpus``, else ``~/.cache/kefu-corpus``. Deleting it loses nothing."""
    if os.environ.get("KEFU_CACHE_DIR"):
        return Path(os.environ["KEFU_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kefu-corpus"


#: Look-ups :class:`JiebaEntries` answers from the dictionary's text before it reads the whole file, and
#: the most words they may look for in all: together they cost about what reading the file costs.
SCAN_BUDGET = 32
SCAN_WORDS = 256


class JiebaEntries:
    """jieba's dictionary as :func:`jieba_unigrams` has it, ``(frequency, tag)`` by word, read as far as it
    is needed.

    Up to :data:`SCAN_BUDGET` look-ups, for up to :data:`SCAN_WORDS` words in all, each find their new
    words in the file's text with one regular expression (a few milliseconds, where reading every entry
    takes about 0.25 s); the look-up that would go beyond either (at once, for a batch of a corpus) reads
    the whole file, once per process (:func:`jieba_unigrams`). So looking up costs at most about twice
    what reading everything at the start would have. Either way a word has the entry
    :func:`jieba_unigrams` gives it: its last line in the file with a frequency. The scan assumes jieba's
    own file, with lines ending in ``\\n`` (the whole-file reading also splits lines at other line
    breaks)."""

    def __init__(self, budget: int = SCAN_BUDGET, words: int = SCAN_WORDS) -> None:
        self._budget, self._words_left = budget, words
        self._text: str | None = None
        self._entries: dict[str, tuple[int, str]] | None = None
        self._scanned: dict[str, tuple[int, str] | None] = {}  # what the scans found, and did not

    @property
    def read(self) -> bool:
        """Whether the whole file has been read."""
        return self._entries is not None

    def get(self, word: str) -> tuple[int, str] | None:
        """``(frequency, tag)`` of ``word``, or ``None`` when jieba's dictionary lacks it."""
        if self._entries is not None:
            return self._entries.get(word)
        return self.get_many([word])[0]

    def expect(self, n: int) -> None:
        """Say that about ``n`` words are to be looked up, one look-up after another: more than the budget
        has left, and the whole file is read now rather than once the budget is spent."""
        if self._entries is None and n > self._words_left:
            self._read()

    def get_many(self, words: list[str]) -> list[tuple[int, str] | None]:
        """:meth:`get` of each of ``words``, with one look-up."""
        if self._entries is None:
            new = set(words).difference(self._scanned)
            if not new or (self._budget > 0 and len(new) <= self._words_left):
                if new:
                    self._budget -= 1
                    self._words_left -= len(new)
                    found = self._scan(new)
                    self._scanned.update((word, found.get(word)) for word in new)
                return list(map(self._scanned.get, words))
            self._read()
        return list(map(self._entries.get, words))

    def _read(self) -> None:
        """Read the whole file; the text the scans searched and what they found are no longer needed."""
        self._entries = jieba_unigrams()
        self._text, self._scanned = None, {}

    def _scan(self, words: set[str]) -> dict[str, tuple[int, str]]:
        if self._text is None:
            self._text = "\n" + jieba_dictionary().read_text(encoding="utf-8")
        found: dict[str, tuple[int, str]] = {}
        words = {word for word in words if word and not any(c.isspace() for c in word)}
        if not words:
            return found
        alternatives = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
        first = "".join(map(re.escape, sorted({word[0] for word in words})))  # lines that start no word: one test
        for match in re.finditer(f"\n(?=[{first}])((?:{alternatives})[^\\S\n][^\n]*)", self._text):
            entry = _entry(match.group(1))
            if entry is not None:
                found[entry[0]] = (int(entry[1]), entry[2])  # the last line wins
        return found


def word_frequencies(reference: bool = False) -> list[tuple[str, float]]:
    """``(word, frequency)`` of the repair's word model: jieba's dictionary, mixed, if ``reference``,
    with the words of the reference text as its annotators segmented them
    (:func:`~kefu_corpus.text.reference.reference_words`, in the share :data:`REFERENCE_WORD_SHARE`, on
    the dictionary's scale). jieba's frequencies come from another source and rank some single
    characters oddly (叹 4,144 against 围绕 2,065); running text counts words as they are used (9
    against 126)."""
    words = dictionary_words(jieba_dictionary())
    if not reference:
        return words
    counts = reference_words()
    total, scale = sum(f for _, f in words), 1.0 / sum(counts.values())
    share = REFERENCE_WORD_SHARE
    mixed = dict.fromkeys(counts, 0.0)
    for word, freq in words:
        mixed[word] = (1.0 - share) * freq
    for word, count in counts.items():
        mixed[word] += share * count * scale * total
    return list(mixed.items())
