"""Notifications from the store: which items go in whose digest, the outbox that delivers them exactly once
(bar the documented in-flight case), acknowledgements and waivers. Rendering and SMTP live in `notifications/`."""

from monitor.notify.outbox import enqueue

__all__ = ["enqueue"]
