"""Decode raw bytes of unknown encoding into text, and say how sure we are.

The order of decisions:

1. A byte-order mark names the encoding (UTF-8, UTF-16 or UTF-32).
2. Bytes that are valid UTF-8 are UTF-8. A file that ends inside a UTF-8 sequence was truncated: it is
   decoded without the partial character, with a warning.
3. Otherwise charset-normalizer proposes candidates. Chinese corpora are full of short GBK and Big5 files
   that byte-level detectors mistake for Korean or Japanese, so GB18030 and Big5 are always candidates too,
   and every candidate that decodes cleanly is scored for *CJK plausibility*: the share of its
   non-ASCII characters that are frequent Chinese characters or punctuation (the level-1 planes of
   GB2312 and Big5, taken from Python's own codecs). The most plausible candidate wins; the detector's
   order breaks ties.
4. Bytes that are mostly valid UTF-8 with a few damaged sequences are rejected, or with
   ``on_error="replace"`` decoded with U+FFFD and a warning that gives the byte offsets.

Valid UTF-8 with a few NUL characters is text with a warning; with more than 1% control characters it is
binary. A guess that finds no convincing Chinese reading (a Latin-1 file, say) comes with a warning that
names the encoding chosen.

Binary files (NUL bytes without a UTF-16/32 byte-order mark, or nothing the detector can read) and empty
files raise :class:`DecodeError` with a reason code and a message that says what to do.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Legacy Chinese encodings always tried, whatever the detector says. GB18030 decodes all of GBK and GB2312.
CHINESE_LEGACY = ("gb18030", "big5")
#: A file is "mostly UTF-8" when at most this share of its bytes sit in invalid sequences.
_MOSTLY_UTF8 = 0.01


class DecodeError(Exception):
    """The bytes could not be turned into text. ``reason`` is a code for the ingest report."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    method: str
    confidence: float | None = None
    warnings: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def frequent_chinese() -> frozenset[str]:
    """Frequent hanzi and CJK punctuation: GB2312 rows 1-3 and level 1 (B0-D7), and Big5 level 1 (A1-C6)."""
    chars: set[str] = set()

    def plane(codec: str, leads: range, trails: list[int]) -> None:
        for lead in leads:
            for trail in trails:
                try:
                    chars.add(bytes((lead, trail)).decode(codec))
                except UnicodeDecodeError:
                    pass

    gb_trails = list(range(0xA1, 0xFF))
    plane("gb2312", range(0xA1, 0xA4), gb_trails)  # punctuation, numerals, full-width forms
    plane("gb2312", range(0xB0, 0xD8), gb_trails)  # level-1 hanzi (3,755)
    big5_trails = list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF))
    plane("big5", range(0xA1, 0xA4), big5_trails)  # punctuation and symbols
    plane("big5", range(0xA4, 0xC7), big5_trails)  # frequent hanzi (5,401)
    return frozenset(chars)


def cjk_plausibility(text: str) -> float:
    """Share of the non-ASCII, non-space characters of ``text`` that are frequent Chinese characters.

    Returns 0.0 for text with no such characters. Correct GBK or Big5 decodings of Chinese text score
    above 0.9; a Korean or Japanese misreading of the same bytes scores far lower.
    """
    common = frequent_chinese()
    total = hits = 0
    for ch in text:
        if ch < "\x80" or ch.isspace():
            continue
        total += 1
        hits += ch in common
    return hits / total if total else 0.0


def _strip_bom(data: bytes) -> tuple[bytes, str] | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):], name
    return None


class _TooManyErrors(Exception):
    pass


class _ErrorRuns:
    """A codec error handler that records runs of invalid bytes, and gives up past ``max_bad`` bytes."""

    def __init__(self, max_bad: int) -> None:
        self.max_bad = max_bad
        self.bad = 0
        self.runs: list[list[int]] = []

    def __call__(self, exc: UnicodeDecodeError) -> tuple[str, int]:
        self.bad += exc.end - exc.start
        if self.bad > self.max_bad:
            raise _TooManyErrors
        if self.runs and self.runs[-1][1] == exc.start:
            self.runs[-1][1] = exc.end
        else:
            self.runs.append([exc.start, exc.end])
        return "\ufffd", exc.end


