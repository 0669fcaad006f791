"""A real SMTP server on loopback (aiosmtpd) that records what arrived, for the notification tests.

Not a mock: messages go through aiosmtplib, TCP and a real SMTP state machine; the sink can be slowed down,
made to answer 4xx/5xx, stopped and started again on the same port.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date as _date
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from monitor.config import Config, NotificationsConfig
from monitor.store.models import (
    BudgetYear,
    Contact,
    Department,
    Indicator,
    IndicatorState,
    Project,
    ProjectState,
    User,
)
from notifications.smtp import SmtpSettings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Arrival:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default)


@dataclass
class SinkHandler:
    delay: float = 0.0
    reply: str = "250 OK"
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        if not self.reply.startswith("250"):
            return self.reply
        with self.lock:
            self.arrivals.append(Arrival(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


class Sink:
    """aiosmtpd Controller wrapper that can stop and start on the same port."""

    def __init__(self, port: int | None = None, **handler_options) -> None:
        self.port = port or free_port()
        self.handler = SinkHandler(**handler_options)
        self.controller: Controller | None = None

    def start(self) -> Sink:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def arrivals(self) -> list[Arrival]:
        with self.handler.lock:
            return list(self.handler.arrivals)

    def messages(self) -> list[EmailMessage]:
        return [a.message for a in self.arrivals]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Arrival]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.arrivals) >= count:
                return self.arrivals
            time.sleep(0.02)
        return self.arrivals


def parts(message: EmailMessage) -> tuple[str, str]:
    """The decoded plain-text and HTML bodies of a multipart/alternative message."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return plain.get_content(), html.get_content()


# ---- test data: departments, contacts, projects, indicators and their evaluated states ----

LIGHT_OF = {"overdue": "red", "missed": "red", "behind": "red", "over_cap": "red", "no_report": "grey",
            "due_soon": "yellow", "not_due": "grey", "on_track": "green", "met": "green", "needs_grade": "grey"}


def notify_config(port: int = 25, **notifications) -> Config:
    return Config(smtp=SmtpSettings(port=port, sender="kpiwatch <kpiwatch@example.org>", backoff_base_seconds=0,
                                    backoff_max_seconds=0),
                  notifications=NotificationsConfig(**notifications), secret_key="test-secret-key")


class World:
    """Finance bureau; 市人社局 supervising 市就业服务中心; 晋城市总工会 on its own. Contacts under example.org."""

    def __init__(self, session: Session) -> None:
        self.session = session
        year = BudgetYear(year=2024)
        session.add(year)
        session.flush()
        self.finance = self._department("CZJ", "晋城市财政局", finance=True)
        self.hrss = self._department("RSJ", "晋城市人力资源和社会保障局")
        self.centre = self._department("JYZX", "晋城市就业服务中心", parent=self.hrss)
        self.union = self._department("ZGH", "晋城市总工会")
        self.contacts = {
            "finance": self._contact(self.finance, "财政绩效科", "perf@czj.example.org", "绩效管理员"),
            "hrss_head": self._contact(self.hrss, "人社局长", "head@rsj.example.org", "负责人"),
            "centre_head": self._contact(self.centre, "中心主任", "head@jyzx.example.org", "负责人"),
            "centre_clerk": self._contact(self.centre, "中心经办", "clerk@jyzx.example.org", "经办人"),
            "union_admin": self._contact(self.union, "工会绩效员", "perf@zgh.example.org", "绩效管理员"),
        }
        self.projects = {
            "centre": self._project(self.centre, year, "就业见习补贴项目"),
            "union": self._project(self.union, year, "职工服务阵地建设"),
        }
        session.commit()

    def _department(self, code, name, *, parent=None, finance=False) -> Department:
        department = Department(code=code, name=name, parent_id=parent.id if parent else None,
                                is_finance_bureau=finance)
        self.session.add(department)
        self.session.flush()
        return department

    def _contact(self, department, name, email, role) -> Contact:
        contact = Contact(department_id=department.id, name=name, email=email, role=role)
        self.session.add(contact)
        self.session.flush()
        return contact

    def _project(self, department, year, name) -> Project:
        project = Project(department_id=department.id, budget_year_id=year.id, import_key=name, name=name,
                          annual_funds=Decimal("1000000.00"))
        self.session.add(project)
        self.session.flush()
        return project

    def indicator(self, project: str, name: str, value_text: str = "≥100人", unit: str = "人") -> Indicator:
        count = len(self.session.exec(select(Indicator)).all())
        indicator = Indicator(project_id=self.projects[project].id, half="annual", level1="产出指标",
                              level2="数量指标", name=name, value_text=value_text, position=count, unit=unit)
        self.session.add(indicator)
        self.session.commit()
        return indicator

    def state(self, indicator: Indicator, status: str, *, as_of: _date, occurrence: str = "",
              since: _date | None = None, actual: Decimal | None = None, reason: str = "") -> IndicatorState:
        row = self.session.exec(select(IndicatorState).where(IndicatorState.indicator_id == indicator.id,
                                                             IndicatorState.occurrence == occurrence)).first()
        row = row or IndicatorState(indicator_id=indicator.id, occurrence=occurrence, light="grey", status=status)
        row.status, row.light = status, LIGHT_OF[status]
        row.since, row.actual = since or as_of, actual
        row.reason = reason or f"状态：{status}"
        self.session.add(row)
        # The evaluation dates a state by its project's state, written for every project each run.
        project = self.session.exec(select(ProjectState).where(ProjectState.project_id == indicator.project_id)
                                    ).first() or ProjectState(project_id=indicator.project_id, as_of=as_of,
                                                              light="grey", budget_light="grey")
        project.as_of = as_of
        self.session.add(project)
        self.session.commit()
        return row

    def user(self, department: Department, username: str, last_login=None) -> User:
        user = User(username=username, display_name=username, password_hash="x", department_id=department.id,
                    last_login_at=last_login)
        self.session.add(user)
        self.session.commit()
        return user
