"""jieba's dictionary read only as far as it is needed: look-ups in its text find what reading the whole
file finds, the frequencies' total comes from a cache, and a segmenter that looked up a few words cuts and
tags as one that read everything."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter

import pytest

from kefu_corpus.stages.segment import SegmentParams
from kefu_corpus.text import lexicon
from kefu_corpus.text.lexicon import SCAN_BUDGET, SCAN_WORDS, JiebaEntries, jieba_dictionary, jieba_unigrams
from kefu_corpus.text.segment import Segmenter, _dictionary_entries, new_engine, tokenize_text
from kefu_corpus.stages.normalise import NormaliseParams

from conftest import seed_text


def _chunks(words: list[str], n: int = SCAN_WORDS) -> list[list[str]]:
    return [words[i:i + n] for i in range(0, len(words), n)]


def _probe_words() -> list[str]:
    """Words of every kind a look-up meets: a sample of jieba's words, those it lists twice, the domain
    dictionary's, and words it lacks (parts of words, Latin, regular-expression characters, spaces)."""
    words = [line.split()[0] for line in jieba_dictionary().read_text(encoding="utf-8").splitlines()]
    twice = [word for word, n in Counter(words).items() if n > 1]
    assert twice  # jieba's file lists some words twice (B超): the last entry counts
    domain = [word for word, _, _ in _dictionary_entries(SegmentParams())]
    absent = ["客服中心的", "服务质", "国有企业改革", "ZZZ", "C++", "a.b", "(", "x y", "3", ""]
    return words[::400] + twice + domain + absent


def test_a_look_up_in_the_text_finds_what_reading_the_whole_file_finds():
    entries = JiebaEntries(budget=10**6, words=10**6)
    words = _probe_words()
    found = [entry for chunk in _chunks(words) for entry in entries.get_many(chunk)]
    assert not entries.read
    whole = jieba_unigrams()
    assert found == [whole.get(word) for word in words]
    assert sum(entry is not None for entry in found) > 800


@pytest.fixture
def small_dictionary(tmp_path, monkeypatch):
    """jieba's dictionary replaced by a small file with every irregular line the reading skips or takes."""
    path = tmp_path / "dict.txt"
    path.write_text("甲 5 n\n乙 3\n甲 7 v\n丙 x n\n丁\n乙 bad v\n戊 2.9 a\n己\t4\tn\n", encoding="utf-8")
    monkeypatch.setattr(lexicon, "jieba_dictionary", lambda: path)
    lexicon.jieba_unigrams.cache_clear()
    yield path
    lexicon.jieba_unigrams.cache_clear()


def test_the_last_line_with_a_frequency_counts_in_a_look_up_as_in_the_whole_reading(small_dictionary):
    words = ["甲", "乙", "丙", "丁", "戊", "己", "庚"]
    expected = {"甲": (7, "v"), "乙": (3, "x"), "戊": (2, "a"), "己": (4, "n")}
    assert jieba_unigrams() == expected
    assert JiebaEntries().get_many(words) == [expected.get(word) for word in words]


def test_look_ups_read_the_whole_file_once_their_budget_is_spent(monkeypatch):
    scans = []
    original = JiebaEntries._scan
    monkeypatch.setattr(JiebaEntries, "_scan", lambda self, words: scans.append(words) or original(self, words))
    entries = JiebaEntries()
    for word in ["客服", "中心", "客服", "服务"]:
        entries.get(word)
    assert len(scans) == 3 and not entries.read  # a word looked up again is not looked for again
    for i in range(SCAN_BUDGET - 3):
        entries.get(f"词{i}")
    assert len(scans) == SCAN_BUDGET and not entries.read and entries.get("客服") == jieba_unigrams()["客服"]
    assert entries.get("数字化") == jieba_unigrams().get("数字化") and entries.read  # the look-up after the budget
    assert len(scans) == SCAN_BUDGET

    words = JiebaEntries()
    words.get_many([f"词{i}" for i in range(SCAN_WORDS - 1)])
    assert not words.read and len(scans) == SCAN_BUDGET + 1
    words.get_many(["服务", "中心"])  # one word more than are left: a batch of a corpus, say
    assert words.read and len(scans) == SCAN_BUDGET + 1
    expecting = JiebaEntries()
    expecting.expect(SCAN_WORDS + 1)
    assert expecting.read


