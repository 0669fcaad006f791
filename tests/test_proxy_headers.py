"""Forwarded headers are believed only from `[portal] trusted_proxies`: then the login throttle, the audit trail and
the cookies' Secure flag see the real client; from anybody else the headers change nothing.
(tests/test_behind_nginx.py does the same through a real nginx in front of two real servers.)"""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from monitor.config import Config, ConfigError, PortalConfig, load_config
from monitor.store.models import AuditEvent
from monitor.web.app import create_app
from tests.conftest import ROOT
from tests.test_progress_world import PASSWORD, build_world
from tests.test_web_portal import CSRF

PROXY = ("10.0.0.1", 41000)


def client(engine, address=PROXY, **portal) -> TestClient:
    settings = dataclasses.replace(Config(), secret_key="test-secret", portal=PortalConfig(**portal))
    return TestClient(create_app(settings, engine), client=address, base_url="http://kpiwatch.example.org")


def login(http: TestClient, username: str, password: str, **headers):
    token = CSRF.search(http.get("/login", headers=headers).text).group(1)
    return http.post("/login", data={"username": username, "password": password, "next": "/", "csrf_token": token},
                     headers=headers, follow_redirects=False)


def sign_ins(engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "session").order_by(AuditEvent.id)).all()
    return [(e.action, e.actor, e.after["address"]) for e in events]


def test_a_trusted_proxys_forwarded_address_is_the_client_for_throttle_and_audit(engine):
    build_world(engine)
    http = client(engine, trusted_proxies=("10.0.0.0/24",), ip_max_failures=2)
    guesser = {"X-Forwarded-For": "203.0.113.9"}
    assert [login(http, "nobody", "x", **guesser).status_code for _ in range(3)] == [401, 401, 429]
    assert login(http, "clerk_hr", PASSWORD, **guesser).status_code == 429  # the guesser's address is refused
    clerk = {"X-Forwarded-For": "203.0.113.10"}  # another desk behind the same gateway is not
    assert login(http, "clerk_hr", PASSWORD, **clerk).status_code == 303
    assert sign_ins(engine) == [("login_failed", "anonymous", "203.0.113.9")] * 2 + [
        ("login", "clerk_hr", "203.0.113.10")]


def test_the_last_untrusted_hop_counts_so_a_client_cannot_pose_as_another(engine):
    build_world(engine)
    http = client(engine, trusted_proxies=("10.0.0.1",))
    # The client wrote "198.51.100.1" itself; the trusted proxy appended the address it really saw.
    assert login(http, "clerk_hr", PASSWORD, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.20"}).status_code == 303
    assert sign_ins(engine)[-1][2] == "203.0.113.20"


@pytest.mark.parametrize("portal", [{}, {"trusted_proxies": ("10.0.0.1",)}], ids=["nobody-trusted", "other-proxy"])
def test_forwarded_headers_from_anybody_else_change_nothing(engine, portal):
    build_world(engine)
    # With nothing configured even the machine itself is not believed (uvicorn alone would trust 127.0.0.1).
    address = ("127.0.0.1", 42000) if not portal else ("192.0.2.50", 42000)
    http = client(engine, address=address, **portal)
    forged = {"X-Forwarded-For": "203.0.113.99", "X-Forwarded-Proto": "https"}
    response = login(http, "clerk_hr", PASSWORD, **forged)
    assert response.status_code == 303
    assert "secure" not in response.headers["set-cookie"].lower()
    assert sign_ins(engine) == [("login", "clerk_hr", address[0])]


def test_cookies_are_secure_when_the_trusted_proxy_says_the_client_came_over_https(engine):
    def session_cookie(http: TestClient, **headers) -> str:
        cookie = http.get("/login", headers=headers).headers["set-cookie"]  # the form's CSRF token starts a session
        assert cookie.startswith("kpiwatch_session=")
        return cookie.lower()

    trusting = client(engine, trusted_proxies=("10.0.0.1",))
    assert "; secure" in session_cookie(trusting, **{"X-Forwarded-For": "203.0.113.30", "X-Forwarded-Proto": "https"})
    assert "secure" not in session_cookie(trusting, **{"X-Forwarded-For": "203.0.113.30", "X-Forwarded-Proto": "http"})
    assert "secure" not in session_cookie(client(engine), **{"X-Forwarded-Proto": "https"})  # not a trusted proxy
    assert session_cookie(client(engine, secure_cookies=True)).count("secure") == 1  # always, and never twice
    direct = TestClient(create_app(dataclasses.replace(Config(), secret_key="k"), engine), base_url="https://kpiwatch")
    assert session_cookie(direct).count("secure") == 1  # HTTPS straight to the server


def test_a_trusted_proxy_that_is_no_address_is_named_when_the_file_is_read(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text('[portal]\ntrusted_proxies = ["10.0.0.0/24", "gateway.example.org"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(file, env={})
    assert str(raised.value).startswith(f"{file}: portal.trusted_proxies: expected IP addresses or networks")
    assert "'gateway.example.org' is neither" in str(raised.value)
    file.write_text('[portal]\nmetrics_token = "abc"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="portal.metrics_token: secrets never live in the config file"):
        load_config(file, env={})
    assert load_config(ROOT / "config.toml", env={"KPIWATCH_METRICS_TOKEN": "abc"}).metrics_token == "abc"
