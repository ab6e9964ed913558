"""The data behind the report's explorable views, read from a run's Parquet.

Each function reads only the columns it needs, aggregates with Arrow and NumPy (the tokens table in
batches, so memory does not grow with the corpus), and returns plain values capped to what a page can
show, with the caps stated:

- :func:`term_explorer`: the most frequent terms, each with its rate by year and trend statistics, its
  collocates and a few keyword-in-context lines with the document's title and date, in the forms the
  corpus itself writes (:mod:`kefu_corpus.plots` display forms), searchable in either script;
- :func:`topic_map`: topics placed in two dimensions by the distances between their term distributions
  (Jensen-Shannon, then classical multidimensional scaling, as LDAvis places them), sized by prevalence;
- :func:`representative_units`: the passages (or documents) each topic weighs most in;
- :func:`fold_map`: each Traditional character of a text mapped to its Simplified one, so that a search
  matches either script.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import tablefiles
from kefu_corpus.store import read_manifest
from kefu_corpus.text.chars import HAN_RANGES, is_han

@dataclass(frozen=True)
class ExplorerCaps:
    """How much of the corpus the term explorer embeds."""

    terms: int = 1500  #: the most frequent terms (all occurrences, dated or not)
    contexts: int = 5  #: keyword-in-context lines per term, the first in corpus order
    collocates: int = 8  #: collocates per term, strongest first
    window: int = 4  #: tokens on each side of a term that count as its context for collocates
    context_tokens: int = 12  #: tokens of context on each side of a KWIC line
    context_chars: int = 24  #: characters of context at most on each side of a KWIC line


def _table_path(out: Path, name: str) -> Path | None:
    manifest = read_manifest(out)
    if name not in manifest.get("tables", {}):
        return None
    path = out / manifest["tables"][name]["file"]
    return path if tablefiles.exists(path) else None


def term_explorer(out: Path, forms: dict[str, str], shown, caps: ExplorerCaps = ExplorerCaps()) -> dict[str, Any] | None:
    """Everything the term explorer shows, for the ``caps.terms`` most frequent terms of ``term_trends``.

    ``forms`` maps a canonical term to its display form (:func:`kefu_corpus.plots.term_forms`) and
    ``shown(term)`` converts a term the corpus never writes in the display script. Returns None when the
    run has no ``term_trends`` or ``tokens``. The result::

        {"years": [2020, ...], "terms": [{"term", "shown", "forms", "count", "undated", "counts",
          "rates", "slope", "p_value", "evidence", "collocates": [[shown, count, g2], ...],
          "contexts": [[left, match, right, title, date, source], ...]}, ...],
         "caps": {...}, "n_terms": all terms, "index": {searchable form: term position}}
    """
    trends_path, tokens_path = _table_path(out, "term_trends"), _table_path(out, "tokens")
    if trends_path is None or tokens_path is None:
        return None
    trends = tablefiles.read(trends_path, columns=["term", "year", "count", "rate_per_10k", "slope", "p_value",
                                                   "evidence"])
    totals = trends.group_by("term", use_threads=False).aggregate([("count", "sum")])
    totals = totals.sort_by([("count_sum", "descending"), ("term", "ascending")])
    vocabulary = totals.column("term").combine_chunks()  # every term, most frequent first: codes are ranks
    n_terms = len(vocabulary)
    top = vocabulary.slice(0, caps.terms)
    chosen = trends.filter(pc.is_in(trends["term"], value_set=top))
    years = sorted(y for y in pc.unique(trends["year"]).to_pylist() if y is not None)
    row = pc.index_in(chosen["term"], value_set=top).to_numpy()
    year = chosen["year"]
    dated = pc.is_valid(year).to_numpy(zero_copy_only=False)
    col = pc.index_in(year, value_set=pa.array(years, year.type)).to_numpy(zero_copy_only=False)
    counts = np.zeros((len(top), len(years)), np.int64)
    rates = np.zeros((len(top), len(years)))
    count = chosen["count"].to_numpy()
    counts[row[dated], col[dated].astype(np.int64)] = count[dated]
    rates[row[dated], col[dated].astype(np.int64)] = chosen["rate_per_10k"].to_numpy()[dated]
    undated = np.bincount(row[~dated], weights=count[~dated], minlength=len(top)).astype(np.int64)
    stats = chosen.group_by("term", use_threads=False).aggregate([("slope", "first"), ("p_value", "first"),
                                                                  ("evidence", "first")])
    at = pc.index_in(stats["term"], value_set=top).to_numpy()
    slope, p_value, evidence = [None] * len(top), [None] * len(top), ["thin"] * len(top)
    for i, s, p, e in zip(at.tolist(), stats["slope_first"].to_pylist(), stats["p_value_first"].to_pylist(),
                          stats["evidence_first"].to_pylist()):
        slope[i], p_value[i], evidence[i] = s, p, e
    word_count = totals.column("count_sum").to_numpy()
    pairs, hits, n_content = _scan_tokens(tokens_path, vocabulary, len(top), caps)
    written = _written_forms(out, top)
    terms, index = [], {}
    names = top.to_pylist()
    for i, term in enumerate(names):
        display = forms.get(term) or shown(term) or term
        own = sorted(set(written.get(i, ())) - {display})
        terms.append({"term": term, "shown": display, "forms": own, "count": int(word_count[i]),
                      "undated": int(undated[i]), "counts": counts[i].tolist(),
                      "rates": [round(r, 3) for r in rates[i].tolist()],
                      "slope": None if slope[i] is None else round(slope[i], 4),
                      "p_value": None if p_value[i] is None else float(f"{p_value[i]:.3g}"),
                      "evidence": evidence[i], "collocates": [], "contexts": []})
    _collocates(pairs, word_count, n_content, caps, terms, vocabulary, forms, shown)
    _contexts(out, hits, terms)
    for i, entry in enumerate(terms):
        for key in (entry["term"], entry["shown"], *entry["forms"]):
            index.setdefault(key, i)
    return {"years": years, "terms": terms, "n_terms": n_terms, "index": index,
            "caps": {"terms": caps.terms, "contexts": caps.contexts, "collocates": caps.collocates,
                     "window": caps.window}}


def _scan_tokens(path: Path, vocabulary: pa.Array, n_nodes: int, caps: ExplorerCaps):
    """One pass over ``tokens`` in batches: co-occurrence counts of each explorer term (a *node*, code
    below ``n_nodes``) with every term within ``caps.window`` tokens of it in the same passage, and the
    first ``caps.contexts`` occurrences of each node with their context tokens."""
    n_codes = len(vocabulary)
    merged: pa.Table | None = None
    pending: list[np.ndarray] = []
    pending_rows = 0
    have = np.zeros(n_nodes, np.int64)
    hits: list[tuple] = []
    n_content = 0
    columns = ["doc_id", "passage_id", "position", "token", "token_original"]

    def reduce(keys: list[np.ndarray], merged: pa.Table | None) -> pa.Table:
        values, freq = np.unique(np.concatenate(keys), return_counts=True)
        table = pa.table({"key": values, "n": freq.astype(np.int64)})
        if merged is not None:
            table = pa.concat_tables([merged, table]).group_by("key", use_threads=False).aggregate([("n", "sum")]) \
                .rename_columns(["key", "n"])
        return table

    for batch in tablefiles.iter_batches(path, columns=columns, batch_size=1 << 20):
        token = batch.column(3)
        code_of = pc.fill_null(pc.index_in(token.dictionary.cast(pa.string()), value_set=vocabulary), -1)
        code = code_of.to_numpy()[token.indices.to_numpy()] if len(token) else np.zeros(0, np.int64)
        passage = batch.column(1).indices.to_numpy()
        position = batch.column(2).to_numpy()
        content = code >= 0
        n_content += int(content.sum())
        node = content & (code < n_nodes)
        keys = []
        for d in range(1, caps.window + 1):
            a = np.arange(len(code) - d)
            b = a + d
            near = (passage[a] == passage[b]) & (position[b] - position[a] <= caps.window) & content[a] & content[b]
            for x, y in ((a, b), (b, a)):  # the node on either side
                m = near & node[x]
                keys.append(code[x[m]].astype(np.int64) * n_codes + code[y[m]])
        pending += keys
        pending_rows += sum(len(k) for k in keys)
        if pending_rows > 8_000_000:  # merge now and then: memory stays bounded
            merged, pending, pending_rows = reduce(pending, merged), [], 0
        at = np.flatnonzero(node)
        if len(at) and (have < caps.contexts).any():
            hits += _first_hits(batch, at, code, have, caps)
    if pending:
        merged = reduce(pending, merged)
    return merged, hits, n_content


def _first_hits(batch: pa.RecordBatch, at: np.ndarray, code: np.ndarray, have: np.ndarray,
                caps: ExplorerCaps) -> list[tuple]:
    """The occurrences at ``at`` that are among the first ``caps.contexts`` of their term, with their
    context: ``(code, doc_id, left, match, right)`` (``have`` counts each term's lines so far)."""
    nodes = code[at]
    order = np.argsort(nodes, kind="stable")  # by term, corpus order within
    sorted_nodes = nodes[order]
    first = np.searchsorted(sorted_nodes, sorted_nodes, side="left")
    rank = np.arange(len(order)) - first + have[sorted_nodes]
    keep = np.sort(order[rank < caps.contexts])
    if not len(keep):
        return []
    np.add.at(have, nodes[keep], 1)
    np.minimum(have, caps.contexts, out=have)
    rows = at[keep]
    passage = batch.column(1).indices.to_numpy()
    lo = np.maximum(rows - caps.context_tokens, 0)
    hi = np.minimum(rows + caps.context_tokens + 1, len(passage))
    window = np.unique(np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)]))
    texts = dict(zip(window.tolist(), batch.column(4).take(pa.array(window)).cast(pa.string()).to_pylist()))
    docs = batch.column(0).take(pa.array(rows)).cast(pa.string()).to_pylist()
    out = []
    for row, a, b, doc, c in zip(rows.tolist(), lo.tolist(), hi.tolist(), docs, code[rows].tolist()):
        left = "".join(texts[j] for j in range(a, row) if passage[j] == passage[row])
        right = "".join(texts[j] for j in range(row + 1, b) if passage[j] == passage[row])
        out.append((c, doc, _clip(left, caps.context_chars, left=True), texts[row],
                    _clip(right, caps.context_chars, left=False)))
    return out


