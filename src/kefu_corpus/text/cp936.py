"""The CP936 (GBK) code table, and a byte-exact model of the misaligned-decoding damage found in text.

The damage (see the README's *Mojibake repair* section) is made in four steps, which
:func:`damage` reproduces exactly, so a repair can be checked by damaging it again:

1. the text is encoded as CP936;
2. a byte search for the full-width marks ！ ， ； ？ (``A3 A1``, ``A3 AC``, ``A3 BB``, ``A3 BF``) that
   ignores character boundaries fires where such a pair *straddles* two characters, and the first
   byte of the character ending in ``A3`` is lost (replaced by ``?``);
3. the bytes are decoded by a lenient decoder: a byte below 0x80 is ASCII; a lead byte and a valid
   trail byte give their character, or nothing when CP936 leaves the pair unassigned; a lead byte
   before an invalid trail byte gives ``?`` and consumes one byte;
4. full-width forms U+FF01-U+FF5E are folded to ASCII.

The tables come from Python's own ``gbk`` codec (CP936: user-defined areas and FE84 are unassigned).
"""

from __future__ import annotations

from functools import lru_cache

#: The byte that follows ``A3`` in each full-width mark that triggers the damage, by the ASCII mark
#: it shows as after folding.
TRIGGER_LEAD = {"?": 0xBF, "!": 0xA1, ",": 0xAC, ";": 0xBB}
TRIGGER_BYTE = 0xA3
LOST = 0x3F  # the byte a lost lead byte is replaced by: "?"


def fold(ch: str) -> str:
    """Fold a full-width form (U+FF01-U+FF5E) to ASCII; other characters are returned unchanged."""
    cp = ord(ch)
    return chr(cp - 0xFEE0) if 0xFF01 <= cp <= 0xFF5E else ch


def is_lead(b: int) -> bool:
    return 0x81 <= b <= 0xFE


def is_trail(b: int) -> bool:
    return 0x40 <= b <= 0xFE and b != 0x7F


class Table:
    """CP936 as lookup tables.

    ``pair[lead][trail]`` is the character of a two-byte pair, ``""`` when the pair is structurally
    valid but unassigned, and ``None`` when ``trail`` cannot be a trail byte.
    """

    def __init__(self) -> None:
        self.pair: list[list[str | None]] = [[None] * 256 for _ in range(256)]
        self.encode: dict[str, tuple[int, int]] = {}
        self.by_lead: list[list[tuple[int, str]]] = [[] for _ in range(256)]
        self.by_trail: list[list[tuple[int, str]]] = [[] for _ in range(256)]
        for lead in range(0x81, 0xFF):
            row = self.pair[lead]
            for trail in range(0x40, 0xFF):
                if trail == 0x7F:
                    continue
                try:
                    ch = bytes((lead, trail)).decode("gbk")
                except UnicodeDecodeError:
                    row[trail] = ""
                    continue
                row[trail] = ch
                self.encode.setdefault(ch, (lead, trail))
                self.by_lead[lead].append((trail, ch))
                self.by_trail[trail].append((lead, ch))
        #: For a pending lead byte p: the folded character each valid trail gives -> those trails.
        self.emits: list[dict[str, list[int]]] = []
        #: For a pending lead byte p: the trail bytes >= 0x81 that make an unassigned (dropped) pair.
        self.dropped: list[list[int]] = []
        for p in range(256):
            emits: dict[str, list[int]] = {}
            dropped: list[int] = []
            if is_lead(p):
                for b in range(0x40, 0xFF):
                    ch = self.pair[p][b]
                    if ch:
                        emits.setdefault(fold(ch), []).append(b)
                    elif ch == "" and b >= 0x81:
                        dropped.append(b)
            self.emits.append(emits)
            self.dropped.append(dropped)
        #: Bytes that, as a pending lead, can start a dropped pair.
        self.drop_leads = frozenset(p for p in range(256) if self.dropped[p])


@lru_cache(maxsize=1)
def table() -> Table:
    """The CP936 tables (built once per process, in about 0.1 s)."""
    return Table()


def encode_chars(text: str) -> list[bytes]:
    """The CP936 bytes of each character of ``text`` (raises ``UnicodeEncodeError`` when one has none)."""
    return [ch.encode("gbk") for ch in text]


def lose_bytes(chars: list[bytes]) -> bytes:
    """Step 2: the byte stream with the first byte of every straddling-trigger character lost."""
    out = bytearray()
    last = len(chars) - 1
    for i, b in enumerate(chars):
        if len(b) == 2 and b[1] == TRIGGER_BYTE and i < last and chars[i + 1][0] in TRIGGER_LEAD.values():
            out.append(LOST)
            out.append(b[1])
        else:
            out += b
    return bytes(out)


def lenient_decode(data: bytes) -> str:
    """Step 3: decode like the lenient decoder that made the damage (no folding)."""
    pair = table().pair
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            out.append(chr(b))
            i += 1
        elif is_lead(b) and i + 1 < n and is_trail(data[i + 1]):
            out.append(pair[b][data[i + 1]] or "")
            i += 2
        else:
            out.append("?")
            i += 1
    return "".join(out)


def damage(text: str) -> str:
    """The text as the damage leaves it (all four steps). Used to test and to benchmark repairs."""
    return "".join(fold(ch) for ch in lenient_decode(lose_bytes(encode_chars(text))))


def damaged_chars(text: str) -> list[int]:
    """Indices of the characters of ``text`` that :func:`damage` does not print as themselves.

    A character is damaged when it lost a byte, or when any of its bytes was read together with a
    byte of another character (or alone) while the decoder was out of step.
    """
    chars = encode_chars(text)
    data = lose_bytes(chars)
    owner: list[int] = []
    first: list[bool] = []
    for index, b in enumerate(chars):
        owner.extend([index] * len(b))
        first.extend([True] + [False] * (len(b) - 1))
    damaged: set[int] = set()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        size = 2 if is_lead(b) and i + 1 < n and is_trail(data[i + 1]) else 1
        own = set(owner[i:i + size])
        whole = first[i] and (i + size == n or first[i + size]) and len(own) == 1
        if not whole or data[i:i + size] != chars[owner[i]]:
            damaged |= own
        i += size
    return sorted(damaged)
