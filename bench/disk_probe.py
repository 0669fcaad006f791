"""How long the disk takes to flush, while a benchmark runs: the tail a database commit waits out.

A commit on PostgreSQL returns once its WAL is flushed (`fdatasync`), so every request in flight waits out the
disk's slowest flushes. `pg_test_fsync` reports a disk's average; this reports the tail, next to a run's
latencies. Run alone, `python bench/disk_probe.py DIR SECONDS` probes DIR (the database's file system).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time

BLOCK = b"\0" * 8192  # one WAL page
SPAN = 16 << 20  # a WAL segment's size, written round and round


class DiskProbe:
    """In a thread: write one 8 KB page and `fdatasync` it every `every` seconds, in a file under `folder`."""

    def __init__(self, folder: str, every: float = 0.01) -> None:
        self.folder, self.every = folder, every
        self.flushes: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="disk-probe", daemon=True)

    def __enter__(self) -> DiskProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        fd, path = tempfile.mkstemp(prefix="disk-probe-", dir=self.folder)
        try:
            os.ftruncate(fd, SPAN)
            os.fsync(fd)
            offset = 0
            while not self._stop.wait(self.every):
                started = time.perf_counter()
                os.pwrite(fd, BLOCK, offset)
                os.fdatasync(fd)
                self.flushes.append(time.perf_counter() - started)
                offset = (offset + len(BLOCK)) % SPAN
        finally:
            os.close(fd)
            os.unlink(path)

    def summary(self) -> str:
        ms = sorted(x * 1000 for x in self.flushes)
        if not ms:
            return "disk: no flush measured"
        slow = sum(x > 100 for x in ms)
        return (f"disk flushes (8 KB + fdatasync in {self.folder}): {len(ms)}, p50 {ms[len(ms) // 2]:.2f} ms, "
                f"p99.9 {ms[int(0.999 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms, {slow} over 100 ms")


if __name__ == "__main__":
    with DiskProbe(sys.argv[1] if len(sys.argv) > 1 else ".") as probe:
        time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 15)
    print(probe.summary())
