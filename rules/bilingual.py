"""The house convention for a message made once in both languages: "中文说明 (english text)".

Layers below the portal (limits, validation, service refusals) cannot know the reader's language, so they write
both; whoever shows the message picks one side. Kept here, beneath every layer, so the portal's page language and
the importer's refusals split such a message by the one rule.
"""

from __future__ import annotations

import re

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