def test_the_total_is_read_from_the_cache_once_it_is_there(tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_CACHE_DIR", str(tmp_path / "cache"))
    total = sum(freq for freq, _ in jieba_unigrams().values())
    assert lexicon.jieba_unigram_total() == total
    cache = tmp_path / "cache" / "jieba-unigram-total.tsv"
    assert cache.read_text(encoding="utf-8").endswith(f"\t{jieba_dictionary().stat().st_size}"
                                                      f"\t{jieba_dictionary().stat().st_mtime_ns}\t{total}\n")
    monkeypatch.setattr(lexicon, "_jieba_unigram_total", lambda: pytest.fail("the dictionary was read"))
    assert lexicon.jieba_unigram_total() == total


@pytest.mark.parametrize("content", ["garbage", "/elsewhere/dict.txt\t1\t2\t60000000\n", ""])
def test_a_cache_of_another_file_or_a_broken_one_is_replaced(tmp_path, monkeypatch, content):
    monkeypatch.setenv("KEFU_CACHE_DIR", str(tmp_path))
    cache = tmp_path / "jieba-unigram-total.tsv"
    cache.write_text(content, encoding="utf-8")
    total = sum(freq for freq, _ in jieba_unigrams().values())
    assert lexicon.jieba_unigram_total() == total
    assert cache.read_text(encoding="utf-8").endswith(f"\t{total}\n")


def test_a_cache_folder_that_cannot_be_written_still_gives_the_total(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("", encoding="utf-8")
    monkeypatch.setenv("KEFU_CACHE_DIR", str(tmp_path / "file" / "cache"))
    assert lexicon.jieba_unigram_total() == sum(freq for freq, _ in jieba_unigrams().values())


def test_without_a_home_folder_the_total_is_computed(monkeypatch):
    monkeypatch.delenv("KEFU_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(lexicon.Path, "home", classmethod(lambda cls: (_ for _ in ()).throw(RuntimeError("no home"))))
    assert lexicon.jieba_unigram_total() == sum(freq for freq, _ in jieba_unigrams().values())


def test_the_engine_knows_the_words_of_jiebas_file():
    """The segmenter asks the engine which configured words jieba has (for the unigram model's total)."""
    engine, whole = new_engine(), jieba_unigrams()
    words = _probe_words()
    assert [engine.has_word(word) for word in words if word] == [word in whole for word in words if word]


def test_a_segmenters_total_is_the_engines_whole_dictionary():
    seg = Segmenter(SegmentParams())
    whole = jieba_unigrams()
    own = {word: freq for word, freq, _ in _dictionary_entries(SegmentParams())}
    expected = sum(f for f, _ in whole.values()) - sum(whole[w][0] for w in own if w in whole) + sum(own.values())
    assert seg._log_total == math.log(expected)


def _seed_lines() -> list[str]:
    lines = []
    for prefix in ("000", "001", "002", "004"):  # 004 is Traditional
        lines += [line for line in seed_text(prefix).splitlines() if len(line) > 20][:6]
    return lines


def test_a_segmenter_that_looked_words_up_cuts_and_tags_as_one_that_read_everything():
    params, options = SegmentParams(), NormaliseParams().normalize_options()
    looked_up, read = Segmenter(params), Segmenter(params)
    looked_up._jieba = JiebaEntries(budget=10**6, words=10**6)  # every look-up a scan, however many
    read._jieba.expect(10**9)
    lines = _seed_lines()
    assert [tokenize_text(line, looked_up, options) for line in lines] == \
           [tokenize_text(line, read, options) for line in lines]
    assert not looked_up._jieba.read and read._jieba.read
    assert any(len(looked_up._parts_of(w) or ()) > 1 for w in looked_up._parts)  # compounds were split


def test_one_line_reads_little_of_jiebas_dictionary():
    seg = Segmenter(SegmentParams())
    assert [t for t, _ in seg.tag("国有企业的客服中心去年接听了8.5万通电话")][:2] == ["国有", "企业"]
    assert not seg._jieba.read


def test_the_engine_is_made_without_the_rjieba_packages_own():
    code = ("import sys\nfrom kefu_corpus.text.segment import new_engine\n"
            "engine = new_engine()\nassert 'rjieba' not in sys.modules and 'rjieba.rjieba' in sys.modules\n"
            "import rjieba\nassert type(engine) is rjieba.Jieba\n"
            "text = '国有企业的客服中心去年接听了8.5万通电话'\n"
            "assert engine.cut(text, hmm=False) == rjieba.cut(text, hmm=False), engine.cut(text, hmm=False)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
