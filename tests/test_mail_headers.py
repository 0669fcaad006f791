"""Headers every mail client reads: Subject and address lines within 78 columns with every RFC 2047 encoded word
within 75 (the header name counted on the first line), and attachment names that readers with and without
RFC 2231 both decode, with the attachment's bytes unchanged.

Each message is built, written out as the raw text an SMTP server receives, and parsed back with the
standard library; the fallback parameters are also decoded the way a reader that knows only RFC 2047 would."""

from __future__ import annotations

import email
import re
from datetime import date, datetime
from email.header import decode_header, make_header
from email.policy import compat32, default
from email.utils import getaddresses
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.mime import Attachment, build_message, one_line
from notifications.render import render_digest, render_escalation, render_summary
from notifications.views import Digest, Escalation, Item, Summary, SummaryRow
from rules.calendar import SHANGHAI
from rules.formatting import OverdueCount

WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
AT = datetime(2024, 7, 31, 8, 30, tzinfo=SHANGHAI)
LONG_DEPARTMENT = "晋城市人力资源和社会保障局就业服务中心（晋城市人才交流服务中心）"


def _item(n: int) -> Item:
    return Item("就业见习补贴项目", f"见习岗位数量{n}", "≥100个", "40个", "截止7月应完成58个", "http://portal/projects/1")


def _items(n: int) -> list[Item]:
    return [_item(i) for i in range(n)]


def realistic_subjects() -> list[str]:
    """Subjects kpiwatch sends, rendered by its own templates with the longest names of the city's departments."""
    digest = Digest(LONG_DEPARTMENT, date(2024, 7, 31),
                    {"overdue": _items(12), "due_soon": _items(3), "behind": _items(2), "no_report": _items(27),
                     "done": _items(5)}, "http://p", catch_up_from=date(2024, 7, 20))
    escalation = Escalation(LONG_DEPARTMENT, "晋城市人力资源和社会保障局", date(2024, 7, 31), 2, _items(14), 14,
                            "http://p")
    rows = [SummaryRow(f"部门{i}", {"red": 1}, OverdueCount(1, 1), 0, 0, 1, []) for i in range(48)]
    summary = Summary("2024年第31周", date(2024, 7, 29), rows, ["邮件发送最近一次成功是2024-07-28 08:30"], 3, "http://p")
    return [
        render_digest(digest).subject,
        render_digest(Digest("晋城市总工会", date(2024, 7, 31), {"overdue": _items(2)}, "http://p")).subject,
        render_escalation(escalation).subject,
        render_summary(summary).subject,
        f"【kpiwatch】2024年度绩效运行监控表草稿 — {LONG_DEPARTMENT}",
        "【kpiwatch】2023年度绩效自评表草稿 — 财政局（全部部门）",
        "【kpiwatch告警】3封邮件投递失败",
    ]


def _raw(**overrides) -> str:
    values = dict(sender="kpiwatch <kpiwatch@jc.example.org>", recipients=["perf@czj.example.org"], subject="提醒",
                  text="正文", html="<p>正文</p>", date=AT)
    values.update(overrides)
    return build_message(**values)


def _header_lines(raw: str, name: str) -> list[str]:
    """The physical lines of header `name` in a raw message: its first line and the folded ones after it."""
    head = raw.split("\r\n\r\n", 1)[0].split("\r\n")
    start = next(i for i, line in enumerate(head) if line.lower().startswith(name.lower() + ":"))
    lines = [head[start]]
    for line in head[start + 1:]:
        if not line[:1].isspace():
            break
        lines.append(line)
    return lines


def assert_folded_within_limits(lines: list[str]) -> None:
    for line in lines:
        assert len(line) <= 78, line
        words = WORD.findall(line)
        if words:
            assert len(line) <= 76, line
            assert max(map(len, words)) <= 75, line


