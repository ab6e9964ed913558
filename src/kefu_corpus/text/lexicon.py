"""jieba's dictionary and the word frequencies built on it: the one module that reads ``dict.txt``.

jieba's main dictionary (``dict.txt`` in the jieba package, ``word frequency tag`` per line) is the word
list of three models: the segmenter's granularity layer (:func:`jieba_unigrams`), the character
frequencies the repair's n-grams back off to (:func:`kefu_corpus.text.charlm.dictionary_unigram`) and the
repair's word model (:func:`word_frequencies`, which may mix in the words of the reference text). The
file is read once per process and kept packed (:class:`Lexicon`): about 8 MB, where its 349,046 entries
as Python ``(word, frequency)`` pairs take nearly 60.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

import numpy as np

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
    words, freqs, tags = [], [], []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        try:
            freq = float(fields[1])
        except ValueError:
            continue
        words.append(fields[0])
        freqs.append(freq)
        tags.append(fields[2] if len(fields) > 2 else NO_TAG)
    return words, np.array(freqs, np.float64), tags


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
def _jieba_entries() -> tuple[list[str], np.ndarray, list[str]]:
    return _entries(jieba_dictionary())  # not through the packed form: a segmenter needs only this


@lru_cache(maxsize=1)
def jieba_unigrams() -> dict[str, tuple[int, str]]:
    """jieba's dictionary as ``{word: (frequency, tag)}``: the one rjieba carries (a word listed twice
    has its last entry). One per process: share it, never change it."""
    words, freqs, tags = _jieba_entries()
    return dict(zip(words, zip(freqs.astype(np.int64).tolist(), tags)))


@lru_cache(maxsize=1)
def jieba_tags() -> dict[str, str]:
    """jieba's dictionary as ``{word: tag}`` (a word listed twice has its last entry). One per process:
    share it, never change it."""
    words, _, tags = _jieba_entries()
    return dict(zip(words, tags))


@lru_cache(maxsize=1)
def jieba_unigram_total() -> int:
    """The sum of :func:`jieba_unigrams`'s frequencies."""
    return sum(map(itemgetter(0), jieba_unigrams().values()))


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
