"""A job for the scheduler tests: slow enough that replicas overlap, and it says which process ran it."""

import os
import time


def tick(ctx) -> dict:
    time.sleep(0.3)
    return {"pid": os.getpid(), "as_of": ctx.as_of.isoformat()}


def boom(ctx) -> dict:
    raise RuntimeError("探针故障")


def slow(ctx) -> dict:
    time.sleep(float(os.environ.get("KPIWATCH_PROBE_SECONDS", "1")))
    return {"pid": os.getpid()}


def first_attempt_hangs(ctx) -> dict:
    """Notes each attempt in the marker file; the first one hangs (until its process is killed), later ones end."""
    marker = os.environ["KPIWATCH_PROBE_MARKER"]
    attempts = open(marker, encoding="utf-8").read().split() if os.path.exists(marker) else []
    attempt = len(attempts) + 1
    with open(marker, "a", encoding="utf-8") as out:
        out.write(f"{attempt}\n")
    if attempt == 1:
        time.sleep(120)
    return {"attempt": attempt}
