"""Sessions that end and a login throttle that leaks nothing, through HTTP on the real app and store (both stores).

A signed cookie alone used to be a login for 12 hours whatever happened: after logout, a new password, a new role.
And the lockout told who exists: an existing name's sixth attempt answered "locked" in milliseconds, an unknown one
"wrong password" after an argon2 verification; five guesses from anywhere locked anyone out; the per-address count
lived in one process's memory.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.accounts.passwords import PROFILE_ENV, dummy_hash, hash_password, verify_password
from monitor.cli.main import app as cli
from monitor.config import Config, PortalConfig
from monitor.store.db import make_engine
from monitor.store.models import LoginThrottle, User
from monitor.web.app import create_app
from tests.test_progress_world import PASSWORD, TODAY, build_world
from tests.test_web_portal import CSRF

PROBLEM = re.compile(r'role="alert">([^<]*)<')
NEW_PASSWORD = "battery-staple-77"


def app_on(engine, **portal):
    settings = dataclasses.replace(Config(), secret_key="test-secret", portal=PortalConfig(**portal))
    application = create_app(settings, engine)
    application.state.clock = lambda: TODAY
    return application


def browser(application, address: str = "198.51.100.7") -> TestClient:
    return TestClient(application, client=(address, 50000))


def login(http: TestClient, username: str, password: str = PASSWORD):
    token = CSRF.search(http.get("/login").text).group(1)
    return http.post("/login", data={"username": username, "password": password, "next": "/", "csrf_token": token},
                     follow_redirects=False)


def answer(response) -> tuple[int, str]:
    """Status and message, the seconds to wait written as N (they count down while the test runs)."""
    found = PROBLEM.search(response.text)
    return response.status_code, re.sub(r"\d+", "N", found.group(1)) if found else ""


def signed_in(http: TestClient) -> bool:
    return not http.get("/account", follow_redirects=False).headers.get("location", "").startswith("/login")


def copy_of(http: TestClient, application) -> TestClient:
    """Another browser holding the same cookie (stolen, or simply a second copy of it)."""
    other = browser(application, "192.0.2.66")
    other.cookies.set("kpiwatch_session", http.cookies["kpiwatch_session"])
    return other


def form_token(http: TestClient, path: str) -> str:
    return CSRF.search(http.get(path).text).group(1)


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def run_cli(db_url, monkeypatch, tmp_path) -> Callable[..., object]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KPIWATCH_CONFIG", raising=False)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    return lambda *args: CliRunner().invoke(cli, list(args), catch_exceptions=False)


# --- sessions that end ---------------------------------------------------------------------------------------

def test_a_copied_cookie_stops_working_after_logout(engine, world):
    application = app_on(engine)
    http = browser(application)
    assert login(http, "clerk_hr").status_code == 303
    copy = copy_of(http, application)
    assert signed_in(copy)
    http.post("/logout", data={"csrf_token": form_token(http, "/account")}, follow_redirects=False)
    assert not signed_in(http)
    assert not signed_in(copy)


def test_logging_out_ends_the_users_sessions_in_every_browser(engine, world):
    application = app_on(engine)
    desk, phone = browser(application), browser(application, "192.0.2.9")
    login(desk, "clerk_hr")
    login(phone, "clerk_hr")
    desk.post("/logout", data={"csrf_token": form_token(desk, "/account")}, follow_redirects=False)
    assert not signed_in(phone)
    assert login(phone, "clerk_hr").status_code == 303 and signed_in(phone)  # signing in again works at once


def test_set_password_from_the_cli_ends_every_session(engine, world, run_cli):
    application = app_on(engine)
    http = browser(application)
    login(http, "clerk_hr")
    copy = copy_of(http, application)
    result = run_cli("users", "set-password", "clerk_hr", "--password", NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert not signed_in(http) and not signed_in(copy)
    assert login(http, "clerk_hr", PASSWORD).status_code == 401
    assert login(http, "clerk_hr", NEW_PASSWORD).status_code == 303


def test_changing_ones_password_in_the_portal_ends_the_other_sessions_and_keeps_this_one(engine, world):
    application = app_on(engine)
    http = browser(application)
    login(http, "clerk_hr")
    copy = copy_of(http, application)
    changed = http.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                   "csrf_token": form_token(http, "/account")})
    assert changed.status_code == 200 and "密码已更新" in changed.text
    assert signed_in(http)
    assert not signed_in(copy)
    assert login(browser(application), "clerk_hr", NEW_PASSWORD).status_code == 303


def test_a_wrong_current_password_changes_nothing(engine, world):
    application = app_on(engine)
    http = browser(application)
    login(http, "clerk_hr")
    copy = copy_of(http, application)
    refused = http.post("/account/password", data={"current": "not-it-at-all", "new": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD, "csrf_token": form_token(http, "/account")})
    assert refused.status_code == 422 and "当前密码不正确" in refused.text
    assert signed_in(copy)
    assert login(browser(application), "clerk_hr", PASSWORD).status_code == 303


def test_guessing_the_current_password_on_the_account_page_is_throttled_like_logins(engine, world):
    application = app_on(engine, login_max_failures=2)
    http = browser(application)
    login(http, "clerk_hr")
    statuses = [http.post("/account/password", data={"current": f"guess-{n:04d}", "new": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD,
                                                     "csrf_token": form_token(http, "/account")}).status_code
                for n in range(3)]
    assert statuses == [422, 422, 429]


def test_a_role_change_in_the_portal_ends_the_users_sessions(engine, world):
    application = app_on(engine)
    clerk = browser(application)
    login(clerk, "clerk_hr")
    admin = browser(application, "198.51.100.8")
    login(admin, "admin")
    changed = admin.post("/admin/users/clerk_hr/role", data={"role": "auditor", "department_id": "",
                                                             "csrf_token": form_token(admin, "/admin/users")},
                         follow_redirects=False)
    assert changed.status_code == 303
    assert not signed_in(clerk)
    login(clerk, "clerk_hr")
    assert clerk.get("/", follow_redirects=False).headers["location"] == "/admin"  # now the bureau's auditor


def test_a_role_change_from_the_cli_ends_the_users_sessions(engine, world, run_cli):
    application = app_on(engine)
    http = browser(application)
    login(http, "clerk_hr")
    result = run_cli("users", "set-role", "clerk_hr", "head")
    assert result.exit_code == 0, result.output
    assert not signed_in(http)
    refused = run_cli("users", "set-role", "auditor", "clerk")
    assert refused.exit_code == 1 and "--department" in refused.output


def test_disabling_a_user_ends_their_sessions(engine, world):
    application = app_on(engine)
    clerk = browser(application)
    login(clerk, "clerk_hr")
    admin = browser(application, "198.51.100.8")
    login(admin, "admin")
    admin.post("/admin/users/clerk_hr/disable", data={"disabled": "1", "csrf_token": form_token(admin, "/admin/users")})
    assert not signed_in(clerk)
    admin.post("/admin/users/clerk_hr/disable", data={"disabled": "0", "csrf_token": form_token(admin, "/admin/users")})
    assert not signed_in(clerk)  # enabling again does not bring the old session back


# --- a throttle that leaks nothing --------------------------------------------------------------------------

def test_an_unknown_name_gets_the_same_answers_as_an_existing_one_attempt_after_attempt(engine, world):
    application = app_on(engine)
    existing = [answer(login(browser(application), "clerk_hr", "wrong-password-1")) for _ in range(8)]
    unknown = [answer(login(browser(application), "clerk_hq", "wrong-password-1")) for _ in range(8)]
    assert existing == unknown
    assert existing[0] == (401, "用户名或密码错误")
    assert existing[-1][0] == 429 and "秒后再试" in existing[-1][1]


def test_a_guesser_elsewhere_cannot_lock_a_user_out(engine, world):
    application = app_on(engine)
    guesser = browser(application, "203.0.113.50")
    for attempt in range(12):
        login(guesser, "clerk_hr", f"guess-{attempt:04d}")
    assert login(guesser, "clerk_hr").status_code == 429  # the guesser's own address waits, even with the password
    clerk = browser(application, "198.51.100.20")
    assert login(clerk, "clerk_hr").status_code == 303


def let_time_pass(engine, seconds: float) -> None:
    """Move every recorded failure `seconds` into the past, as if the client had waited that long."""
    with Session(engine) as session:
        for row in session.exec(select(LoginThrottle)).all():
            row.last_failure_at -= timedelta(seconds=seconds)
            session.add(row)
        session.commit()


def test_after_the_limit_each_failure_doubles_the_wait(engine, world):
    application = app_on(engine, login_max_failures=2, login_backoff_seconds=10, login_backoff_max_seconds=40)
    http = browser(application)
    assert [login(http, "clerk_hr", "nope-nope-1").status_code for _ in range(2)] == [401, 401]
    waits = []
    for _ in range(3):
        refused = login(http, "clerk_hr", "nope-nope-1")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        let_time_pass(engine, waits[-1])
        assert login(http, "clerk_hr", "nope-nope-1").status_code == 401  # tried again once the wait is over
    # Retry-After counts down from the failure (rounded up): a slow machine may already have waited a little.
    assert all(doubled - 3 <= wait <= doubled for wait, doubled in zip(waits, (10, 20, 40), strict=True)), waits
    refused = login(http, "clerk_hr")
    assert refused.status_code == 429  # the right password waits too: that is the throttle
    assert 37 <= int(refused.headers["Retry-After"]) <= 40  # not 80: never longer than the configured longest
    let_time_pass(engine, 40)
    assert login(http, "clerk_hr").status_code == 303


def test_failures_are_forgotten_after_a_quiet_while(engine, world):
    application = app_on(engine, login_max_failures=2, login_forget_minutes=60)
    http = browser(application)
    for _ in range(2):
        login(http, "clerk_hr", "nope-nope-5")
    assert login(http, "clerk_hr", "nope-nope-5").status_code == 429
    let_time_pass(engine, 3601)
    assert [login(http, "clerk_hr", "nope-nope-5").status_code for _ in range(3)] == [401, 401, 429]


def test_a_correct_password_starts_the_name_afresh(engine, world):
    application = app_on(engine, login_max_failures=3)
    http = browser(application)
    for _ in range(2):
        login(http, "clerk_hr", "nope-nope-2")
    assert login(http, "clerk_hr").status_code == 303
    http.cookies.clear()
    assert [login(http, "clerk_hr", "nope-nope-2").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_a_new_password_set_by_the_bureau_lets_the_user_in_at_once(engine, world, run_cli):
    application = app_on(engine, login_max_failures=2)
    http = browser(application)
    for _ in range(3):
        login(http, "clerk_hr", "nope-nope-3")
    assert login(http, "clerk_hr").status_code == 429
    assert run_cli("users", "set-password", "clerk_hr", "--password", NEW_PASSWORD).exit_code == 0
    assert login(http, "clerk_hr", NEW_PASSWORD).status_code == 303


def test_the_throttle_holds_across_a_restart_and_on_another_replica(engine, db_url, world):
    """Two app instances on one store (two replicas, or one before and after a restart)."""
    first, second = make_engine(db_url), make_engine(db_url)
    try:
        replica_a, replica_b = app_on(first, ip_max_failures=3), app_on(second, ip_max_failures=3)
        guesser_a, guesser_b = browser(replica_a, "203.0.113.60"), browser(replica_b, "203.0.113.60")
        assert [login(guesser_a, name, "guess-guess").status_code for name in ("ann", "bob", "cy")] == [401] * 3
        assert login(guesser_b, "dee", "guess-guess").status_code == 429  # another name, another replica
        restarted = browser(app_on(first, ip_max_failures=3), "203.0.113.60")
        assert login(restarted, "eve", "guess-guess").status_code == 429
        assert login(browser(replica_b, "198.51.100.30"), "clerk_hr").status_code == 303  # other addresses are not
    finally:
        first.dispose()
        second.dispose()


def test_attempts_sent_at_once_cannot_slip_past_the_limit(engine, world):
    application = app_on(engine, login_max_failures=3)
    statuses: list[int] = []
    start = threading.Barrier(10)

    def attempt() -> None:
        http = browser(application)
        token = CSRF.search(http.get("/login").text).group(1)
        start.wait()
        statuses.append(http.post("/login", data={"username": "clerk_hr", "password": "nope-nope-4", "next": "/",
                                                  "csrf_token": token}, follow_redirects=False).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 3 + [429] * 7
    with Session(engine) as session:
        row = session.exec(select(LoginThrottle).where(LoginThrottle.account == "clerk_hr")).one()
    assert row.failures == 3


# --- timing: compared by medians, against the cost of one argon2 verification ---------------------------------

@pytest.fixture
def production_hashing(engine, world, monkeypatch):
    """The suite hashes with argon2's cheapest parameters; timing is judged at the production cost, with every
    user's stored hash made again at that cost (verification follows the parameters stored in each hash)."""
    monkeypatch.setenv(PROFILE_ENV, "rfc9106-low-memory")
    with Session(engine) as session:
        for user in session.exec(select(User)).all():
            user.password_hash = hash_password(PASSWORD)
            session.add(user)
        session.commit()


