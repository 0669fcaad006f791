"""One language at a time: every page, walked by link from the home pages as the bureau's admin and auditor, a
department's clerk and head, reads wholly in Chinese by default and wholly in English when chosen.

Data is not interface: the names, targets and units that departments and their documents wrote stay as written on
the English pages; so do codes and the product's name. The reasons the evaluation gives for each light, and the
target grammar's notes on a 指标值 (why it could not read it), are interface: an English page says them in English.
A text marked `lang="zh-CN"` is quoted as written, except on the report pages: the official tables are shown in
the page's language (only their downloads are the Chinese documents), so nothing there is excused by a mark.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from monitor.progress import adjustments
from monitor.rounds import service
from monitor.store.models import Department, Indicator, Project, TargetAdjustment, User
from monitor.web.app import create_app
from tests.page_walk import Page, read_page, walk
from tests.rounds_world import PASSWORD, TODAY, RoundWorld, build_round_world, user

CJK = re.compile(r"[\u3400-\u9fff]")  # ideographs: words (full-width punctuation on English pages is not checked)
WORD = re.compile(r"[A-Za-z]{2,}")
ROLES = ("bureau", "auditor", "clerk_144", "head_144")
STARTS = ("/", "/account", "/reports", "/rounds")
NOTHING_QUOTED = "/reports"  # pages whose every text is the page's language, marked with another or not
# Words that are the same in both languages: formats, the product, units and codes.
EVERY_LANGUAGE = ("kpiwatch", "Excel", "PDF", "CSV", "JSON", "API", "xlsx", "csv", "YYYY-MM-DD", "Bearer", "token",
                  "万元", "元", "％",
                  "testclient")  # the test client's address, as a sign-in's audit event records it


def _data(engine) -> list[str]:
    """What the store holds as written: names, targets, units; longest first."""
    with Session(engine) as s:
        words: set[str] = set()
        for d in s.exec(select(Department)):
            words |= {d.name, d.code}
        for p in s.exec(select(Project)):
            words |= {p.name, *(v for v in vars(p).values() if isinstance(v, str))}
        for i in s.exec(select(Indicator)):
            words |= {i.level1, i.level2, i.name, i.value_text, i.unit or ""}
        for a in s.exec(select(TargetAdjustment)):
            words |= {a.value_text, a.previous_text or "", a.reason}
        for u in s.exec(select(User)):
            words |= {u.username, u.display_name or ""}
    return sorted((w for w in words | set(EVERY_LANGUAGE) if w and len(w) > 0), key=len, reverse=True)


def _world(engine, db_url) -> RoundWorld:
    """The rounds' year, with a proposed target the grammar cannot read on the project the walk visits."""
    world = build_round_world(engine, db_url)
    with Session(engine) as s:
        service.open_round(s, user(s, "bureau"), kind="monitor", year=2024, through_month=7, due=date(2024, 8, 31))
        adjustments.request_adjustment(s, user(s, "clerk_144"), world.reported, text="95%-90%", reason="上级调整",
                                       effective_on=date(2024, 8, 10), channel="portal", today=TODAY)
        s.commit()
    return world


def _unreadable_targets(engine) -> list[str]:
    """The project pages holding a 指标值 the grammar could not read: each shows the grammar's note."""
    with Session(engine) as s:
        ids = s.exec(select(Indicator.project_id).where(Indicator.kind == "unparsed").distinct()).all()
    return [f"/projects/{i}" for i in sorted(ids)]


def _signed_in(engine, world: RoundWorld, username: str, lang: str) -> TestClient:
    app = create_app(world.settings, engine)
    app.state.clock = lambda: TODAY
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD, "next": "/", "csrf_token": token})
    client.get(f"/account?lang={lang}")
    return client


def _other_language(pages: dict[str, Page], data: list[str], lang: str) -> dict[str, list[str]]:
    known = re.compile("|".join(re.escape(w) for w in data))
    exact = set(data)
    wrong = CJK if lang == "en" else WORD
    found: dict[str, list[str]] = {}
    for url, page in pages.items():
        assert page.lang.startswith("en" if lang == "en" else "zh"), url
        texts = set(page.texts) | (set(page.quoted) if url.startswith(NOTHING_QUOTED) else set())
        bad = sorted({text for text in texts if text not in exact and wrong.search(text)
                      and wrong.search(known.sub(" ", text)) and not _shortened(text, data)})
        if bad:
            found[url] = bad
    return found


def _shortened(text: str, data: list[str]) -> bool:
    """A name cut short to fit (a chart's label, "晋城市人力资源…") is still the name."""
    return text.endswith("…") and any(word.startswith(text[:-1]) for word in data)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_reads_in_one_language(engine, db_url, lang):
    world = _world(engine, db_url)
    data = _data(engine)
    mixed = {}
    for username in ROLES:
        client = _signed_in(engine, world, username, lang)
        pages = walk(client, STARTS)
        assert len(pages) > 5, username
        pages |= {url: read_page(client.get(url).text) for url in _unreadable_targets(engine)}
        mixed |= {f"{username} {url}": texts for url, texts in _other_language(pages, data, lang).items()}
    by_text: dict[str, list[str]] = {}
    for where, texts in mixed.items():
        for text in texts:
            by_text.setdefault(text[:160], []).append(where)
    assert not by_text, "\n".join(f"{text!r} on {', '.join(pages[:3])}" for text, pages in sorted(by_text.items()))