def _clip(text: str, n: int, *, left: bool) -> str:
    text = " ".join(text.split())  # line breaks and runs of spaces shown as one space
    if len(text) <= n:
        return text
    return "…" + text[-n:] if left else text[:n] + "…"


def _collocates(pairs: pa.Table | None, word_count: np.ndarray, n_content: int, caps: ExplorerCaps,
                terms: list[dict], vocabulary: pa.Array, forms: dict[str, str], shown) -> None:
    """Each term's strongest collocates by G² (the term's context window against the rest of the corpus),
    seen at least twice and more often than chance."""
    from kefu_corpus.transforms.trends import g2

    if pairs is None or not pairs.num_rows or not n_content:
        return
    n_codes = len(vocabulary)
    node, other = np.divmod(pairs.column("key").to_numpy(), n_codes)
    together = pairs.column("n").to_numpy().astype(np.float64)
    span = word_count[node].astype(np.float64) * 2 * caps.window  # tokens in the term's context windows
    total = float(n_content)
    expected = span * word_count[other] / total
    keep = (together >= 2) & (together > expected) & (node != other)
    node, other, together, span = node[keep], other[keep], together[keep], span[keep]
    if not len(node):
        return
    span = np.minimum(np.maximum(span, together), total - 1)
    outside = np.maximum(word_count[other] - together, 0)
    score, _ = g2(together, outside, span, total - span)
    order = np.lexsort((other, -score, node))
    node, other, together, score = node[order], other[order], together[order], score[order]
    start = np.searchsorted(node, node, side="left")
    first = (np.arange(len(node)) - start) < caps.collocates
    names = vocabulary.take(pa.array(other[first])).to_pylist()
    for n, name, c, s in zip(node[first].tolist(), names, together[first].tolist(), score[first].tolist()):
        terms[n]["collocates"].append([forms.get(name) or shown(name) or name, int(c), round(s, 1)])


