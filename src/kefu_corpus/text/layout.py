"""Layout analysis: which lines of an article are title, metadata, site furniture or body.

Pure functions over a decoded text: no I/O. Every line, and every fact read from a line, keeps its
offsets into the text, so the boilerplate table and the metadata provenance point back to the raw file.

The rules live in ``resources/patterns.toml``. Beyond the line rules, three structural rules apply:

* **title**: the first unclassified line of the header zone, when it is short, has no sentence-final
  punctuation and is followed by more text; or, when a title is already known (sidecar or record field),
  the first line that equals it.
* **lead date**: a date at the very start of the first body line, the newswire dateline convention
  ("2023年5月18日-19日,第七届...").
* **trailer**: every line after an end mark ("❖完", "— END —") in the footer zone is furniture.

When several lines give a date, the most explicit wins: a labelled date ("时间:2023-03-02") over a date in
an info bar, over a lead date, over the issue of a publication note ("《客户世界》2021年5月刊").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kefu_corpus.text import dates
from kefu_corpus.text.rules import Patterns

#: Stripped from the ends of lines besides Unicode whitespace (which includes NBSP and U+3000).
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_LINE = re.compile(r"[^\r\n\u2028\u2029]+")
_WORDLIKE = re.compile(r"\w")

# Priority of date evidence by where it was found; lower wins.
_DATE_PRIORITY = {"source_line": 0, "dateline": 0, "info_bar": 1, "lead_date": 2, "publication_note": 3}


@dataclass(frozen=True)
class Block:
    """A non-blank line (or part of one) and what it is."""

    start: int
    end: int
    category: str  # "body" | "metadata" | "furniture"
    kind: str
    rule: str


@dataclass(frozen=True)
class Evidence:
    """A metadata value read from the text, with the span it was read from."""

    value: object
    start: int
    end: int
    text: str


@dataclass
class Layout:
    blocks: list[Block]
    found: dict[str, Evidence] = field(default_factory=dict)

    def body(self) -> list[Block]:
        return [b for b in self.blocks if b.category == "body"]

    def separated(self) -> list[Block]:
        return [b for b in self.blocks if b.category != "body"]


def line_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every non-blank line, trimmed of whitespace and zero-width characters."""
    spans = []
    for m in _LINE.finditer(text):
        start, end = m.span()
        while start < end and (text[start].isspace() or text[start] in _ZERO_WIDTH):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in _ZERO_WIDTH):
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def _date_span(m: re.Match[str]) -> tuple[int, int]:
    """The span of the date groups of a match (not the label or text around them)."""
    present = [g for g in ("y", "m", "d", "m2", "d2") if m.groupdict().get(g)]
    end = max(m.end(g) for g in present)
    rest = m.string[end:m.end()]
    # keep a closing unit such as 日 or 月 that follows the last number inside the match
    if rest[:1] and not rest[0].isspace() and not rest[0].isdigit():
        end += 1
    return m.start("y"), end


def _clean_title(line: str, patterns: Patterns) -> str:
    return patterns.title_markup.sub("", line).strip()


def _is_title_like(line: str, patterns: Patterns, max_chars: int) -> bool:
    return (len(line) <= max_chars
            and not patterns.sentence_like_end.search(line)
            and len(_WORDLIKE.findall(line)) >= 2
            and not patterns.date.match(line))


