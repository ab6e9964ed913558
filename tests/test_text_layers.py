"""The layering of ``kefu_corpus.text``: its modules import one another without a cycle and build on
nothing above them; jieba's dictionary is read in one module and the Han characters defined in one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from kefu_corpus.text.chars import HAN_CLASS, HAN_RANGES, han_mask, is_han

SRC = Path(__file__).resolve().parents[1] / "src"
TEXT = SRC / "kefu_corpus" / "text"
PACKAGE = "kefu_corpus.text"

#: Modules of kefu_corpus below text/: each imports nothing from kefu_corpus but the others listed here
#: (checked below), so any text module may use them. errors.py holds the one domain exception, which the
#: text functions raise; userfiles.py reads and checks the files a configuration names (user dictionaries,
#: stopword lists, patterns); atomic.py writes files whole (the lexicon's cache).
BASE = {"kefu_corpus.atomic", "kefu_corpus.errors", "kefu_corpus.userfiles"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def text_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(TEXT.glob("*.py"))}


def imported(path: Path) -> set[str]:
    """Every kefu_corpus module that ``path`` imports, at the top or inside a function: for ``from
    package import name``, the submodule ``package.name`` when there is one, else ``package``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per further dot
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if module_path(sub) is not None else base)
    return {m for m in found if m == "kefu_corpus" or m.startswith("kefu_corpus.")}


def module_path(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def import_graph() -> dict[str, set[str]]:
    """Text module -> the text modules it imports (the package's ``__init__`` left out: importing a
    submodule runs it, so it is below everything, and it holds nothing)."""
    modules = text_modules()
    inner = set(modules) - {PACKAGE}
    return {name: imported(path) & inner - {name} for name, path in modules.items() if name in inner}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as the list of its nodes (the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_text_modules_import_one_another_without_a_cycle():
    graph = import_graph()
    assert len(graph) > 10 and "kefu_corpus.text.lexicon" in graph["kefu_corpus.text.charlm"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_reader_sees_every_form_of_import(tmp_path, monkeypatch):
    fake = tmp_path / "kefu_corpus" / "text"
    fake.mkdir(parents=True)
    for name in ("__init__", "a", "b", "c", "d"):
        (fake / f"{name}.py").write_text("", encoding="utf-8")
    (tmp_path / "kefu_corpus" / "errors.py").write_text("", encoding="utf-8")
    (fake / "a.py").write_text(
        "import kefu_corpus.text.b\nfrom kefu_corpus.text import c, d as e\nfrom kefu_corpus.errors import X\n"
        "def f():\n    from . import b\n    from .c import g\n    from .. import errors\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "SRC", tmp_path)
    assert imported(fake / "a.py") == {"kefu_corpus.text.b", "kefu_corpus.text.c", "kefu_corpus.text.d",
                                       "kefu_corpus.errors"}


def test_the_text_modules_build_on_nothing_above_them():
    outside = {}
    for name, path in text_modules().items():
        above = {m for m in imported(path) if m != PACKAGE and not m.startswith(PACKAGE + ".")}
        above -= BASE
        if above:
            outside[name] = sorted(above)
    assert outside == {}


@pytest.mark.parametrize("base", sorted(BASE))
def test_the_base_modules_are_below_text(base):
    assert imported(module_path(base)) <= BASE - {base}


def test_only_the_lexicon_reads_jiebas_dictionary():
    readers = [name for name, path in text_modules().items()
               if re.search(r"(?<!\w)dict\.txt|jieba\.__file__", path.read_text(encoding="utf-8"))]
    assert readers == ["kefu_corpus.text.lexicon"]


def test_only_chars_spells_out_the_han_blocks():
    pattern = re.compile(r"0x4E00|0x3400|0x20000|\\u4e00-|\\u3400-|一-", re.IGNORECASE)
    spelled = [name for name, path in text_modules().items() if pattern.search(path.read_text(encoding="utf-8"))]
    assert spelled == ["kefu_corpus.text.chars"]


# -- the one definition of a Han character ------------------------------------------------------------------

def test_han_is_the_cjk_ideograph_blocks_in_every_form():
    edges = sorted({c + d for first, last in HAN_RANGES for c in (first, last) for d in (-1, 0, 1)})
    probes = np.array(edges + [0x41, 0x3007, 0x3005, 0x2F00, 0xFF10, 0x1F60A, 0x10FFFF], np.uint32)
    pattern = re.compile(f"[{HAN_CLASS}]")
    scalar = [is_han(chr(c)) for c in probes.tolist()]
    assert han_mask(probes).tolist() == scalar
    assert [bool(pattern.fullmatch(chr(c))) for c in probes.tolist()] == scalar
    assert sum(scalar) == 4 * len(HAN_RANGES)  # each block's first two and last two, nothing next to them
    # The unified ideographs and Extension A, the compatibility ideographs (BMP and SIP), Extensions B to I
    assert all(map(is_han, "\u4e00\u3400\uf900\U0002f800\U00020000\U0002a700\U0002b740\U0002b820"
                           "\U0002ceb0\U0002ebf0\U00030000\U00031350"))
    # Not Han: the numeral zero and iteration marks (symbols of the Han script), radicals, Latin, punctuation
    assert not any(map(is_han, "\u3007\u3005\u303b\u2e80\u2f00Aa1\uff0c"))


def test_a_short_texts_characters_are_classed_as_the_whole_table_classes_them():
    """Script detection works out a short text's classes for its own characters (``kefu tokenize`` on one
    line does not build the whole table); they must be the table's."""
    import numpy as np

    from kefu_corpus.text import script
    from kefu_corpus.text.chars import code_points

    texts = ["客服中心的服務品質", "客户服务质量", "abc，123", "𠁞𠆲客戶", "中心", ""]
    codes = [code_points(t) for t in texts]
    script._classes.cache_clear()
    script._small_calls = 0
    small = [script._classes_of(c) for c in codes]
    assert script._classes.cache_info().currsize == 0
    assert all(np.array_equal(a, script._classes()[c]) for a, c in zip(small, codes))
    assert [script.detect_script(t) for t in texts] == ["traditional", "simplified", "none", "mixed",
                                                        "undetermined", "none"]
