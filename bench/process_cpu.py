"""The CPU a local process has used, read from /proc: the benchmarks add the PostgreSQL server's and the API
server's processes to their own, since on a shared machine CPU time holds still where wall time does not."""

from __future__ import annotations

import os
from pathlib import Path


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a local process has used so far; 0 if it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
