"""Charts: each renders on the seed run, and every Chinese label is drawn in a font that has its glyphs."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from kefu_corpus import plots
from kefu_corpus.errors import KefuError
from kefu_corpus.store import read_table

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

CHARTS = {
    "term_trends": lambda out, script: plots.term_trends(out, display_script=script),
    "topic_prevalence": lambda out, script: plots.topic_prevalence(out, display_script=script),
    "topic_terms": lambda out, script: plots.topic_terms(out, display_script=script),
    "keyness": lambda out, script: plots.keyness(out, display_script=script),
    "quality_summary": lambda out, script: plots.quality_summary(out, display_script=script),
}


def charmap(path) -> set[int]:
    """Code points with a glyph in the font file (the face matplotlib chose, for a collection)."""
    return set(FT2Font(str(path), face_index=getattr(path, "face_index", 0)).get_charmap())


def missing_glyphs(fig) -> dict[str, set[str]]:
    """Draw ``fig``; for each visible text with Chinese in it, the Chinese characters its font lacks."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.figure_png(fig, dpi=40)
    tofu = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not tofu, tofu
    missing = {}
    for text in fig.findobj(Text):
        label = text.get_text()
        if text.get_visible() and CJK.search(label):
            font = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
            have = charmap(font)
            missing[label] = {ch for ch in label if CJK.match(ch) and ord(ch) not in have}
    return missing


def drawn_text(fig) -> str:
    return "".join(t.get_text() for t in fig.findobj(Text) if t.get_visible())


@pytest.mark.parametrize("script", plots.DISPLAY_SCRIPTS)
@pytest.mark.parametrize("chart", list(CHARTS))
def test_every_chinese_label_has_its_glyphs_in_the_font_used(seed_run, chart, script):
    out, _ = seed_run
    fig = CHARTS[chart](out, script)
    missing = missing_glyphs(fig)
    assert missing, f"{chart} drew no Chinese label"
    assert not any(missing.values()), {label: chars for label, chars in missing.items() if chars}


def test_both_scripts_are_drawn_customer_as_written_in_each(seed_run):
    out, _ = seed_run
    simplified = drawn_text(plots.topic_terms(out, display_script="simplified"))
    traditional = drawn_text(plots.topic_terms(out, display_script="traditional"))
    assert "客户" in simplified and "客戶" not in simplified
    assert "客戶" in traditional and "客户" not in traditional
    # 003 is a Traditional article; its words are drawn in the chosen script.
    assert "服務" in drawn_text(plots.keyness(out, display_script="traditional"))


def test_the_glyph_check_fails_on_matplotlibs_default_font():
    default = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    assert ord("客") not in charmap(default) and ord("戶") not in charmap(default)
    chosen = plots.cjk_font("traditional")
    assert {ord(c) for c in "客户客戶服务服務"} <= charmap(font_manager.findfont(
        font_manager.FontProperties(family=chosen.family)))


def test_the_font_is_registered_from_the_installed_package_not_copied():
    font = plots.cjk_font()
    assert font.family.startswith(("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "Droid Sans"))
    assert font.path.is_file()
    assert plots.cjk_font("traditional").family != "DejaVu Sans"


def test_no_cjk_font_is_a_clear_error(monkeypatch):
    plots.cjk_font()  # the packaged font registered first (once per process), then hidden with the rest
    latin_only = [f for f in font_manager.fontManager.ttflist if f.name == "DejaVu Sans"]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin_only)
    with pytest.raises(KefuError, match="No CJK font") as info:
        plots.cjk_font()
    assert "fonts-noto-cjk" in info.value.hint and "noto-cjk-sans-otc" in info.value.hint


def test_use_cjk_font_sets_the_family_for_an_analysts_own_plots():
    import matplotlib

    with matplotlib.rc_context():
        family = plots.use_cjk_font("traditional")
        assert matplotlib.rcParams["font.family"][0] == family


def test_charts_take_tables_and_dataframes_as_well_as_folders(seed_run):
    out, _ = seed_run
    trends = read_table(out, "term_trends")
    for source in (trends, trends.to_pandas()):
        fig = plots.term_trends(source, terms=["客户", "客戶", "服务"])
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert [label.split(" ")[0] for label in labels] == ["客户", "服务"]  # 客戶 is the same term
    fig = plots.topic_prevalence(read_table(out, "topic_trends"), topics=read_table(out, "topics").to_pandas())
    assert any("客户" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert plots.keyness(read_table(out, "keyness").to_pandas(), years=[2021]).axes[0].get_title(loc="left") == "2021"


def test_bad_inputs_are_clear_errors(seed_run):
    out, _ = seed_run
    with pytest.raises(KefuError, match="'display_script' parameter of topic_terms must be"):
        plots.topic_terms(out, display_script="hanzi")
    with pytest.raises(KefuError, match="lacks the column"):
        plots.term_trends(pd.DataFrame({"term": ["客服"]}))
    with pytest.raises(KefuError, match="Cannot read a keyness table"):
        plots.keyness([1, 2, 3])


def test_rising_and_falling_terms_follow_the_slopes(seed_run):
    out, _ = seed_run
    slopes = plots.term_slopes(out, min_count=5)
    rows = slopes.to_pylist()
    assert [abs(r["slope"]) for r in rows] == sorted((abs(r["slope"]) for r in rows), reverse=True)
    assert all(r["count"] >= 5 for r in rows) and {r["evidence"] for r in rows} <= {"ok", "thin"}
    rising, falling = plots.rising_falling(out, n=5)
    assert len(rising) == len(falling) == 5
    assert all(r["slope"] > 0 for r in rising) and all(r["slope"] < 0 for r in falling)
    assert rising[0]["slope"] == max(r["slope"] for r in rows)


def test_quality_summary_draws_at_most_the_documents_acted_on_most(seed_run, seed_docs):
    # A chart of every document does not scale (11,547 bars on the bench corpus): the cap keeps those
    # the pipeline acted on most, in corpus order, and says how many there are in all.
    out, _ = seed_run
    fig = plots.quality_summary(out, top=2)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 2 and {label[:3] for label in labels} == {"002", "003"}
    assert "of 5" in fig._suptitle.get_text()


def test_quality_summary_shows_the_002_duplicates_and_003_repairs(seed_run, seed_docs):
    out, _ = seed_run
    fig = plots.quality_summary(out)
    ax_dup, ax_rep, _ = fig.axes[:3]
    labels = [t.get_text() for t in ax_dup.get_yticklabels()]
    assert len(labels) == 5 and labels[2].startswith("002")
    repaired = {label: patch.get_width() for label, patch in zip(labels, ax_rep.patches)}
    assert repaired["003_5d7497af4c1b7a39.txt"] == seed_docs["003"]["n_repairs"] > 0
    assert sum(v for k, v in repaired.items() if not k.startswith("003")) == 0
    duplicate_widths = [p.get_width() for p in ax_dup.patches[5:]]
    assert sum(duplicate_widths) == seed_docs["002"]["n_duplicate_passages"] > 0