def _contexts(out: Path, hits: list[tuple], terms: list[dict]) -> None:
    """Attach the KWIC lines, with each document's title and date, to their terms."""
    if not hits:
        return
    docs_path = _table_path(out, "documents")
    meta: dict[str, tuple] = {}
    if docs_path is not None:
        table = tablefiles.read_where(docs_path, ["doc_id", "title", "date", "source_path", "source_record"],
                                      "doc_id", {h[1] for h in hits})
        for doc, title, date, source, record in zip(*(table[c].to_pylist() for c in table.column_names)):
            name = Path(source).name + (f"#{record}" if record else "")
            meta[doc] = (title or "", date.isoformat() if date else "", name)
    for c, doc, left, match, right in hits:
        title, date, source = meta.get(doc, ("", "", doc))
        terms[c]["contexts"].append([left, match, right, title, date, source])


def _written_forms(out: Path, top: pa.Array) -> dict[int, list[str]]:
    """Every form the corpus writes each explorer term in (either script), by the term's position."""
    path = _table_path(out, "term_forms")
    if path is None:
        return {}
    table = tablefiles.read(path, columns=["term", "form"])
    table = table.filter(pc.is_in(table["term"], value_set=top))
    written: dict[int, list[str]] = {}
    at = pc.index_in(table["term"], value_set=top).to_pylist()
    for i, form in zip(at, table["form"].to_pylist()):
        written.setdefault(i, []).append(form)
    return written


