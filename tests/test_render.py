"""Rendering and MIME: subjects that say the essentials, every user text escaped in HTML, both parts decodable
and Chinese, the headers providers expect, and no way for a name to inject a header."""

from __future__ import annotations

import email
from datetime import date, datetime
from email.policy import default

import pytest

from notifications.mime import Attachment, build_message
from notifications.render import render_digest, render_escalation, render_summary
from notifications.views import Digest, Escalation, Item, Summary, SummaryRow, WaivedItem
from rules.calendar import SHANGHAI
from rules.formatting import OverdueCount

EVIL = '<script>alert("x")</script>&'


def _item(name: str = "职工培训场次", **extra) -> Item:
    return Item("职工服务阵地建设", name, "≥12场", "5场", "截止7月25日应完成12场，实际5场", "http://portal/projects/1#ind-2",
                **extra)


def _parse(raw: str):
    return email.message_from_string(raw, policy=default)


def test_subject_names_the_department_and_counts_like_the_brief():
    digest = Digest("晋城市总工会", date(2024, 7, 31), {"overdue": [_item("a"), _item("b")],
                                                      "due_soon": [_item("c"), _item("d"), _item("e")]}, "http://p")
    assert render_digest(digest).subject == "【绩效提醒】晋城市总工会：2项逾期，3项7日内到期"
    catch_up = Digest("晋城市总工会", date(2024, 7, 31), {"no_report": [_item()]}, "http://p",
                      catch_up_from=date(2024, 7, 20))
    rendered = render_digest(catch_up)
    assert rendered.subject == "【绩效提醒·补发】晋城市总工会：1项未填报"
    assert "系统自2024年7月20日起未能按时发送提醒" in rendered.text


def test_every_user_text_is_escaped_in_html_and_kept_verbatim_in_text():
    item = Item(EVIL, EVIL, EVIL, EVIL, EVIL, "http://portal/p?a=1&b=2", note=EVIL, due=date(2024, 7, 1),
                days_overdue=3)
    digest = Digest(EVIL, date(2024, 7, 31), {"overdue": [item]}, "http://portal",
                    waived=[WaivedItem(EVIL, EVIL, date(2024, 8, 1), EVIL)])
    rendered = render_digest(digest)
    assert "<script>" not in rendered.html and rendered.html.count("&lt;script&gt;") >= 8
    assert 'href="http://portal/p?a=1&amp;b=2"' in rendered.html
    assert rendered.text.count(EVIL) >= 8
    escalation = render_escalation(Escalation(EVIL, EVIL, date(2024, 7, 31), 1, [item], 14, "http://portal"))
    summary = render_summary(Summary("2024年第31周", date(2024, 7, 29),
                                     [SummaryRow(EVIL, {"red": 1}, OverdueCount(1, 1), 0, 0, 1, [EVIL])], [EVIL], 0, "http://portal"))
    for html in (escalation.html, summary.html):
        assert "<script>" not in html and "&lt;script&gt;" in html


def test_message_has_both_parts_decodable_chinese_and_provider_headers():
    rendered = render_digest(Digest("晋城市总工会", date(2024, 7, 31), {"overdue": [_item()]}, "http://p"))
    raw = build_message(sender="kpiwatch 绩效监控 <kpiwatch@jc.example.org>", recipients=["工会 <a@example.org>"],
                        subject=rendered.subject, text=rendered.text, html=rendered.html,
                        date=datetime(2024, 7, 31, 8, 30, tzinfo=SHANGHAI),
                        list_unsubscribe="<mailto:admin@example.org>")
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split("\r\n"))
    message = _parse(raw)
    assert message["Subject"] == "【绩效提醒】晋城市总工会：1项逾期"
    assert message["From"].addresses[0].display_name == "kpiwatch 绩效监控"
    assert message["Date"].datetime == datetime(2024, 7, 31, 8, 30, tzinfo=SHANGHAI)
    assert message["Message-ID"].endswith("@jc.example.org>")
    assert (message["Auto-Submitted"], message["Content-Language"]) == ("auto-generated", "zh-CN")
    assert message["List-Unsubscribe"] == "<mailto:admin@example.org>"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "已逾期（1项）" in plain and "截止7月25日应完成12场，实际5场" in plain
    assert "已逾期（1项）" in html and 'lang="zh-CN"' in html and "style=" in html and "<style" not in html


def test_attachments_keep_chinese_filenames_and_bytes():
    raw = build_message(sender="k@example.org", recipients=["a@example.org"], subject="监控表草稿", text="见附件",
                        html="<p>见附件</p>", date=datetime(2024, 8, 24, tzinfo=SHANGHAI),
                        attachments=[Attachment("2024-监控表.xlsx", b"PK\x03\x04\x00\xff", "application/vnd.ms-excel")])
    message = _parse(raw)
    assert message.get_content_type() == "multipart/mixed"
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "2024-监控表.xlsx" and attachment.get_content() == b"PK\x03\x04\x00\xff"
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "见附件"


@pytest.mark.parametrize("field", ["subject", "sender", "recipient"])
def test_line_breaks_in_names_cannot_add_headers(field):
    values = {"subject": "提醒", "sender": "kpiwatch <k@example.org>", "recipient": "a@example.org"}
    values[field] = values[field].replace("<", "\r\nBcc: evil@example.com\r\n<") if field == "sender" else \
        values[field] + "\r\nBcc: evil@example.com"
    try:
        raw = build_message(sender=values["sender"], recipients=[values["recipient"]], subject=values["subject"],
                            text="x", html=None, date=datetime(2024, 7, 31, tzinfo=SHANGHAI))
    except ValueError:
        return  # refusing is as good as neutralising
    assert _parse(raw)["Bcc"] is None
    assert "\r\nBcc:" not in raw


def test_overdue_is_said_as_items_and_the_periods_they_stand_for():
    from rules.formatting import count_overdue

    assert str(count_overdue(["电费"] * 6 + ["总结"])) == "2项逾期（共7期）"
    assert str(count_overdue(["电费", "总结"])) == "2项逾期"
    assert str(count_overdue([])) == ""