def argon2_seconds() -> float:
    """One argon2 verification here and now (the fastest of three: what a request cannot do it faster than)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        verify_password(dummy_hash(), "x" * 12)
        times.append(time.perf_counter() - started)
    return min(times)


def timed(send: Callable[[], object]) -> float:
    started = time.perf_counter()
    send()
    return time.perf_counter() - started


def test_an_unknown_name_takes_as_long_as_a_wrong_password(engine, world, production_hashing):
    application = app_on(engine, login_max_failures=1000, ip_max_failures=1000)
    http = browser(application)
    login(http, "clerk_hr", "warm-up-guess")
    argon2 = argon2_seconds()
    existing, unknown = [], []
    for attempt in range(7):  # interleaved, so a neighbour's burst of load falls on both
        guess = f"wrong-{attempt:04d}"
        existing.append(timed(lambda guess=guess: login(http, "clerk_hr", guess)))
        unknown.append(timed(lambda guess=guess, attempt=attempt: login(http, f"nobody-{attempt}", guess)))
    slow, fast = sorted((statistics.median(existing), statistics.median(unknown)))
    assert fast >= 0.5 * argon2, (existing, unknown, argon2)  # both really verify a hash
    assert slow <= 3 * fast, (existing, unknown, argon2)


def test_a_throttled_name_answers_as_fast_whether_it_exists_or_not(engine, world, production_hashing):
    application = app_on(engine)
    existing_http, unknown_http = browser(application, "203.0.113.70"), browser(application, "203.0.113.71")
    for attempt in range(5):
        login(existing_http, "clerk_hr", f"wrong-{attempt:04d}")
        login(unknown_http, "clerk_hq", f"wrong-{attempt:04d}")
    argon2 = argon2_seconds()
    existing, unknown = [], []
    for _ in range(7):
        existing.append(timed(lambda: login(existing_http, "clerk_hr", "wrong-again")))
        unknown.append(timed(lambda: login(unknown_http, "clerk_hq", "wrong-again")))
    assert abs(statistics.median(existing) - statistics.median(unknown)) < 0.5 * argon2, (existing, unknown, argon2)
    assert answer(login(existing_http, "clerk_hr", "x" * 9)) == answer(login(unknown_http, "clerk_hq", "x" * 9))