# ---- topics --------------------------------------------------------------------------------------------

def topic_map(out: Path) -> dict[str, Any] | None:
    """Each topic of the saved model placed in two dimensions: the Jensen-Shannon distances between the
    topics' term distributions, embedded by classical multidimensional scaling (principal coordinates),
    as LDAvis places them; with each topic's prevalence (mean weight over the modelled units, from
    ``topic_trends``). None when the run has no saved model."""
    from kefu_corpus.topicmodels.model import TopicModel

    path = out / "models" / "topics.npz"
    if not path.is_file():
        return None
    model = TopicModel.load(path)
    weights = np.asarray(model.topic_term, np.float64)
    weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-300)
    k = len(weights)
    distance = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            distance[i, j] = distance[j, i] = _jensen_shannon(weights[i], weights[j])
    xy = _principal_coordinates(distance)
    prevalence = np.full(k, 1.0 / max(k, 1))
    trends_path = _table_path(out, "topic_trends")
    if trends_path is not None:
        trends = tablefiles.read(trends_path, columns=["topic_id", "mean_weight", "n_units"])
        if trends.num_rows:
            mass = np.zeros(k)
            units = np.zeros(k)
            tid = trends["topic_id"].to_numpy()
            n = trends["n_units"].to_numpy().astype(np.float64)
            np.add.at(mass, tid, trends["mean_weight"].to_numpy() * n)
            np.add.at(units, tid, n)
            prevalence = mass / np.maximum(units, 1)
    return {"x": xy[:, 0].round(4).tolist(), "y": xy[:, 1].round(4).tolist(),
            "prevalence": prevalence.round(4).tolist(), "distance": distance.round(4).tolist()}


