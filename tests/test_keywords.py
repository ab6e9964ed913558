"""Keywords (TF-IDF, TextRank) and collocations: hand-computed values on a tiny corpus, and the seeds."""

from __future__ import annotations

import math

import networkx as nx
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute below
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kefu_corpus.analysis import collocations
from kefu_corpus.cli import app
from kefu_corpus.stages.trends import KeywordParams
from kefu_corpus.transforms.keywords import keywords, textrank_scores

from conftest import read

COLUMNS = ["doc_id", "passage_id", "position", "token", "token_original", "pos", "token_type", "is_stopword"]


def tokens_table(docs: dict[str, list[str]]) -> pa.Table:
    """A tokens table from space-separated passages per document: 'word/pos' items, '，' as punctuation,
    '的' as a stopword, '_' as a duplicate gap (a position skipped)."""
    rows = []
    for doc, passages in docs.items():
        for p, passage in enumerate(passages):
            position = 0
            for item in passage.split():
                if item == "_":
                    position += 1
                    continue
                word, _, pos = item.partition("/")
                kind = "punctuation" if word == "，" else "word"
                rows.append((doc, f"{doc}-{p}", position, word, word, pos or "n", kind, word in ("的", "，")))
                position += 1
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(COLUMNS)},
                    schema=pa.schema([(n, pa.int32() if n == "position" else
                                       (pa.bool_() if n == "is_stopword" else pa.string())) for n in COLUMNS]))


TINY = {"a": ["客服 中心 的 客服 ， 质检", "客服 中心"], "b": ["质检 标准 质检"], "c": ["客服 标准"]}


def test_tfidf_uses_the_corpus_idf_computed_by_hand():
    table = keywords(tokens_table(TINY), KeywordParams(top_n=10, min_chars=2))
    scores = {(r["doc_id"], r["term"]): r["score"] for r in table.to_pylist() if r["method"] == "tfidf"}
    # Smoothed IDF: ln((1 + n) / (1 + df)) + 1 with n = 3 documents; rows are l2-normalised.
    idf = {t: math.log(4 / (1 + df)) + 1 for t, df in {"客服": 2, "中心": 1, "质检": 2, "标准": 2}.items()}
    raw = {"客服": 3 * idf["客服"], "中心": 2 * idf["中心"], "质检": 1 * idf["质检"]}
    norm = math.sqrt(sum(v * v for v in raw.values()))
    for term, value in raw.items():
        assert scores[("a", term)] == pytest.approx(value / norm)
    assert [r["term"] for r in table.to_pylist() if r["doc_id"] == "a" and r["method"] == "tfidf"] == \
        ["客服", "中心", "质检"]
    assert ("a", "的") not in scores  # stopwords are never keywords


def test_textrank_of_the_union_graph_equals_networkx_pagerank_of_each_document_alone():
    docs = {"a": ["客服 中心 质检 客服 标准 ， 服务 质量"], "b": ["客服 标准 服务 质检 标准"],
            "c": ["数字化 转型 客服 数字化"]}
    table = tokens_table(docs)
    params = KeywordParams(textrank_window=3, min_chars=2)
    union: dict[str, dict[str, float]] = {}
    for row in textrank_scores(table, params).to_pylist():
        union.setdefault(row["doc_id"], {})[row["term"]] = row["score"]
    for doc, passages in docs.items():
        words = passages[0].split()
        graph = nx.Graph()
        for i, w in enumerate(words):
            for j in range(i + 1, min(i + params.textrank_window, len(words))):
                if w != "，" and words[j] != "，" and w != words[j]:
                    old = graph.get_edge_data(w, words[j], {"weight": 0})["weight"]
                    graph.add_edge(w, words[j], weight=old + 1)
        alone = nx.pagerank(graph, weight="weight", tol=1e-12, max_iter=1000)
        assert union[doc] == pytest.approx(alone, abs=1e-8)


def test_textrank_keeps_only_the_configured_parts_of_speech():
    table = tokens_table({"a": ["客服/n 提升/v 很快/d 质量/n 很快/d"]})
    def terms(pos):
        return set(textrank_scores(table, KeywordParams(textrank_pos=pos)).column("term").to_pylist())

    assert terms(("n", "v")) == {"客服", "提升", "质量"}
    assert terms(("n",)) == {"客服", "质量"}


def g2_by_hand(cells: list[tuple[float, float]]) -> float:
    return 2 * sum(o * math.log(o / e) for o, e in cells if o)


