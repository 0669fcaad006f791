"""SIGTERM (`systemctl stop`) on a real `kpiwatch serve` and `kpiwatch scheduler` while a message is being sent and
(for serve) a request is half-way through: the request is answered, the message is completed and marked sent, the
others the sender had taken go straight back to the queue, nothing is lost and nothing is sent twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.notify.outbox import NewMessage, enqueue_many
from monitor.scheduler.jobs import JOBS
from monitor.store.models.notify import OutboxMessage
from tests.deploy_support import wait_for_port
from tests.test_notify_support import Sink, SinkHandler, free_port

KPIWATCH = str(Path(sys.executable).with_name("kpiwatch"))
SENDER = "kpiwatch <kpiwatch@example.org>"


@dataclass
class SlowHandler(SinkHandler):
    """Takes `delay` seconds over each message's DATA and says when the first one has begun."""

    receiving: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()
        return await super().handle_DATA(server, session, envelope)


def config_file(tmp_path: Path, smtp_port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[portal]
shutdown_grace_seconds = 20
[logging]
format = "json"
[smtp]
port = {smtp_port}
sender = "{SENDER}"
max_connections = 1
batch_size = 10
claim_timeout_seconds = 300
[scheduler.cron]
{"".join(f'{spec.name} = ""{chr(10)}' for spec in JOBS if spec.name != "send")}send = "* * * * * *"
""", encoding="utf-8")
    return path


def fill(engine, count: int) -> None:
    with Session(engine) as session:
        enqueue_many(session, [NewMessage(f"digest|d{i}@example.org|2024-07-31", [f"d{i}@example.org"], f"提醒{i}",
                                          f"第{i}封", kind="digest", period="2024-07-31") for i in range(count)],
                     sender=SENDER)
        session.commit()


def rows(engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


class HalfSentRequest:
    """A POST whose headers are sent now and whose body only when `finish` is called: in flight meanwhile."""

    BODY = b"username=x&password=y"

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/x-www-form-urlencoded\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(self.BODY) + self.BODY[:5])

    def finish(self) -> bytes:
        self.sock.sendall(self.BODY[5:])
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := self.sock.recv(65536)):
            answer += chunk
        self.sock.close()
        return answer


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_sigterm_finishes_the_request_and_the_message_in_hand_and_loses_nothing(engine, db_url, tmp_path, command):
    sink = Sink()
    sink.handler = SlowHandler(delay=2.0)
    sink.start()
    port = free_port()
    env = {**os.environ, "KPIWATCH_CONFIG": str(config_file(tmp_path, sink.port)), "KPIWATCH_DATABASE_URL": db_url,
           "KPIWATCH_SECRET_KEY": "graceful"}
    args = [KPIWATCH, "serve", "--port", str(port)] if command == "serve" else [KPIWATCH, "scheduler"]
    try:
        fill(engine, 4)
        process = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            if command == "serve":
                wait_for_port(port, process, timeout=60)
            assert sink.handler.receiving.wait(60), "the sender never began a message"
            request = HalfSentRequest(port) if command == "serve" else None
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            if request is not None:
                time.sleep(0.5)
                with pytest.raises(OSError):  # stopping: no new connections …
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                answer = request.finish()  # … but the one in flight is answered
                assert answer.startswith(b"HTTP/1.1 403"), answer  # (no session: refused by the CSRF check)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == 0, err.decode()
        stopped = rows(engine)
        assert [r.status for r in stopped] == ["sent", "pending", "pending", "pending"], err.decode()
        assert [r.attempts for r in stopped] == [1, 0, 0, 0]  # handed back unattempted, not left for the lease
        assert [a.message["Message-ID"] for a in sink.arrivals] == [stopped[0].message_id]
        logged = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
        assert any(entry["logger"] == "kpiwatch.shutdown" for entry in logged)
        if command == "serve":
            access = [e for e in logged if e["logger"] == "uvicorn.access"]
            assert [(e["method"], e["path"], e["status"]) for e in access] == [("POST", "/login", 403)]
            assert access[0]["client"].startswith("127.0.0.1:")

        sink.handler.delay = 0
        again = subprocess.run([KPIWATCH, "outbox", "send"], cwd=tmp_path, env=env, capture_output=True, timeout=120)
        assert again.returncode == 0, again.stderr.decode()
        sink.wait_for(4)
    finally:
        sink.stop()
    assert {r.status for r in rows(engine)} == {"sent"}
    arrived = Counter(a.message["Message-ID"] for a in sink.arrivals)
    assert set(arrived) == {r.message_id for r in rows(engine)} and set(arrived.values()) == {1}
