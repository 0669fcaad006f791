"""A job for the scheduler tests: slow enough that replicas overlap, and it says which process ran it."""

import os
import time


def tick(ctx) -> dict:
    time.sleep(0.3)
    return {"pid": os.getpid(), "as_of": ctx.as_of.isoformat()}


def boom(ctx) -> dict:
    raise RuntimeError("探针故障")
