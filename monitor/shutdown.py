"""Stopping gracefully: SIGTERM (what `systemctl stop` sends) asks the process to finish what it is doing.

One latch per process, `STOPPING`. Work that loops over many items (the sender's batches) looks at it between
items: once it is set, the item in hand is finished and recorded, nothing new is started, and what was taken
but not begun is handed back. So a stop never loses a message and never leaves one claimed for a lease's
length. A second signal stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger("kpiwatch.shutdown")

STOPPING = threading.Event()


def request_stop() -> None:
    """Ask everything in this process to finish its current item and stop."""
    if not STOPPING.is_set():
        log.info("stopping: finishing the work in hand, starting nothing new")
    STOPPING.set()


def stopping() -> bool:
    return STOPPING.is_set()


def stop_on_signals(*signals: signal.Signals) -> threading.Event:
    """Make SIGTERM (and `signals`) set the latch instead of killing the process; returns the latch.

    Only the main thread may install handlers; elsewhere (a test calling a command in a thread) nothing changes.
    """
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, *signals):
            signal.signal(signum, _on_signal)
    return STOPPING


_signals_seen: list[int] = []


def _on_signal(signum: int, _frame: object) -> None:
    _signals_seen.append(signum)
    if len(_signals_seen) > 1:  # asked twice: the operator means now
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
        signal.raise_signal(signum)
        return
    request_stop()