@pytest.mark.parametrize("subject", realistic_subjects())
def test_real_subjects_fit_every_line_and_word_and_decode_to_the_same_text(subject):
    raw = _raw(subject=subject)
    lines = _header_lines(raw, "Subject")
    assert_folded_within_limits(lines)
    assert WORD.search(lines[0]) and lines[0].startswith("Subject: =?utf-8?b?")
    assert email.message_from_string(raw, policy=default)["Subject"] == subject
    legacy = email.message_from_string(raw, policy=compat32)["Subject"]
    assert str(make_header(decode_header(legacy))) == subject


def test_the_first_encoded_word_counts_the_header_name():
    """The case the issue measured: the first word was 76 characters and the line 85."""
    subject = realistic_subjects()[0]
    first = _header_lines(_raw(subject=subject), "Subject")[0]
    assert len(first) <= 76 and len(WORD.findall(first)[0]) <= 75
    assert len(first) - len("Subject: ") == len(WORD.findall(first)[0])


def test_a_pathological_subject_folds_into_many_short_lines():
    subject = ("【绩效提醒】" + "晋城市财政局预算绩效管理科关于" * 30
               + " mixed ASCII words, 😀 and a very-long-ascii-token-" + "x" * 120)
    raw = _raw(subject=subject)
    lines = _header_lines(raw, "Subject")
    assert len(lines) > 20
    assert_folded_within_limits(lines)
    assert email.message_from_string(raw, policy=default)["Subject"] == subject


@pytest.mark.parametrize("subject", [
    "Digest for ZGH: 2 overdue, 3 due within 7 days, 1 behind schedule, 4 unreported, 2 done (catch-up)",
    "An ASCII subject that looks like =?utf-8?q?an_encoded_word?= but is not one",
    "x" * 120,
])
def test_ascii_subjects_fold_at_spaces_or_are_encoded_when_they_cannot(subject):
    raw = _raw(subject=subject)
    lines = _header_lines(raw, "Subject")
    assert_folded_within_limits(lines)
    assert email.message_from_string(raw, policy=default)["Subject"] == subject
    if " " in subject and "=?" not in subject:
        assert not WORD.search(raw.split("\r\n\r\n")[0].split("Subject:")[1]), "plain ASCII stays readable"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=300), st.sampled_from(["Subject", "X-Kpiwatch-Department-Name"]))
def test_any_text_round_trips_within_the_limits(text, name):
    if name == "Subject":
        raw = _raw(subject=text)
    else:
        raw = _raw(extra_headers={name: text})
    assert raw.isascii()
    assert_folded_within_limits(_header_lines(raw, name))
    assert str(email.message_from_string(raw, policy=default)[name]) == one_line(text)


def test_long_chinese_display_names_fold_in_from_and_to():
    """Names too long for one encoded word become several. RFC 2047 §6.2 has readers drop the space between
    adjacent words, as Outlook, Thunderbird and `email.header.decode_header` do; Python's newer parser kept it
    in display names until CPython gh-128110, so that parser is checked with spaces ignored."""
    sender, head = f"{LONG_DEPARTMENT}绩效管理科", f"{LONG_DEPARTMENT}负责人"
    raw = _raw(sender=f"{sender} <kpiwatch@jc.example.org>",
               recipients=[f"{head} <head@jyzx.example.org>", "clerk@jyzx.example.org", "工会 <perf@zgh.example.org>"])
    for name in ("From", "To"):
        assert_folded_within_limits(_header_lines(raw, name))
    legacy = email.message_from_string(raw, policy=compat32)
    assert [(str(make_header(decode_header(n))), a) for n, a in getaddresses([legacy["From"], legacy["To"]])] == [
        (sender, "kpiwatch@jc.example.org"), (head, "head@jyzx.example.org"), ("", "clerk@jyzx.example.org"),
        ("工会", "perf@zgh.example.org")]
    message = email.message_from_string(raw, policy=default)
    assert message["From"].addresses[0].display_name.replace(" ", "") == sender
    assert [(a.display_name.replace(" ", ""), a.addr_spec) for a in message["To"].addresses] == [
        (head, "head@jyzx.example.org"), ("", "clerk@jyzx.example.org"), ("工会", "perf@zgh.example.org")]


# ---- attachments ----

