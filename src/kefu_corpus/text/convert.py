"""Script conversion with OpenCC (the official ``opencc`` package), with an offset map back to the input.

The output is exactly OpenCC's conversion of the whole text. The map is built by aligning output to
input at separators (whitespace and punctuation), which OpenCC's dictionaries do not convert and its
phrases do not span. Within each piece between separators:

* equal lengths (every character-level config, and most phrase conversions) map one to one;
* different lengths (phrase configs such as ``s2twp``: U盘 -> 隨身碟): the characters that agree at both
  ends of the piece map one to one, and the changed middle maps as one block to its source.

Should a config ever change a separator, the whole text is aligned as one piece instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import opencc

from kefu_corpus.errors import KefuError
from kefu_corpus.text.chars import HAN_RANGES, code_points
from kefu_corpus.text.offsets import OffsetMap, OffsetMapBuilder

#: Whitespace and punctuation: ASCII, general punctuation, CJK symbols and punctuation, full-width forms.
_SEPARATOR = re.compile(
    r"[\s!-/:-@\[-`{-~\u2010-\u2027\u2030-\u205e\u3000-\u303f\ufe10-\ufe1f\ufe30-\ufe4f"
    r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]"
)


def available_configs() -> list[str]:
    """OpenCC config names, without the ``.json`` suffix (e.g. ``t2s``, ``s2twp``)."""
    return sorted(name.removesuffix(".json") for name in opencc.CONFIGS)


@lru_cache(maxsize=None)
def converter(config: str) -> opencc.OpenCC:
    """The OpenCC converter for ``config`` (loaded once per process)."""
    name = config.removesuffix(".json")
    if name not in available_configs():
        raise KefuError(f"Unknown OpenCC config '{config}'.", hint=f"choose one of {', '.join(available_configs())}")
    return opencc.OpenCC(f"{name}.json")


@dataclass(frozen=True)
class Converted:
    text: str
    offsets: OffsetMap


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _align_piece(builder: OffsetMapBuilder, conv: opencc.OpenCC, src: str, out: str, src_start: int) -> None:
    """Map one piece between separators. Equal lengths map one to one; otherwise the characters that
    agree at both ends map one to one (compared with a character-by-character conversion of the source)
    and the changed middle maps as one block: coarse, but never a span that misses its source."""
    if len(src) == len(out):
        builder.same(src_start, len(src))
        return
    ref = "".join(conv.convert(ch) for ch in src)
    if len(ref) != len(src):
        ref = src
    head = _common_prefix(ref, out)
    tail = _common_prefix(ref[head:][::-1], out[head:][::-1])
    builder.same(src_start, head)
    if len(out) - head - tail > 0:
        builder.block(src_start + head, src_start + len(src) - tail, len(out) - head - tail)
    builder.same(src_start + len(src) - tail, tail)


def _separators(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in _SEPARATOR.finditer(text)]


@lru_cache(maxsize=None)
def _separator_table() -> np.ndarray:
    """``table[code]`` is True for the code points :data:`_SEPARATOR` matches (all in the BMP)."""
    table = np.zeros(0x110000, bool)
    for code in range(0x10000):
        if _SEPARATOR.match(chr(code)):
            table[code] = True
    return table


def _same_pieces(text: str, out: str) -> bool:
    """Whether ``out`` (as long as ``text``) has the same separators at the same places, so that every
    piece between them kept its length: compared as code-point arrays."""
    a, b = code_points(text), code_points(out)
    changed = np.flatnonzero(a != b)  # only a changed character can be, or replace, a separator
    table = _separator_table()
    return not (table[a[changed]].any() or table[b[changed]].any())


def convert(text: str, config: str = "t2s") -> Converted:
    """Convert ``text`` with the OpenCC ``config``; return the output and its map back to ``text``.

    Examples
    --------
    >>> c = convert("客戶服務節", "t2s")
    >>> c.text, c.offsets.source_span(2, 4)
    ('客户服务节', (2, 4))
    """
    conv = converter(config)
    out = conv.convert(text)
    if len(out) == len(text) and _same_pieces(text, out):  # every piece kept its length
        return Converted(out, OffsetMap.identity(len(text)))
    seps_in, seps_out = _separators(text), _separators(out)
    builder = OffsetMapBuilder()
    if [s for _, s in seps_in] != [s for _, s in seps_out]:
        _align_piece(builder, conv, text, out, 0)
        return Converted(out, builder.build(len(text)))
    prev_in = prev_out = 0
    for (pos_in, sep), (pos_out, _) in zip(seps_in + [(len(text), "")], seps_out + [(len(out), "")]):
        _align_piece(builder, conv, text[prev_in:pos_in], out[prev_out:pos_out], prev_in)
        if sep:
            builder.same(pos_in, len(sep))
        prev_in, prev_out = pos_in + len(sep), pos_out + len(sep)
    return Converted(out, builder.build(len(text)))


def convert_all(texts: list[str], config: str = "t2s") -> list[Converted]:
    """:func:`convert` of each of ``texts``. They are converted together, in one call, joined by line
    breaks (separators, which no OpenCC phrase spans, so each text converts as it would alone); when a
    piece of them changed length (phrase configs), each is converted on its own instead, to map it."""
    joined = "\n".join(texts)
    out = converter(config).convert(joined)
    if not (len(out) == len(joined) and _same_pieces(joined, out)):
        return [convert(text, config) for text in texts]
    converted, pos = [], 0
    for text in texts:
        converted.append(Converted(out[pos:pos + len(text)], OffsetMap.identity(len(text))))
        pos += len(text) + 1
    return converted


#: Code-point ranges that :func:`char_mapping` converts: CJK punctuation and the Han blocks
#: (:data:`kefu_corpus.text.chars.HAN_RANGES`).
_CHAR_RANGES = ((0x3000, 0x303F), *HAN_RANGES)


@lru_cache(maxsize=None)
def char_mapping(config: str = "t2s") -> np.ndarray:
    """A code-point lookup array: ``mapping[ord(ch)]`` is the code point of ``ch`` converted on its own.

    Character-level conversion without phrases, for vectorised work over code-point arrays (for
    example, scoring characters in the canonical script). Characters outside the Han and CJK
    punctuation ranges, and the few that a config turns into several characters, map to themselves.
    """
    mapping = np.arange(0x110000, dtype=np.uint32)
    codes = np.concatenate([np.arange(lo, hi + 1, dtype=np.uint32) for lo, hi in _CHAR_RANGES])
    mapping[codes] = map_chars(codes, config)
    return mapping


def map_chars(codes: np.ndarray, config: str = "t2s") -> np.ndarray:
    """``char_mapping(config)[codes]``, worked out for these code points alone: for a short text, far
    cheaper than the whole table."""
    codes = np.asarray(codes, dtype=np.uint32)
    mapped = codes.copy()
    inside = np.zeros(len(codes), bool)
    for lo, hi in _CHAR_RANGES:
        inside |= (codes >= lo) & (codes <= hi)
    which = np.flatnonzero(inside)
    chars = [chr(c) for c in codes[which].tolist()]
    out = converter(config).convert("\n".join(chars)).split("\n")
    if len(out) == len(chars):
        mapped[which] = [ord(ch) if len(ch) == 1 else code for code, ch in zip(codes[which].tolist(), out)]
    return mapped
