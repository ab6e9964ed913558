"""Mojibake repair: the damage model, repairs of seed 003, clean text left alone, and the CLI."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from conftest import SEEDS, read, seed_text
from kefu_corpus.cli import app
from kefu_corpus.text import cp936
from kefu_corpus.text.offsets import OffsetMap
from kefu_corpus.text.charlm import word_model
from kefu_corpus.text.repair import build_model, clean_text, find_sites, repair
from kefu_corpus.text.script import detect_script

# The two runs the damage study quotes, as the original reads and as the damage left it.
QUOTED = [("在北京舉行。客服節盛況空前，業內", "在北京舉行??头澥r空前,業內"),
          ("價值創造過渡轉型。客服工作正在以一種全新的姿態嵌入", "價值創造過渡轉型??头ぷ髡谝砸环N全新的姿態嵌入")]
# Where the runs of seed 003 start (characters into the decoded file).
RUNS_003 = [30, 64, 173, 238, 1102, 1222, 1462, 1732, 1898, 1995, 2025, 2216, 2734, 3135, 3200]


@pytest.fixture(scope="module")
def corpus_model():
    return build_model([clean_text(p.read_text(encoding="utf-8")) for p in SEEDS])


@pytest.mark.parametrize("original, damaged", QUOTED)
def test_damage_model_reproduces_the_seed_damage_byte_for_byte(original, damaged):
    assert cp936.damage(original) == damaged
    assert damaged in seed_text("003")


def test_damaged_chars_are_the_run_from_the_lost_byte_to_the_resync():
    original = QUOTED[0][0]
    assert "".join(original[i] for i in cp936.damaged_chars(original)) == "。客服節盛況"


def test_every_run_start_in_003_is_a_site():
    sites = find_sites(seed_text("003"))
    assert set(RUNS_003) <= set(sites)
    assert len(sites) == len(RUNS_003) + 1  # the `???` second trigger inside the run at 1102


@pytest.mark.parametrize("original, damaged", QUOTED)
def test_quoted_runs_are_repaired(corpus_model, original, damaged):
    result = repair(damaged, corpus_model)
    assert result.text == original.replace("，", ",")  # the damage folded full-width commas everywhere
    (fix,) = result.repairs
    assert damaged[fix.start:fix.end] == fix.damaged and 0 < fix.confidence <= 1 and fix.gain > 0
    # the map sends the repaired run back to exactly the damaged span
    i = result.text.index(fix.repaired)
    assert result.offsets.source_span(i, i + len(fix.repaired)) == (fix.start, fix.end)


def test_repairs_recover_most_of_003(corpus_model):
    text = seed_text("003")
    result = repair(text, corpus_model)
    starts = {r.start for r in result.repairs}
    assert len(starts & set(RUNS_003)) >= 14
    assert result.text.count("?") < text.count("?") - 25
    assert detect_script(result.text) == "traditional"
    # outside the repairs nothing changed
    prev, pieces = 0, []
    for r in result.repairs:
        pieces.append(text[prev:r.start])
        prev = r.end
    pieces.append(text[prev:])
    rebuilt = "".join(p + (r.repaired if i < len(result.repairs) else "")
                      for i, (p, r) in enumerate(zip(pieces, list(result.repairs) + [None])))
    assert rebuilt == result.text


def test_every_run_of_003_is_repaired(corpus_model):
    starts = {r.start for r in repair(seed_text("003"), corpus_model).repairs}
    assert set(RUNS_003) <= starts


@pytest.mark.parametrize("text", ["客服工作正在以一種全新的姿態", "在北京舉行。客服節盛況空前,業內", "“商海”更加有力",
                                  "What?! 2024年,可一旦實現"])
def test_the_incremental_word_lattice_scores_like_the_word_model(text):
    words = word_model()
    others, unseen = {"。": -3.0, ",": -3.5, "“": -6.0, "”": -6.0}, -9.0
    state = ("", (0.0,))
    for ch in text:
        state = words.extend(state, ch, others, unseen)
    assert state[1][-1] == pytest.approx(words.score(text, others, unseen))


@pytest.mark.parametrize("text", [
    "你真的要走嗎??我不信!明天再說吧。",
    "這是真的?!太好了。客服中心今天開業。",
    "問題是什麼??客戶說:不知道;我們也不知道,怎麼辦?!",
    "What??! No way?, he said.",
])
def test_legitimate_question_and_exclamation_marks_are_left_alone(corpus_model, text):
    assert find_sites(text)
    result = repair(text, corpus_model)
    assert result.text == text and result.repairs == ()
    assert result.offsets.is_identity()


@pytest.mark.parametrize("seed", ["000", "002"])
def test_clean_seeds_with_emphatic_marks_are_left_alone(corpus_model, seed):
    text = seed_text(seed)[:1500]  # the benchmark runs every clean seed whole
    marked = re.sub(r"。(?=[\u4e00-\u9fff])", lambda m: "??" if m.start() % 2 else "?!", text)
    assert find_sites(marked)
    result = repair(marked, corpus_model)
    assert result.text == marked, [(r.damaged, r.repaired) for r in result.repairs]


def test_text_without_sites_is_returned_as_is_without_a_model():
    text = seed_text("000")
    result = repair(text)
    assert result.text is text and result.repairs == () and result.offsets.is_identity()


# ---- pipeline -------------------------------------------------------------------------------------------


def test_repairs_table_points_back_to_the_raw_text(seed_run, seed_docs):
    out, _ = seed_run
    repairs = read(out, "repairs")
    doc = seed_docs["003"]
    assert repairs and {r["doc_id"] for r in repairs} == {doc["doc_id"]}
    for r in repairs:
        assert doc["text"][r["start"]:r["end"]] == r["damaged"]
        assert r["method"] == "cp936-realign" and r["passage_id"].startswith(doc["doc_id"])
    assert doc["n_repairs"] == len(repairs)
    assert all(d["n_repairs"] == 0 for k, d in seed_docs.items() if k != "003")


def test_scripts_repaired_text_and_canonical_text_of_the_seeds(seed_run, seed_docs):
    out, _ = seed_run
    assert {k: d["script"] for k, d in seed_docs.items()} == {
        "000": "simplified", "001": "simplified", "002": "simplified", "003": "traditional", "004": "simplified"}
    passages = [p for p in read(out, "passages") if p["doc_id"] == seed_docs["003"]["doc_id"]]
    normalised = "\n".join(p["text_normalised"] for p in passages)
    canonical = "\n".join(p["text_canonical"] for p in passages)
    assert "舉行。客服節盛況空前，業內" in normalised
    assert "客服工作正在以一種全新的姿態" in normalised
    assert "客服工作正在以一种全新的姿态" in canonical
    assert detect_script(canonical) == "simplified"
    assert {p["script"] for p in passages} <= {"traditional", "mixed", "undetermined", "none"}


def test_passage_maps_send_repairs_and_characters_back_to_the_raw_text(seed_run, seed_docs):
    out, _ = seed_run
    repairs = read(out, "repairs")
    passages = {p["passage_id"]: p for p in read(out, "passages")}
    for r in repairs:
        p = passages[r["passage_id"]]
        edits = [(e["start"], e["end"], e["source_start"], e["source_end"]) for e in p["normalised_map"]]
        back = OffsetMap.from_edits(edits, len(p["text_normalised"]), len(p["text"]))
        i = p["text_normalised"].index(r["repaired"].replace(",", "，"))
        a, b = back.source_span(i, i + len(r["repaired"]))
        assert (p["start"] + a, p["start"] + b) == (r["start"], r["end"])
    for p in passages.values():  # every canonical character maps into its passage's raw text
        edits = [(e["start"], e["end"], e["source_start"], e["source_end"]) for e in p["canonical_map"]]
        canon = OffsetMap.from_edits(edits, len(p["text_canonical"]), len(p["text_normalised"]))
        edits = [(e["start"], e["end"], e["source_start"], e["source_end"]) for e in p["normalised_map"]]
        norm = OffsetMap.from_edits(edits, len(p["text_normalised"]), len(p["text"]))
        full = norm.then(canon)
        assert len(full) == len(p["text_canonical"])
        assert (full.starts >= 0).all() and (full.ends <= len(p["text"])).all()


def test_normalise_alone_rewrites_its_tables_and_keeps_the_others(raw, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(raw), "--out", str(out), "-q", "-w", "1"]).exit_code == 0
    assert read(out, "documents")[0]["script"] is None
    result = runner.invoke(app, ["normalise", str(out), "-w", "1", "--set", "normalise.canonical=s2twp"])
    assert result.exit_code == 0, result.output
    assert "repaired" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"ingest", "normalise"} <= set(manifest["stages"])
    assert {"boilerplate", "ingest_report", "repairs"} <= set(manifest["tables"])
    docs = {d["source_path"][:3]: d for d in read(out, "documents")}
    assert docs["000"]["script"] == "simplified"
    passages = read(out, "passages")
    assert any(p["canonical_map"] for p in passages)  # s2twp changes lengths (e.g. phrases)
    assert all(detect_script(p["text_canonical"]) != "simplified" for p in passages if p["script"] == "simplified")


def test_normalise_without_an_earlier_run_says_what_to_do(tmp_path):
    result = CliRunner().invoke(app, ["normalise", str(tmp_path)])
    assert result.exit_code == 1
    assert "kefu run" in result.output


# ---- kefu repair ----------------------------------------------------------------------------------------


def test_kefu_repair_writes_clean_text_unchanged():
    path = next(p for p in SEEDS if p.name.startswith("000"))
    result = CliRunner().invoke(app, ["repair", str(path)])
    assert result.exit_code == 0
    assert result.stdout == path.read_text(encoding="utf-8")


def test_kefu_repair_fixes_003_and_reports_every_repair(tmp_path):
    path = next(p for p in SEEDS if p.name.startswith("003"))
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["repair", str(path), "--train", str(path.parent), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "客服工作正在以一種全新的姿態" in result.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    assert len(data["repairs"]) >= 14 and data["sites"] == 16
    text = path.read_text(encoding="utf-8")
    assert all(text[r["start"]:r["end"]] == r["damaged"] for r in data["repairs"])
    assert "run(s) repaired" in result.stderr


def test_kefu_repair_names_a_missing_file(tmp_path):
    result = CliRunner().invoke(app, ["repair", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1
    assert "nope.txt" in result.output
