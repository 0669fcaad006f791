"""The house convention for a message made once in both languages: "中文说明 (english text)".

Layers below the portal (limits, validation, service refusals) cannot know the reader's language, so they write
both; whoever shows the message picks one side. Kept here, beneath every layer, so the portal's page language and
the importer's refusals split such a message by the one rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The English sits in parentheses at the end and holds no CJK, so a name quoted in Chinese cannot be inside it.
BILINGUAL = re.compile(r"^(?P<zh>.*?[\u4e00-\u9fff].*?)\s*\((?P<en>[^()\u3000-\u9fff\uff00-\uffef]*[A-Za-z]"
                       r"[^()\u3000-\u9fff\uff00-\uffef]*)\)\s*$", re.S)


def sides(text: str) -> tuple[str, str] | None:
    """(Chinese, English) of a "中文 (english)" message, the English capitalised as a sentence; None otherwise."""
    found = BILINGUAL.match(text)
    if found is None:
        return None
    english = found["en"].strip()
    return found["zh"], english[:1].upper() + english[1:]


# A place in a sentence kept in both languages: "{0}", "{day}", with a kind when it takes only one: "{0:date}".
PLACE = re.compile(r"\{(\w+)(?::(\w+))?\}")


def template_pattern(template: str, kinds: Mapping[str | None, str]) -> tuple[re.Pattern[str], int]:
    """`template` as a pattern of the whole sentence it writes, each place a group named "p" + its name that
    matches `kinds[its kind]`, and the count of its fixed characters (a more specific template is preferred).
    Whoever says a sentence written from a Chinese template in English matches it back with this."""
    pieces = PLACE.split(template)  # text, name, kind, text, name, kind, …, text
    texts, names, kinds_of = pieces[::3], pieces[1::3], pieces[2::3]
    pattern = re.escape(texts[0]) + "".join(f"(?P<p{name}>{kinds[kind]}){re.escape(text)}"
                                            for name, kind, text in zip(names, kinds_of, texts[1:], strict=True))
    return re.compile(f"^{pattern}$", re.S), sum(len(text) for text in texts)