def analyse_layout(
    text: str,
    patterns: Patterns,
    *,
    header_lines: int = 4,
    footer_lines: int = 8,
    max_title_chars: int = 60,
    known_title: str | None = None,
) -> Layout:
    """Classify every non-blank line of ``text`` and collect the metadata the lines state.

    Parameters
    ----------
    text
        The decoded raw text of one document.
    patterns
        Rules and text patterns, from :func:`kefu_corpus.text.rules.load_patterns`.
    header_lines, footer_lines
        Size of the edge zones, in non-blank lines, where edge rules apply.
    max_title_chars
        Longest line taken for a title.
    known_title
        A title from a sidecar or record: the first line equal to it is marked as the title.

    Returns
    -------
    Layout
        ``blocks`` in text order, and ``found``: evidence for ``title``, ``date``, ``author`` and
        ``publication`` where the text states them.
    """
    spans = line_spans(text)
    n = len(spans)
    kinds: list[tuple[str, str, str] | None] = [None] * n
    found: dict[str, Evidence] = {}
    date_candidates: list[tuple[int, int, Evidence]] = []
    reprint_title: Evidence | None = None

    def is_edge(i: int) -> bool:
        return i < header_lines or i >= n - footer_lines

    for i, (s, e) in enumerate(spans):
        line = text[s:e]
        for rule in patterns.rules:
            if (rule.zone == "edge" and not is_edge(i)) or len(line) > rule.max_chars:
                continue
            m = rule.pattern.search(line)
            if m is None:
                continue
            kinds[i] = (rule.category, rule.kind, rule.name)
            groups = {k: v for k, v in m.groupdict().items() if v}
            if "author" in groups and "author" not in found:
                found["author"] = Evidence(groups["author"], s + m.start("author"), s + m.end("author"), line)
            if "publication" in groups and "publication" not in found:
                pub = groups["publication"]
                found["publication"] = Evidence(pub, s + m.start("publication"), s + m.end("publication"), line)
            title_group = "title" if "title" in groups else "title_t" if "title_t" in groups else None
            if title_group and reprint_title is None:
                reprint_title = Evidence(groups[title_group].strip(), s + m.start(title_group),
                                         s + m.end(title_group), line)
            date_match: re.Match[str] | None = m if "y" in groups else None
            if rule.kind == "info_bar":
                date_match = patterns.date.search(line)
            if date_match is not None and (parsed := dates.from_match(date_match)) is not None:
                d_start, d_end = _date_span(date_match)
                ev = Evidence(parsed, s + d_start, s + d_end, line[d_start:d_end])
                date_candidates.append((_DATE_PRIORITY.get(rule.kind, 3), i, ev))
            break

    # Trailer: everything after an end mark in the footer zone.
    for i in range(max(0, n - footer_lines), n):
        if kinds[i] and kinds[i][1] == "end_mark":
            for j in range(i + 1, n):
                if kinds[j] is None:
                    kinds[j] = ("furniture", "trailer", "after_end_mark")
            break

    # Title: the first unclassified line in the header zone.
    first_free = next((i for i in range(min(n, header_lines)) if kinds[i] is None), None)
    if first_free is not None:
        s, e = spans[first_free]
        line = text[s:e]
        cleaned = _clean_title(line, patterns)
        has_more = any(kinds[j] is None for j in range(first_free + 1, n))
        if known_title is not None:
            is_title = cleaned == known_title.strip()
        else:
            is_title = has_more and _is_title_like(cleaned, patterns, max_title_chars)
        if is_title:
            kinds[first_free] = ("metadata", "title", "first_line_title")
            found["title"] = Evidence(cleaned, s, e, line)
    if "title" not in found and reprint_title is not None:
        found["title"] = reprint_title

    # Lead date: a date opening the first body line.
    first_body = next((i for i in range(n) if kinds[i] is None), None)
    if first_body is not None:
        s, e = spans[first_body]
        m = patterns.date.match(text, s, e)
        if m is not None and (parsed := dates.from_match(m)) is not None:
            date_candidates.append((_DATE_PRIORITY["lead_date"], first_body,
                                    Evidence(parsed, m.start(), m.end(), m.group(0))))
    if date_candidates:
        found["date"] = min(date_candidates, key=lambda c: (c[0], c[1]))[2]

    blocks = [Block(s, e, *(kinds[i] or ("body", "paragraph", "body"))) for i, (s, e) in enumerate(spans)]
    return Layout(blocks=blocks, found=found)


def split_passages(text: str, body: list[Block], patterns: Patterns, *, max_chars: int) -> list[tuple[int, int]]:
    """Cut body blocks into passages of at most ``max_chars``, at sentence ends where possible.

    A paragraph within the limit is one passage. A longer one is cut after the last sentence end that
    keeps the piece within the limit (or hard at the limit when a sentence is longer still).
    """
    out: list[tuple[int, int]] = []
    for block in body:
        start, end = block.start, block.end
        while end - start > max_chars:
            cut = None
            for m in patterns.sentence_end.finditer(text, start, start + max_chars):
                cut = m.end()
            if cut is None or cut <= start:
                cut = start + max_chars
            piece_end = cut
            while piece_end > start and text[piece_end - 1].isspace():
                piece_end -= 1
            if piece_end > start:
                out.append((start, piece_end))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if start < end:
            out.append((start, end))
    return out
