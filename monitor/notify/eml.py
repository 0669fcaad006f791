"""Dry runs and the demo: messages as .eml files anyone can open in a mail client."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from monitor.notify.outbox import NewMessage, _attachment
from monitor.store.types import now
from notifications.mime import build_message


def write_eml(directory: Path, messages: Iterable[NewMessage], *, sender: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    at = now()
    for index, message in enumerate(messages, 1):
        email = build_message(sender=sender, recipients=message.recipients, subject=message.subject, text=message.text,
                              html=message.html, date=at, attachments=[_attachment(a) for a in message.attachments])
        name = re.sub(r"[^\w.@-]+", "_", f"{index:03d}_{message.kind}_{message.recipients[0]}")[:120]
        path = directory / f"{name}.eml"
        path.write_bytes(email.encode("utf-8"))
        paths.append(path)
    return paths