def _jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (the square root of the divergence, in bits): 0 for equal distributions,
    1 for disjoint ones."""
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(np.sqrt(max((kl_p + kl_q) / 2, 0.0)))


def _principal_coordinates(distance: np.ndarray) -> np.ndarray:
    """Classical multidimensional scaling of a distance matrix to two dimensions, signs fixed so that
    the largest coordinate of each axis is positive (the same picture each run)."""
    k = len(distance)
    if k < 2:
        return np.zeros((k, 2))
    centre = np.eye(k) - np.ones((k, k)) / k
    b = -0.5 * centre @ (distance ** 2) @ centre
    values, vectors = np.linalg.eigh(b)
    order = np.argsort(values)[::-1][:2]
    xy = vectors[:, order] * np.sqrt(np.maximum(values[order], 0))
    if xy.shape[1] < 2:
        xy = np.hstack([xy, np.zeros((k, 2 - xy.shape[1]))])
    signs = np.sign(xy[np.abs(xy).argmax(axis=0), range(2)])
    return xy * np.where(signs == 0, 1, signs)


def representative_units(out: Path, *, per_topic: int = 3, chars: int = 160) -> dict[int, list[dict]]:
    """For each topic, the ``per_topic`` modelled units it weighs most in (ties: the smaller unit id),
    with their text in their own script (cut to ``chars``) and their document's title and date.
    ``doc_topics`` is read in batches: only the running leaders are kept."""
    path = _table_path(out, "doc_topics")
    if path is None:
        return {}
    leaders: pa.Table | None = None
    for batch in tablefiles.iter_batches(path, columns=["unit", "unit_id", "doc_id", "topic_id", "weight"]):
        table = pa.Table.from_batches([batch])
        if leaders is not None:
            table = pa.concat_tables([leaders, table])
        table = table.sort_by([("topic_id", "ascending"), ("weight", "descending"), ("unit_id", "ascending")])
        topic = table["topic_id"].to_numpy()
        rank = np.arange(len(topic)) - np.searchsorted(topic, topic, side="left")
        leaders = table.filter(pa.array(rank < per_topic))
    if leaders is None or not leaders.num_rows:
        return {}
    rows = leaders.to_pylist()
    texts: dict[str, str] = {}
    passages_path = _table_path(out, "passages")
    if passages_path is not None:
        table = tablefiles.read_where(passages_path, ["passage_id", "text_normalised", "text"], "passage_id",
                                      {r["unit_id"] for r in rows if r["unit"] == "passage"})
        for pid, normal, raw in zip(*(table[c].to_pylist() for c in table.column_names)):
            texts[pid] = normal or raw
    meta: dict[str, tuple] = {}
    docs_path = _table_path(out, "documents")
    if docs_path is not None:
        table = tablefiles.read_where(docs_path, ["doc_id", "title", "date", "text"], "doc_id",
                                      {r["doc_id"] for r in rows})
        for doc, title, date, text in zip(*(table[c].to_pylist() for c in table.column_names)):
            meta[doc] = (title or "", date.isoformat() if date else "", text)
    out_rows: dict[int, list[dict]] = {}
    for r in rows:
        title, date, doc_text = meta.get(r["doc_id"], ("", "", ""))
        text = texts.get(r["unit_id"], "") if r["unit"] == "passage" else doc_text
        text = " ".join((text or "").split())
        out_rows.setdefault(r["topic_id"], []).append({
            "weight": round(float(r["weight"]), 3), "title": title, "date": date,
            "text": text if len(text) <= chars else text[:chars] + "…"})
    return out_rows


# ---- search ---------------------------------------------------------------------------------------------

def fold_map(text: str) -> dict[str, str]:
    """``{Traditional character: Simplified character}``, as OpenCC's ``t2s`` converts one character, for
    every Han character that is in ``text`` or converts to one that is: what the report's search applies
    to a query and to the text searched, so that 客戶 finds 客户 and the other way round (a query may be
    typed in the script the page does not use)."""
    from kefu_corpus.text.convert import convert

    present = set(text)
    chars = [chr(c) for lo, hi in HAN_RANGES if hi < 0x10000 for c in range(lo, hi + 1)]  # the BMP blocks
    chars += sorted(ch for ch in present if ord(ch) >= 0x10000 and is_han(ch))
    converted = convert("\n".join(chars), "t2s").text.split("\n")
    if len(converted) != len(chars):  # a conversion that joined lines: one call per character instead
        converted = [convert(ch, "t2s").text for ch in chars]
    return {a: b for a, b in zip(chars, converted)
            if a != b and len(b) == 1 and (a in present or b in present)}
