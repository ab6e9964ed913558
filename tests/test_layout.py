"""Layout rules generalise beyond the seeds' exact strings."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu_corpus.text import dates
from kefu_corpus.text.layout import analyse_layout, line_spans, split_passages
from kefu_corpus.text.rules import load_patterns

P = load_patterns()
BODY = "客户服务中心正在经历数字化转型，座席的角色也在改变。"


def kinds(text: str) -> dict[str, str]:
    layout = analyse_layout(text, P)
    return {text[b.start:b.end]: b.kind for b in layout.blocks}


@pytest.mark.parametrize("line,kind", [
    ("全文共2,100字，阅读约需5分钟", "reading_time"),
    ("本文约1.2万字 阅读时间约15分钟", "reading_time"),
    ("阅读 3.2万", "view_counter"),
    ("浏览量：1472次", "view_counter"),
    ("— END —", "end_mark"),
    ("◆ 全文完 ◆", "end_mark"),
    ("点击上方蓝字关注我们", "share_prompt"),
    ("长按二维码关注公众号", "share_prompt"),
    ("转载请联系原作者获得授权", "reprint_notice"),
    ("版权所有，侵权必究", "reprint_notice"),
    ("推荐阅读", "related_links"),
    ("往期回顾：", "related_links"),
    ("评论功能已关闭", "comments_closed"),
    ("文/张三", "byline"),
    ("责任编辑：李四", "editor_line"),
    ("本文首发于《客户世界》2022年3月刊", "publication_note"),
    ("发布时间：2022-03-15", "dateline"),
])
def test_edge_furniture_and_metadata_variants(line, kind):
    text = f"标题在这里\n{BODY}\n{BODY}\n{line}\n"
    assert kinds(text)[line] == kind


@pytest.mark.parametrize("caption", ["▲ 图为会议现场", "嘉宾在论坛上做演讲", "活动合影", "图片来源网络"])
def test_photo_captions_anywhere(caption):
    text = "标题\n" + "\n".join([BODY] * 6 + [caption] + [BODY] * 6)
    assert kinds(text)[caption] == "photo_caption"


@pytest.mark.parametrize("heading", ["服务岗位价值趋向与发展", "写在最后", "客服人:走向舞臺中央", "01"])
def test_headings_stay_in_the_body(heading):
    text = "标题\n" + "\n".join([BODY] * 6 + [heading] + [BODY] * 6)
    assert kinds(text)[heading] == "paragraph"


def test_furniture_words_inside_body_paragraphs_are_not_boilerplate():
    para = "我们在沙龙现场讨论了转载请注明来源这类声明是否有效，评论已关闭的页面也很多。"
    text = "标题\n" + "\n".join([BODY] * 6 + [para] + [BODY] * 6)
    assert kinds(text)[para] == "paragraph"


def test_metadata_evidence_and_priorities():
    text = ("客服中心的数字化之路\n作者：王五；资深顾问\n来源：客户世界 时间：2022-08-09\n"
            f"{BODY}\n{BODY}\n本文刊载于《呼叫中心》2022年7月刊\n")
    found = analyse_layout(text, P).found
    assert found["title"].value == "客服中心的数字化之路"
    assert found["author"].value == "王五"
    assert found["publication"].value == "客户世界"  # the first source named wins
    assert found["date"].value == dates.PartialDate(dt.date(2022, 8, 9), "day")  # labelled beats issue month
    for ev in found.values():
        assert text[ev.start:ev.end] in ev.text or ev.text in text


def test_title_known_from_record_marks_the_matching_line():
    text = f"数字化转型\n{BODY}\n"
    layout = analyse_layout(text, P, known_title="数字化转型")
    assert layout.blocks[0].kind == "title"
    layout = analyse_layout(text, P, known_title="别的标题")
    assert layout.blocks[0].kind == "paragraph"


def test_lines_are_trimmed_of_nbsp_ideographic_space_and_zero_width():
    text = "\u00a0\u3000\u200b正文\u00a0\n\u3000\n"
    assert [text[s:e] for s, e in line_spans(text)] == ["正文"]


def test_invalid_calendar_dates_are_not_dates():
    assert dates.parse_iso("2021-02-30") is None
    assert dates.parse_iso("2021-13") is None
    assert dates.parse_iso("2021") == dates.PartialDate(dt.date(2021, 1, 1), "year")


def test_long_paragraphs_split_at_sentence_ends_within_the_limit():
    sentence = "客服中心的价值在于连接客户与企业。"
    text = sentence * 40
    body = analyse_layout(text, P).body()
    spans = split_passages(text, body, P, max_chars=100)
    assert all(e - s <= 100 for s, e in spans)
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(text[e - 1] == "。" for s, e in spans)


def test_a_sentence_longer_than_the_limit_is_cut_hard():
    text = "字" * 250
    spans = split_passages(text, analyse_layout(text, P).body(), P, max_chars=100)
    assert spans == [(0, 100), (100, 200), (200, 250)]
