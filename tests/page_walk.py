"""Walking the portal as a person does: from the home pages, every link once per kind of page, as HTML text.

Used by the one-language and the form-label tests, so a page added later joins them by being linked, with no
list of routes to keep up to date. Downloads (Excel, CSV, PDF), the API and static files are not pages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi.testclient import TestClient

NOT_PAGES = re.compile(r"^/(api|static|metrics|healthz|readyz|notify/ack)|\.(xlsx|csv|pdf|css|docx|html)$|/logout")
PER_KIND = 1  # pages of one kind (the same path with other ids) that are visited
HIDDEN = {"script", "style", "template"}
CODE = {"code", "kbd", "samp"}  # what a person types or copies: codes, not words of either language
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Field:
    """A form field as the label check needs it."""

    tag: str
    type: str
    id: str | None
    name: str | None
    labelled: bool  # inside a <label>, or with aria-label / aria-labelledby / title


@dataclass
class Page(HTMLParser):
    """One page's visible text (text nodes and the attributes a reader sees) and its links and form fields."""

    lang: str = ""  # the page's <html lang>
    texts: list[str] = field(default_factory=list)  # in the page's language: not in <code>, nor in a part marked
    # with another lang (a link to the other language, a text quoted as written in Chinese)
    quoted: list[str] = field(default_factory=list)  # what only such a quoting mark kept out of `texts`; the
    # link to the page in the other language (hreflang) is not quoting
    links: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    _hidden: int = 0
    _quoting: int = 0
    _labels: int = 0
    _open: list[tuple[str, bool, bool]] = field(default_factory=list)  # open elements: tag, whether it hides
    # text, whether it quotes another language

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = values.get("lang", "")
        elif tag not in VOID:
            other = bool(values.get("lang")) and values["lang"][:2] != self.lang[:2]
            quotes = other and not values.get("hreflang")
            hides = tag in HIDDEN or tag in CODE or other
            self._open.append((tag, hides, quotes))
            self._hidden += hides
            self._quoting += quotes
        if tag == "label":
            self._labels += 1
            if values.get("for"):
                self.label_for.add(values["for"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        for name in SHOWN_ATTRIBUTES:
            if values.get(name) and not self._hidden:
                self.texts.append(values[name])
            elif values.get(name) and self._quoting and self._hidden == self._quoting:
                self.quoted.append(values[name])
        kind = values.get("type", "text")
        if tag == "input" and kind in ("submit", "button") and values.get("value") and not self._hidden:
            self.texts.append(values["value"])
        if tag in ("input", "select", "textarea") and kind not in ("hidden", "submit", "button", "reset"):
            self.fields.append(Field(tag, kind, values.get("id"), values.get("name"), self._labels > 0 or any(
                values.get(a) for a in ("aria-label", "aria-labelledby", "title"))))

    def handle_endtag(self, tag: str) -> None:
        if tag != "html" and tag not in VOID and any(t == tag for t, _, _ in self._open):
            while self._open:
                opened, hides, quotes = self._open.pop()
                self._hidden -= hides
                self._quoting -= quotes
                if opened == tag:
                    break
        if tag == "label":
            self._labels = max(0, self._labels - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())
        elif data.strip() and self._quoting and self._hidden == self._quoting:
            self.quoted.append(data.strip())

    def unlabelled(self) -> list[Field]:
        return [f for f in self.fields if not f.labelled and not (f.id and f.id in self.label_for)]


def read_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def _kind(url: str) -> str:
    """A page's kind: its path with the ids left out (the same page for another project, year or filter)."""
    return re.sub(r"\d+", "#", urlsplit(url).path)


def _without_lang(url: str) -> str:
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "lang"])
    return parts.path + (f"?{query}" if query else "")


def walk(client: TestClient, starts: Iterable[str] = ("/",)) -> dict[str, Page]:
    """Every page reachable by links from `starts`, at most PER_KIND of each kind, read; a page that does not
    answer 200 fails the walk (a broken link is a broken page)."""
    queue, seen, kinds = list(starts), set(), Counter[str]()
    pages: dict[str, Page] = {}
    while queue:
        url = _without_lang(queue.pop(0))
        if url in seen or NOT_PAGES.search(urlsplit(url).path) or kinds[_kind(url)] >= PER_KIND:
            continue
        seen.add(url)
        kinds[_kind(url)] += 1
        answer = client.get(url)
        assert answer.status_code == 200, f"{url} answered {answer.status_code}"
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        query = answer.url.query.decode() if isinstance(answer.url.query, bytes) else answer.url.query
        page = pages[answer.url.path + (f"?{query}" if query else "")] = read_page(answer.text)
        for href in page.links:
            target = urlsplit(href)
            if target.scheme or target.netloc or not target.path.startswith("/"):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return pages