def test_collocations_match_pmi_and_g2_computed_by_hand():
    table = tokens_table({"a": ["客服 中心 ， 客服 中心 的 质检", "客服 中心 _ 质检 标准"], "b": ["质检 标准 客服"]})
    rows = {(r["first"], r["second"]): r for r in collocations(table, min_count=1, top=None).to_pylist()}
    # 14 counted tokens (the gap is not a token); 客服 4, 中心 3; the pair 客服 中心 3 times.
    n, c12, c1, c2 = 14, 3, 4, 3
    pair = rows[("客服", "中心")]
    assert (pair["count"], pair["count_first"], pair["count_second"]) == (3, 4, 3)
    assert pair["pmi"] == pytest.approx(math.log2(c12 * n / (c1 * c2)))
    e = lambda r, c: r * c / n  # noqa: E731 - expected count of a cell
    assert pair["g2"] == pytest.approx(g2_by_hand([(c12, e(c1, c2)), (c1 - c12, e(c1, n - c2)),
                                                   (c2 - c12, e(n - c1, c2)), (n - c1 - c2 + c12, e(n - c1, n - c2))]))
    # Never across punctuation, a stopword, a duplicate gap or a passage boundary.
    assert ("中心", "客服") not in rows and ("中心", "质检") not in rows and ("标准", "质检") not in rows
    assert rows[("质检", "标准")]["count"] == 2
    wider = {(r["first"], r["second"]) for r in collocations(table, window=3, min_count=1, top=None).to_pylist()}
    assert ("中心", "客服") in wider  # across the comma, two tokens on
    assert {(r["first"], r["second"]) for r in collocations(table, term="标准", min_count=1).to_pylist()} == \
        {("质检", "标准"), ("标准", "客服")}
    assert collocations(table, term="不在", min_count=1).num_rows == 0


def test_the_seed_run_has_keywords_for_every_document_in_its_own_script(seed_run, seed_docs):
    out, _ = seed_run
    rows = read(out, "keywords")
    assert {r["doc_id"] for r in rows} == {d["doc_id"] for d in seed_docs.values()}
    assert {r["method"] for r in rows} == {"tfidf", "textrank"}
    traditional = [r for r in rows if r["doc_id"] == seed_docs["003"]["doc_id"]]
    assert any(r["term_original"] != r["term"] for r in traditional)  # 服務 for 服务, 客戶 for 客户 ...
    for r in rows:
        assert 0 <= r["rank"] < 10 and r["count"] >= 1


def test_kefu_collocations_answers_in_either_script(seed_run):
    out, _ = seed_run
    runner = CliRunner()
    simplified = runner.invoke(app, ["collocations", "服务", str(out), "--min-count", "2"])
    traditional = runner.invoke(app, ["collocations", "服務", str(out), "--min-count", "2",
                                      "--display-script", "traditional"])
    assert simplified.exit_code == 0 and traditional.exit_code == 0, simplified.output + traditional.output
    pairs = [line.split("\t")[:2] for line in simplified.stdout.splitlines()[1:]]
    assert ["服务", "人员"] in pairs and all("服务" in p for p in pairs)
    assert ["服務", "人員"] in [line.split("\t")[:2] for line in traditional.stdout.splitlines()[1:]]
    bad = runner.invoke(app, ["collocations", str(out), str(out), "--measure", "t"])
    assert bad.exit_code != 0 and "g2, pmi" in bad.output


def test_the_seed_tokens_table_feeds_collocations_directly(seed_run):
    out, _ = seed_run
    tokens = pq.read_table(out / "tokens.parquet")
    top = collocations(tokens, min_count=3, top=10).to_pylist()
    assert top and all(r["count"] >= 3 for r in top)
    assert [r["g2"] for r in top] == sorted((r["g2"] for r in top), reverse=True)


def test_keywords_of_batches_with_the_corpus_idf_equal_the_keywords_of_the_whole(seed_run):
    """Each document's keywords depend on it and the corpus's IDF only: batches change nothing."""
    from kefu_corpus.transforms.keywords import COLUMNS as KEYWORD_COLUMNS, Idf
    from kefu_corpus.terms import term_mask

    out, _ = seed_run
    tokens = pq.read_table(out / "tokens.parquet", columns=KEYWORD_COLUMNS)
    params = KeywordParams()
    whole = keywords(tokens, params)
    idf = Idf.of(tokens.filter(term_mask(tokens, params.min_chars)).cast(
        pa.schema([(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in tokens.schema])))
    docs = list(dict.fromkeys(tokens.column("doc_id").cast(pa.string()).to_pylist()))
    parts = [keywords(tokens.filter(pa.compute.is_in(tokens.column("doc_id").cast(pa.string()), pa.array(group))),
                      params, idf) for group in (docs[:2], docs[2:3], docs[3:])]
    assert pa.concat_tables(parts).equals(whole)
    assert pq.read_table(out / "keywords.parquet").equals(whole)
