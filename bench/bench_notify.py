"""Notifications benchmark (issue 6): digests rendered, queued in the outbox and delivered, against a bare
aiosmtplib loop sending the same pre-rendered messages over the same number of connections.

    .venv/bin/python bench/bench_notify.py [--count 10000] [--connections 4] [--repeat N]
                                           [--db sqlite|postgresql|sqlite,postgresql]

The SMTP sink (aiosmtpd, accepting and discarding) runs in its own process so it does not share the
sender's interpreter. Target: kpiwatch's rate ≥ 0.5 × the bare loop's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from sqlalchemy import text
from sqlmodel import Session

from monitor.config import Config
from monitor.notify.outbox import NewMessage, enqueue_many
from monitor.notify.sender import send_pending
from monitor.store.db import make_engine
from monitor.store.migrate import upgrade
from notifications.render import render_digest
from notifications.smtp import SmtpSettings
from notifications.views import Digest, Item

SENDER = "kpiwatch <kpiwatch@example.org>"
CPU: dict[str, float] = {}  # this process's CPU seconds: both bare loops, and kpiwatch's send phase


def _sink(port: int, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    class Discard:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Discard.count += 1
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(i: int) -> Digest:
    day = date(2024, 7, 31)
    link = f"http://127.0.0.1:8000/projects/{i}"
    items = {
        "overdue": [Item(f"项目{i}-{k}", f"指标{k}：完成培训人次", "≥1000人次", f"{300 + k}人次",
                         f"截止{day - timedelta(days=k + 3)}应完成，实际{300 + k}人次", link,
                         due=day - timedelta(days=k + 3), days_overdue=k + 3, ack_link=f"{link}/ack",
                         note="第2次提醒" if k else "")
                    for k in range(2)],
        "due_soon": [Item(f"项目{i}-{k}", f"指标{k}：年度总结报送", "8月7日前完成", "未填报", "尚未到期", link,
                          due=day + timedelta(days=7), days_left=7, ack_link=f"{link}/ack") for k in range(3)],
        "behind": [Item(f"项目{i}", "补贴发放人数", "≥500人", "150人", "完成率43%，低于序时进度58%", link)],
        "no_report": [Item(f"项目{i}", "满意度", "≥90%", "未填报", "尚未填报", link)],
    }
    return Digest(f"部门{i:05d}", day, items, "http://127.0.0.1:8000")


def _bare(port: int, payloads: list[bytes], connections: int) -> float:
    async def main() -> None:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for data in payloads:
            queue.put_nowait(data)

        async def worker() -> None:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
            await client.connect()
            while not queue.empty():
                data = queue.get_nowait()
                await client.sendmail("kpiwatch@example.org", ["dept@example.org"], data)
            await client.quit()

        await asyncio.gather(*(worker() for _ in range(connections)))

    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(main())
    CPU["bare"] = CPU.get("bare", 0.0) + time.process_time() - cpu
    return time.perf_counter() - started


def _kpiwatch(port: int, count: int, connections: int, url: str) -> tuple[float, float, dict]:
    engine = make_engine(url)
    config = Config(smtp=SmtpSettings(port=port, sender=SENDER, max_connections=connections, batch_size=100))
    started = time.perf_counter()
    chunk = 500
    for first in range(0, count, chunk):
        messages = []
        for i in range(first, min(count, first + chunk)):
            rendered = render_digest(_digest(i))
            messages.append(NewMessage(f"digest|d{i}@example.org|D{i:05d}|2024-07-31", [f"d{i}@example.org"],
                                       rendered.subject, rendered.text, rendered.html, kind="digest",
                                       period="2024-07-31"))
        with Session(engine) as session:
            enqueue_many(session, messages, sender=SENDER)
            session.commit()
    queued, cpu = time.perf_counter(), time.process_time()
    stats = send_pending(engine, config)
    finished = time.perf_counter()
    CPU["send"] = time.process_time() - cpu
    with engine.connect() as connection:
        sent = connection.execute(text("SELECT COUNT(*) FROM outboxmessage WHERE status = 'sent'")).scalar_one()
    engine.dispose()
    return queued - started, finished - started, {"sent": sent, **stats.as_dict()}


def _payloads(count: int) -> list[bytes]:
    from monitor.notify.outbox import _row
    from monitor.store.types import now

    at = now()
    out = []
    for i in range(count):
        rendered = render_digest(_digest(i))
        row = _row(NewMessage(f"k{i}", [f"d{i}@example.org"], rendered.subject, rendered.text, rendered.html),
                   SENDER, at, "")
        out.append(row["raw"].encode("utf-8"))
    return out


def _run(port: int, payloads: list[bytes], args: argparse.Namespace, db: str) -> float:
    """One run on `db`: the bare loop, kpiwatch on a new store, the bare loop again; kpiwatch's ratio."""
    bare_before = _bare(port, payloads, args.connections)
    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            url = f"sqlite:///{tmp}/bench.sqlite"
            drop = None
        else:
            from tests.conftest import create_database

            url, drop = create_database("postgresql", Path(tmp))
        upgrade(url)
        try:
            queue_time, total, stats = _kpiwatch(port, args.count, args.connections, url)
        finally:
            if drop:
                drop()
    bare_after = _bare(port, payloads, args.connections)  # bracket: the machine is shared, loads drift
    bare = (bare_before + bare_after) / 2
    bare_rate = args.count / bare
    ours_rate = args.count / total
    print(f"db: {db}")
    print(f"bare aiosmtplib loop (pre-rendered):          {bare:7.2f} s  {bare_rate:8.0f} msg/s "
          f"(mean of {bare_before:.2f} s before and {bare_after:.2f} s after)")
    print(f"kpiwatch render+outbox+send:                  {total:7.2f} s  {ours_rate:8.0f} msg/s "
          f"(render+queue {queue_time:.2f} s, send {total - queue_time:.2f} s)")
    print(f"ratio kpiwatch / bare: {ours_rate / bare_rate:.2f} (target ≥ 0.50)  {stats}")
    print(f"this process's CPU per message: bare loop {1000 * CPU.pop('bare') / (2 * args.count):.2f} ms, kpiwatch's "
          f"send phase {1000 * CPU['send'] / args.count:.2f} ms (load {os.getloadavg()[0]:.1f})")
    if stats["sent"] != args.count:
        raise SystemExit(f"only {stats['sent']} of {args.count} messages were marked sent")
    return ours_rate / bare_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--db", default="sqlite",
                        help="sqlite, postgresql, or both separated by a comma: run alternately, store by store")
    parser.add_argument("--repeat", type=int, default=1, help="runs on each store")
    args = parser.parse_args()
    stores = args.db.split(",")
    if not set(stores) <= {"sqlite", "postgresql"}:
        parser.error("--db: sqlite, postgresql or sqlite,postgresql")

    port = _free_port()
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, ready, stop), daemon=True)
    sink.start()
    ready.wait(30)
    ratios: dict[str, list[float]] = {db: [] for db in stores}
    try:
        payloads = _payloads(args.count)
        size = sum(map(len, payloads)) / len(payloads)
        print(f"messages: {args.count}, average size {size / 1024:.1f} KiB, connections: {args.connections}, "
              f"cpus: {os.cpu_count()}")
        for _ in range(args.repeat):
            for db in stores:
                ratios[db].append(_run(port, payloads, args, db))
    finally:
        stop.set()
        sink.join(10)
    if args.repeat > 1 or len(stores) > 1:
        for db, found in ratios.items():
            print(f"{db}: ratios {', '.join(f'{r:.2f}' for r in found)}; median {statistics.median(found):.2f}, "
                  f"{sum(r < 0.5 for r in found)} of {len(found)} below 0.50")


if __name__ == "__main__":
    main()
