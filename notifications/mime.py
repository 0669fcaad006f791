"""Turn rendered text and HTML into one standards-conforming email, with the headers providers expect.

A message is built once, when it enters the outbox, and its exact bytes are kept: a resend after a crash
is then the same message with the same Message-ID, which lets mail clients fold the duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def one_line(text: str) -> str:
    """Header text on a single line: user-supplied names must never inject another header."""
    return " ".join(str(text).split())


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def build_message(*, sender: str, recipients: Sequence[str], subject: str, text: str, html: str | None,
                  date: datetime, message_id: str | None = None, attachments: Sequence[Attachment] = (),
                  language: str = "zh-CN", list_unsubscribe: str = "",
                  extra_headers: dict[str, str] | None = None) -> EmailMessage:
    """multipart/alternative (plain text first, HTML preferred), plus attachments as multipart/mixed."""
    if date.tzinfo is None:
        raise ValueError("Date header needs a timezone-aware datetime")
    for address in recipients:
        if not parseaddr(address)[1] or "\n" in address or "\r" in address:
            raise ValueError(f"invalid recipient address: {address!r}")
    message = EmailMessage(policy=SMTP)
    message["From"] = one_line(sender)
    message["To"] = ", ".join(one_line(r) for r in recipients)
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain(sender))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    if list_unsubscribe:
        message["List-Unsubscribe"] = one_line(list_unsubscribe)
    for name, value in (extra_headers or {}).items():
        message[name] = one_line(value)
    message.set_content(text, charset="utf-8", cte="base64")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    message["Content-Language"] = language  # after the body: set_content() drops Content-* headers
    return message


def envelope_recipients(message: EmailMessage) -> list[str]:
    return [address for _name, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]


def display_address(name: str, email: str) -> str:
    """`Name <email>` with the name encoded as needed (Chinese names included)."""
    local, _, domain = email.partition("@")
    return str(Address(display_name=one_line(name), username=local, domain=domain))
