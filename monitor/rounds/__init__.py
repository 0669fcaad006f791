"""The bureau's rounds (监控任务 / 自评任务): open a round, one task per department; the clerk fills what only a
person can write, the head (负责人) submits a frozen version, the bureau reviews (通过 / 退回) and closes.

`service` holds every step, so the portal, the API, the CLI and the demo refuse and record alike; `focus` picks
the 重点监控 projects from the evaluation's stored states; `documents` produces a version's frozen document.
"""

from monitor.rounds.service import (
    RoundError,
    close_round,
    fill_indicator,
    open_round,
    review_task,
    round_status,
    submit_task,
)

__all__ = ["RoundError", "close_round", "fill_indicator", "open_round", "review_task", "round_status",
           "submit_task"]