EVERY_BYTE = bytes(range(256)) * 40
FILENAMES = [
    "2024-绩效运行监控表(草稿)-JYZX.xlsx",
    "2024-各部门自评排名.xlsx",
    f"2024年度项目支出绩效目标执行监控表（草稿）-{LONG_DEPARTMENT}-就业见习补贴项目.pdf",
    "monitoring-2024.pdf",
    'odd "quoted" name; with=signs.csv',
    "looks like =?utf-8?b?5pmL?= but is ascii.txt",
]


def _attachment_parts(raw: str) -> list[email.message.Message]:
    return [p for p in email.message_from_string(raw, policy=default).iter_attachments()]


def _part_headers(raw: str, index: int) -> str:
    """The raw header block of the index-th attachment part."""
    boundary = re.search(r'boundary="([^"]+)"', raw).group(1)
    parts = raw.split(f"--{boundary}")[2:-1]
    return parts[index].split("\r\n\r\n", 1)[0]


def _rfc2047_only(value: str) -> str:
    """What a reader without RFC 2231 (older Outlook, several webmails) makes of a quoted parameter."""
    return str(make_header(decode_header(" ".join(value.split()))))


def _rfc2231_only(headers: str) -> str:
    """What a reader that takes only the RFC 2231 `filename*` parameter makes of it."""
    pieces = re.findall(r"filename\*(?:(\d+)\*|)=([^;\s]+)", headers)
    joined = "".join(value for _n, value in sorted(pieces, key=lambda p: int(p[0] or 0)))
    charset, _language, encoded = joined.split("'", 2)
    assert charset == "utf-8"
    return unquote(encoded, encoding="utf-8")


@pytest.mark.parametrize("filename", FILENAMES)
def test_attachment_names_reach_readers_with_and_without_rfc2231(filename):
    raw = _raw(attachments=[Attachment(filename, EVERY_BYTE, "application/vnd.openxmlformats-officedocument."
                                                              "spreadsheetml.sheet")])
    (part,) = _attachment_parts(raw)
    assert part.get_filename() == filename
    assert part["Content-Type"].params["name"] == filename
    assert part.get_content() == EVERY_BYTE
    headers = _part_headers(raw, 0)
    for line in headers.split("\r\n"):
        if WORD.search(line):
            assert len(line) <= 76 and max(map(len, WORD.findall(line))) <= 75, line
    legacy = email.message_from_string(raw, policy=compat32).get_payload()[1]
    name, fallback = legacy.get_param("name"), legacy.get_param("filename", header="content-disposition")
    if filename.isascii() and "=?" not in filename:
        assert (name, fallback) == (filename, filename) and "filename*" not in headers
        return
    assert re.search(r'\bname="=\?utf-8\?[bq]\?', headers) and re.search(r'\bfilename="=\?utf-8\?[bq]\?', headers)
    assert _rfc2047_only(name) == filename and _rfc2047_only(fallback) == filename
    assert _rfc2231_only(headers) == filename


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=120).filter(lambda t: one_line(t)), st.binary(max_size=300))
def test_any_filename_and_bytes_survive(filename, content):
    raw = _raw(attachments=[Attachment(filename, content), Attachment("second.bin", content[::-1])])
    assert raw.isascii()
    first, second = _attachment_parts(raw)
    assert first.get_filename() == one_line(filename) == first["Content-Type"].params["name"]
    assert (first.get_content(), second.get_content(), second.get_filename()) == (content, content[::-1],
                                                                                  "second.bin")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.text(max_size=400))
def test_any_body_is_sent_in_lines_of_76_and_reads_back_as_written(text, html):
    raw = build_message(sender="kpiwatch <k@example.org>", recipients=["d@example.org"], subject="s", text=text,
                        html=html, date=AT)
    body = raw.split("\r\n\r\n", 1)[1]
    assert all(len(line) <= 76 for line in body.split("\r\n"))
    parsed = email.message_from_string(raw, policy=default)
    normalised = text.replace("\r\n", "\n").replace("\n", "\r\n")
    assert parsed.get_body(("plain",)).get_payload(decode=True).decode("utf-8") == normalised
    assert parsed.get_body(("html",)).get_payload(decode=True).decode("utf-8") == html
