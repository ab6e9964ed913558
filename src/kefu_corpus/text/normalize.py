"""CJK-aware character normalisation: pure ``str -> Normalized`` steps, each with an offset map.

Each step takes a text and returns the new text with an :class:`~kefu_corpus.text.offsets.OffsetMap`
back to its input; :func:`normalize` chains the configured steps and composes their maps, so every
character of the result still points at the raw text.

Steps, in the order :func:`normalize` applies them:

``remove_invisible``
    Drop zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and control characters other than tab,
    line feed and carriage return.
``fold_width``
    Full-width ASCII letters and digits (Ａ, １) become half-width. jieba splits full-width digits into
    single characters. Chinese punctuation stays full-width.
``cjk_punctuation``
    Half-width ``, : ; ? !`` after a Han character (:func:`~kefu_corpus.text.chars.is_han`) and before a
    Han character or CJK punctuation become their full-width forms.
``normalize_whitespace``
    CRLF and CR become LF; NBSP and the other Unicode spaces (not U+3000, the ideographic space, unless
    asked) become a plain space; runs of spaces and tabs become one space.
``unify_quotes``
    Optional: corner brackets 「」『』 become “”‘’ (``"curly"``) or the reverse (``"corner"``).

Mojibake repair must run *before* these steps: the ``?`` of a damaged run is evidence it needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu_corpus.text.chars import HAN_CLASS
from kefu_corpus.text.offsets import OffsetMap, OffsetMapBuilder

_INVISIBLE_CLASS = r"[\u200b-\u200d\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_INVISIBLE = re.compile(_INVISIBLE_CLASS + "+")
# Each step first asks whether the text holds a character it would change, with a pattern that is one
# character class: the regex engine scans for such a pattern in a tight loop, where a pattern that starts
# with a repeat, an alternation or a lookbehind is tried at every position (3-10 times slower). Most
# texts need no step at all.
_HAS_INVISIBLE = re.compile(_INVISIBLE_CLASS)
_FULL_WIDTH_ALNUM = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                     for cp in range(r[0], r[1] + 1)}
_CJK_CONTEXT = HAN_CLASS + r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20“”‘’"
_HALF_PUNCT = re.compile(rf"(?<=[{HAN_CLASS}])[,:;?!](?=[{_CJK_CONTEXT}])")
_HAS_HALF_PUNCT = re.compile("[,:;?!]")
_TO_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"
_HAS_ODD_SPACE = {ideo: re.compile(rf"[\r\t{_SPACES}{chr(0x3000) if ideo else ''}]") for ideo in (False, True)}
_WHITESPACE = {ideo: re.compile(rf"\r\n?|[ \t{_SPACES}{chr(0x3000) if ideo else ''}]+") for ideo in (False, True)}
#: Any character one of the steps (quotes aside) may change: a text with none of them, and no run of
#: spaces, comes out of :func:`normalize` as it went in, after one scan.
_HAS_ANY = {ideo: re.compile(rf"{_INVISIBLE_CLASS[:-1]}\uff10-\uff19\uff21-\uff3a\uff41-\uff5a,:;?!\r\t{_SPACES}"
                            rf"{chr(0x3000) if ideo else ''}]") for ideo in (False, True)}
_CURLY = str.maketrans({"「": "“", "」": "”", "『": "‘", "』": "’"})
_CORNER = str.maketrans({"“": "「", "”": "」", "‘": "『", "’": "』"})
QUOTE_STYLES = ("keep", "curly", "corner")


@dataclass(frozen=True)
class Normalized:
    text: str
    offsets: OffsetMap


def _same_length(text: str, out: str) -> Normalized:
    return Normalized(out, OffsetMap.identity(len(text)))


def remove_invisible(text: str) -> Normalized:
    """Drop zero-width and control characters (tab, LF and CR are kept)."""
    if not _HAS_INVISIBLE.search(text):
        return _same_length(text, text)
    builder, prev, parts = OffsetMapBuilder(), 0, []
    for m in _INVISIBLE.finditer(text):
        builder.same(prev, m.start() - prev)
        parts.append(text[prev:m.start()])
        prev = m.end()
    if prev == 0:
        return _same_length(text, text)
    builder.same(prev, len(text) - prev)
    parts.append(text[prev:])
    return Normalized("".join(parts), builder.build(len(text)))


_HAS_FULL_WIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def fold_width(text: str) -> Normalized:
    """Full-width ASCII letters and digits to half-width; everything else unchanged."""
    if not _HAS_FULL_WIDTH_ALNUM.search(text):  # a search in C is far cheaper than translate
        return _same_length(text, text)
    return _same_length(text, text.translate(_FULL_WIDTH_ALNUM))


def cjk_punctuation(text: str) -> Normalized:
    """Half-width , : ; ? ! between CJK characters to their full-width forms."""
    if not _HAS_HALF_PUNCT.search(text):
        return _same_length(text, text)
    return _same_length(text, _HALF_PUNCT.sub(lambda m: _TO_FULL[m.group()], text))


def normalize_whitespace(text: str, *, ideographic_space: bool = False) -> Normalized:
    """LF line ends, one plain space for any run of spaces and tabs (NBSP and Unicode spaces included)."""
    if "  " not in text and not _HAS_ODD_SPACE[ideographic_space].search(text):
        return _same_length(text, text)  # no CR, tab, other space or run of spaces: nothing to do
    pattern = _WHITESPACE[ideographic_space]
    builder, prev, parts, changed = OffsetMapBuilder(), 0, [], False
    for m in pattern.finditer(text):
        run = m.group()
        replacement = "\n" if run[0] == "\r" else " "
        if run == replacement:
            continue
        changed = True
        builder.same(prev, m.start() - prev)
        parts.append(text[prev:m.start()])
        builder.block(m.start(), m.end(), 1)
        parts.append(replacement)
        prev = m.end()
    if not changed:
        return _same_length(text, text)
    builder.same(prev, len(text) - prev)
    parts.append(text[prev:])
    return Normalized("".join(parts), builder.build(len(text)))


def unify_quotes(text: str, *, style: str = "keep") -> Normalized:
    """Corner brackets to curly quotes (``"curly"``), curly quotes to corner brackets (``"corner"``), or keep."""
    if style not in QUOTE_STYLES:
        raise ValueError(f"The 'style' parameter of unify_quotes must be one of {QUOTE_STYLES}. Got {style!r} instead.")
    if style == "keep":
        return _same_length(text, text)
    return _same_length(text, text.translate(_CURLY if style == "curly" else _CORNER))


def normalize(text: str, *, invisible: bool = True, width: bool = True, punctuation: bool = True,
              whitespace: bool = True, ideographic_space: bool = False, quotes: str = "keep") -> Normalized:
    """Apply the configured steps in order and compose their offset maps back to ``text``."""
    current, offsets = text, OffsetMap.identity(len(text))
    if quotes == "keep" and "  " not in text and not _HAS_ANY[ideographic_space].search(text):
        return Normalized(current, offsets)
    steps = [(invisible, remove_invisible), (width, fold_width), (punctuation, cjk_punctuation),
             (whitespace, lambda t: normalize_whitespace(t, ideographic_space=ideographic_space)),
             (quotes != "keep", lambda t: unify_quotes(t, style=quotes))]
    for enabled, step in steps:
        if not enabled:
            continue
        result = step(current)
        offsets = offsets.then(result.offsets)  # O(1) when the step mapped one to one
        current = result.text
    return Normalized(current, offsets)
