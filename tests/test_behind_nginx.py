"""Debian's nginx (deploy/nginx.conf, TLS with a throw-away certificate) in front of two `kpiwatch serve` replicas
sharing one store, on SQLite and PostgreSQL. Two desks at different addresses (loopback aliases) sign in and report
through it: the login throttle counts per desk, the audit trail names each desk, cookies are Secure, and a forged
X-Forwarded-For sent to a replica directly is ignored."""

from __future__ import annotations

import os
import re

import pytest
from sqlmodel import Session, select

from monitor.store.models import AuditEvent, Report, User
from tests.deploy_support import Nginx, desk, nginx_site, self_signed_certificate, start_replicas, stop_all
from tests.test_notify_support import free_port
from tests.test_progress_world import PASSWORD, build_world

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DESK_A, DESK_B, STRANGER = "127.0.0.2", "127.0.0.3", "127.0.0.4"


def token(client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def login(client, username: str, password: str, **headers):
    return client.post("/login", data={"username": username, "password": password, "next": "/",
                                       "csrf_token": token(client)}, headers=headers)


def report(client, project: int, indicator: int, value: str) -> None:
    page = f"/projects/{project}"
    posted = client.post(f"{page}/indicators/{indicator}/reports", follow_redirects=True,
                         data={"value": value, "as_of": "2024-07-15", "csrf_token": token(client, page)})
    assert posted.status_code == 200 and "已保存" in posted.text, posted.text[-500:]


def sign_ins(engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "session").order_by(AuditEvent.id)).all()
    return [(e.action, e.actor, e.after["address"]) for e in events]


@pytest.mark.slow
def test_two_replicas_behind_nginx_see_each_real_client(engine, db_url, tmp_path):
    world = build_world(engine)
    cert, key = self_signed_certificate(tmp_path)
    config = tmp_path / "config.toml"
    https_port, http_port = free_port(), free_port()
    config.write_text(f"""
[portal]
base_url = "https://127.0.0.1:{https_port}"
trusted_proxies = ["127.0.0.1"]
ip_max_failures = 3
login_max_failures = 100
[scheduler]
enabled = false
""", encoding="utf-8")
    env = {**os.environ, "KPIWATCH_CONFIG": str(config), "KPIWATCH_DATABASE_URL": db_url,
           "KPIWATCH_SECRET_KEY": "one-key-for-every-replica"}
    ports, replicas = start_replicas(2, env, tmp_path)
    nginx = Nginx(tmp_path / "nginx", nginx_site(upstreams=ports, https_port=https_port, http_port=http_port,
                                                 cert=cert, key=key), https_port, http_port)
    try:
        nginx.start()
        gateway = f"https://127.0.0.1:{https_port}"
        a, b = desk(DESK_A, gateway, cert), desk(DESK_B, gateway, cert)
        assert a.get("/healthz").json() == {"status": "ok"}
        assert a.get("/readyz").json()["status"] == "ready"
        assert a.get("/metrics").status_code == 404  # scraped per replica, never through the gateway
        redirect = desk(DESK_A, f"http://127.0.0.1:{http_port}").get("/login")
        assert redirect.status_code == 301 and redirect.headers["location"].startswith("https://127.0.0.1/login")

        signed_in = login(a, "clerk_hr", PASSWORD)
        assert signed_in.status_code == 303
        assert "; secure" in signed_in.headers["set-cookie"].lower()  # the proxy said HTTPS, and was believed
        report(a, world.hr_project, world.ind["count"], "1800")
        report(a, world.hr_project, world.ind["count"], "1900")
        assert login(b, "clerk_union", PASSWORD).status_code == 303
        report(b, world.union_project, world.union_indicator, "120")
        assert nginx.upstreams_used() >= {f"127.0.0.1:{port}" for port in ports}  # round-robin reached both

        # Desk A guesses passwords (and writes its own X-Forwarded-For, which nginx replaces) until every
        # replica refuses it; desk B, behind the same gateway, is not locked out.
        answers = []
        guesser = desk(DESK_A, gateway, cert)
        while answers[-2:] != [429, 429]:
            answers.append(login(guesser, "nobody", "guess", **{"X-Forwarded-For": "203.0.113.1"}).status_code)
            assert len(answers) < 20, answers
        assert set(answers) == {401, 429}
        assert [login(desk(DESK_A, gateway, cert), "clerk_hr", PASSWORD).status_code for _ in ports] == [429, 429]
        assert [login(desk(DESK_B, gateway, cert), "clerk_union", PASSWORD).status_code for _ in ports] == [303, 303]

        # Straight to each replica, past the gateway, claiming to be desk B over HTTPS: not believed.
        for port in ports:
            stranger = desk(STRANGER, f"http://127.0.0.1:{port}")
            forged = login(stranger, "clerk_hr", PASSWORD, **{"X-Forwarded-For": DESK_A, "X-Forwarded-Proto": "https"})
            assert forged.status_code == 303  # desk A's address is refused everywhere: this was not taken for it
            assert "secure" not in forged.headers["set-cookie"].lower()
    finally:
        nginx.stop()
        outputs = stop_all(replicas)
    guesses = answers.count(401)
    assert sign_ins(engine) == (
        [("login", "clerk_hr", DESK_A), ("login", "clerk_union", DESK_B)]
        + [("login_failed", "anonymous", DESK_A)] * guesses
        + [("login", "clerk_union", DESK_B)] * 2 + [("login", "clerk_hr", STRANGER)] * 2), outputs
    with Session(engine) as session:
        reporters = {u.id: u.username for u in session.exec(select(User)).all()}
        reports = session.exec(select(Report).order_by(Report.id)).all()
    assert [(reporters[r.user_id], r.channel, r.value) for r in reports] == [
        ("clerk_hr", "portal", 1800), ("clerk_hr", "portal", 1900), ("clerk_union", "portal", 120)]