_active_handler: list[_ErrorRuns] = []
codecs.register_error("kefu-error-runs", lambda exc: _active_handler[-1](exc))


def _invalid_utf8_runs(data: bytes, max_bad: int, limit: int = 10) -> tuple[int, list[str]] | None:
    """Invalid UTF-8 bytes in ``data`` and their first ``limit`` runs as byte ranges, in one decoding pass.

    Returns ``None`` as soon as more than ``max_bad`` bytes are invalid (the data is not UTF-8 at all).
    """
    handler = _ErrorRuns(max_bad)
    _active_handler.append(handler)
    try:
        data.decode("utf-8", errors="kefu-error-runs")
    except _TooManyErrors:
        return None
    finally:
        _active_handler.pop()
    shown = [f"{a}" if b - a == 1 else f"{a}-{b - 1}" for a, b in handler.runs[:limit]]
    return handler.bad, shown + (["..."] if len(handler.runs) > limit else [])


def decode_bytes(
    data: bytes,
    *,
    name: str = "<bytes>",
    encoding: str | None = None,
    on_error: str = "reject",
    min_plausibility: float = 0.6,
) -> Decoded:
    """Decode ``data``; see the module docstring for the order of decisions.

    Parameters
    ----------
    data
        The raw bytes.
    name
        File name used in messages.
    encoding
        An encoding fixed by the user (sidecar ``encoding`` column): used as is, strictly.
    on_error
        ``"reject"`` or ``"replace"``: what to do with a mostly-UTF-8 file that has damaged sequences.
    min_plausibility
        Least CJK plausibility for a legacy Chinese encoding to beat the detector's first choice.

    Raises
    ------
    DecodeError
        With reason ``empty_file``, ``binary_file``, ``undecodable`` or ``bad_encoding``.
    """
    if not data.strip():
        raise DecodeError("empty_file", f"{name} is empty or holds only whitespace: nothing to ingest. "
                                        "Remove the file or put the article in it.")
    if encoding is not None:
        return _decode_fixed(data, name, encoding)

    bom = _strip_bom(data)
    if bom is not None:
        body, codec = bom
        return _strictly(body, codec, "bom", lambda at: (
            f"{name} starts with a {codec} byte-order mark but byte {at + len(data) - len(body)} is invalid in "
            f"{codec}. Re-save the file in one encoding."))

    try:
        return _checked_utf8(data.decode("utf-8"), name)
    except UnicodeDecodeError as exc:
        utf8_error = exc

    if utf8_error.reason == "unexpected end of data" and utf8_error.end == len(data) and len(data) - utf8_error.start < 4:
        text = data[: utf8_error.start].decode("utf-8")
        lost = len(data) - utf8_error.start
        return Decoded(text, "utf-8", "utf-8", warnings=(("truncated_utf8",
            f"{name} ends in the middle of a UTF-8 character (the last {lost} byte(s) are an incomplete "
            "sequence): the file looks truncated. It was ingested without the partial character; "
            "check that the file was copied completely."),))

    if b"\x00" in data:
        raise DecodeError("binary_file", f"{name} contains NUL bytes and no UTF-16/32 byte-order mark: it is "
                                         "binary, not text. Remove it from the raw folder, or re-save it as "
                                         "UTF-8 text if it is text.")

    damage = _invalid_utf8_runs(data, max_bad=int(len(data) * _MOSTLY_UTF8))
    if damage is not None:
        bad, runs = damage
        where = ", ".join(runs)
        if on_error == "replace":
            return Decoded(data.decode("utf-8", errors="replace"), "utf-8", "utf-8", warnings=(("damaged_utf8",
                f"{name} is UTF-8 with {bad} invalid byte(s) (at byte offsets {where}); they were replaced "
                "with U+FFFD. Repair the file at those offsets if you can."),))
        raise DecodeError("undecodable", f"{name} is UTF-8 with {bad} invalid byte(s) at byte offsets {where}. "
                                         "Repair the file, or set ingest.on_decode_error = 'replace' to ingest "
                                         "it with U+FFFD in their place.")
    return _detect(data, name, min_plausibility)


def _decode_fixed(data: bytes, name: str, encoding: str) -> Decoded:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as exc:
        raise DecodeError("bad_encoding", f"The sidecar gives {name} the encoding {encoding!r}, which Python does "
                                          "not know. Use a codec name such as 'gb18030', 'big5' or 'utf-16'.") from exc
    body = data
    bom = _strip_bom(data)
    if bom is not None and codec.startswith(("utf-8", "utf-16", "utf-32")):
        body = bom[0]
    return _strictly(body, codec, "sidecar", lambda at: (
        f"{name} is not valid {codec} (the encoding the sidecar gives it): byte {at} is invalid. Fix the "
        "sidecar's encoding for it, or leave it empty to detect the encoding."))


def _strictly(body: bytes, codec: str, how: str, message) -> Decoded:
    """``body`` decoded with ``codec``, or a DecodeError (``undecodable``) saying ``message(byte offset)``."""
    try:
        return Decoded(body.decode(codec), codec, how)
    except UnicodeDecodeError as exc:
        raise DecodeError("undecodable", message(exc.start)) from exc


#: Share of control characters (other than tab, line breaks and form feed) above which valid UTF-8 is binary.
_MAX_CONTROL_SHARE = 0.01


def _checked_utf8(text: str, name: str) -> Decoded:
    """Valid UTF-8 ``text``, unless its NUL and other control characters say it is binary data."""
    if "\x00" not in text:
        return Decoded(text, "utf-8", "utf-8")
    controls = sum(text.count(c) for c in set(text) if unicodedata.category(c) == "Cc" and c not in "\t\n\r\x0c")
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise DecodeError("binary_file", f"{name} is valid UTF-8 but {controls} of its {len(text)} characters are "
                                         "NUL or other control characters: it is binary, not text. Remove it from "
                                         "the raw folder.")
    return Decoded(text, "utf-8", "utf-8", warnings=(("nul_characters",
        f"{name} holds {text.count(chr(0))} NUL character(s) in otherwise valid UTF-8 text (an export or copy "
        "went wrong); they are removed from the normalised text (normalise.invisible)."),))


def _detect(data: bytes, name: str, min_plausibility: float) -> Decoded:
    matches = charset_normalizer.from_bytes(data)
    proposed = [m.encoding for m in matches]
    candidates = list(dict.fromkeys(proposed + list(CHINESE_LEGACY)))
    scored: list[tuple[float, int, str, str]] = []
    for rank, enc in enumerate(candidates):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\x0c" for c in text[:4096]):
            continue  # control characters mean a wrong guess for text
        scored.append((cjk_plausibility(text), -rank, enc, text))
    if not scored:
        raise DecodeError("undecodable", f"{name} is not UTF-8, and no known encoding decodes it "
                                         f"(tried {', '.join(candidates)}). If you know its encoding, give it in "
                                         "the sidecar's 'encoding' column; otherwise re-save the file as UTF-8.")
    best = max(scored)
    plausibility, _, enc, text = best
    warnings: tuple[tuple[str, str], ...] = ()
    if plausibility < min_plausibility:
        if proposed and proposed[0] in {s[2] for s in scored}:
            # No Chinese reading is convincing: trust the detector's first choice (e.g. a Latin-1 file).
            first = next(s for s in scored if s[2] == proposed[0])
            plausibility, _, enc, text = first
        others = [e for e in dict.fromkeys(codecs.lookup(p).name for p in proposed) if e != codecs.lookup(enc).name]
        warnings = (("encoding_guessed", f"{name} is not UTF-8 and no Chinese reading of it is convincing; "
                     f"it was decoded as {codecs.lookup(enc).name}, the detector's best guess"
                     + (f" (it also reads as {', '.join(others[:3])})" if others else "")
                     + ". If that is wrong, name the encoding in the sidecar's 'encoding' column."),)
    return Decoded(text, codecs.lookup(enc).name, "detector", confidence=round(plausibility, 4), warnings=warnings)
