"""REST API under /api/v1 (OpenAPI at /api/v1/openapi.json): Bearer-token access, department-scoped.

Answers follow the portal's convention: an indicator or project outside the token owner's departments
is 404 (indistinguishable from one that does not exist), a role that may not write gets 403, a report
that makes no sense gets 422 with one problem per field. A batch is all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed, can_write
from monitor.accounts.tokens import users_for_tokens
from monitor.progress import budget, service
from monitor.progress.entries import ReportEntry, read_adjustment, read_report, read_spending
from monitor.progress.schedule import describe_target
from monitor.progress.validation import KIND_LABELS, IndicatorInfo, ValidationFailed
from monitor.store import audit, facts
from monitor.store.db import write_turn
from monitor.store.models import Project, Report, User
from monitor.store.rows import stored_id
from monitor.web import api_docs
from monitor.web.api_language import api_lang, in_language
from monitor.web.api_schemas import (
    AdjustmentOut,
    BudgetOut,
    HistoryReport,
    Me,
    ProjectOut,
    RecordedReports,
    RecordedSpending,
    SpendingHistoryRow,
)
from monitor.web.auth import (
    api_user,
    bearer,
    db_session,
    indicator_for_user,
    project_for_user,
    today,
    token_user_or_401,
    visible_department_ids,
)
from monitor.web.reevaluate import reevaluate, reevaluations
from monitor.web.views import indicator_ids
from monitor.weights.service import ProjectWeights, WeightsChange, WeightsRefused, change_weights, project_weights
from rules.budget import budget_in_force
from rules.terms import FUND_SOURCES

router = APIRouter(prefix="/api/v1", tags=["progress"])


class ReportIn(BaseModel):
    """One report. Which fields are needed depends on the indicator's kind (see `kind` in GET /projects)."""

    indicator_id: int
    value: Decimal | None = Field(None, description="quantity/percent: value to date (cumulative or latest rate)")
    as_of: date | None = Field(None, description="quantity/percent (and a grade): the date the value refers to; "
                                                 "after the budget year ended, 31 December of that year if omitted")
    occurrence_due: date | None = Field(None, description="deadline/window/recurring: due date of the occurrence done")
    completed_on: date | None = Field(None, description="deadline/window/recurring: when it was done")
    grade: str | None = Field(
        None, description="qualitative: 达成年度指标 / 部分达成年度指标并具有一定效果 / 未达成年度指标且效果较差")
    explanation: str | None = None
    forecast: Decimal | str | None = Field(None, description="全年预计完成情况 (number or text)")
    deviation_causes: dict[str, str] | None = Field(
        None, description="经费保障 / 制度保障 / 人员保障 / 硬件条件保障 / 其他 → text")
    likelihood: str | None = Field(None, description="确定能 / 有可能 / 完全不可能")
    note: str | None = None
    supersedes_id: int | None = Field(None, description="correct this earlier report (must be the effective one)")

    def entry(self) -> ReportEntry:
        """The report this JSON says: the schema has read numbers and dates, `read_report` the rest."""
        return read_report(
            self.indicator_id, value=self.value, as_of=self.as_of, occurrence_due=self.occurrence_due,
            completed_on=self.completed_on, grade=self.grade, explanation=self.explanation, forecast=self.forecast,
            deviation_causes=self.deviation_causes, likelihood=self.likelihood, note=self.note,
            supersedes_id=self.supersedes_id)


class SpendingIn(BaseModel):
    amount: Decimal | None = Field(None, description="spending to date in 元 (cumulative); may be left out when "
                                                     "the parts by source are given (it is then their sum)")
    as_of: date | None = Field(None, description="the date the amount refers to; required during the budget year, "
                                                 "31 December of that year if omitted after it ended")
    note: str | None = None
    supersedes_id: int | None = None
    fiscal: Decimal | None = Field(None, description="of which 财政拨款, 元")
    other: Decimal | None = Field(None, description="of which 其他资金, 元")
    carryover: Decimal | None = Field(None, description="of which 上年结转, 元")


class AdjustmentIn(BaseModel):
    amount: Decimal = Field(description="the change in 元, signed: a cut is negative")
    effective_on: date = Field(description="the day the adjusted budget takes effect")
    reason: str = Field(description="调整原因")
    source: str | None = Field(None, description="fiscal / other / carryover (财政拨款 / 其他资金 / 上年结转); "
                                                 "default fiscal")
    supersedes_id: int | None = Field(None, description="correct this adjustment in force (0 withdraws it)")


def _report_out(r: Report, superseded: set[int] | None = None) -> dict:
    data = service.report_json(r)
    if superseded is not None:
        data["effective"] = r.id not in superseded
    return data


def _raise_problems(exc: ValidationFailed) -> None:
    problems = [p.to_json() for p in exc.problems]
    if any(p.field in ("indicator_id", "project_id") for p in exc.problems):
        raise HTTPException(404, {"message": "指标或项目不存在或不属于本部门 (not found)", "problems": problems})
    raise HTTPException(422, {"message": "未保存任何内容 (nothing stored)", "problems": problems})


@router.get("/me", response_model=Me, summary="当前令牌的用户 (who this token belongs to)")
def me(user: User = Depends(api_user)) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_id": user.department_id}


@router.get("/projects", response_model=list[ProjectOut],
            summary="本部门的项目、指标与目标 (projects and indicators with targets)")
def list_projects(request: Request, department_id: int | None = None, user: User = Depends(api_user),
                  session: Session = Depends(db_session)) -> list[dict]:
    visible = visible_department_ids(session, user)
    query = select(Project).order_by(col(Project.id))
    if visible is not None:
        query = query.where(col(Project.department_id).in_(visible))
    if department_id is not None:
        query = query.where(Project.department_id == department_id)
    projects = session.exec(query).all()
    return _projects_json(session, projects, today(request))


@router.get("/projects/{project_id}", response_model=ProjectOut, summary="一个项目 (one project)")
def get_project(request: Request, project_id: int, user: User = Depends(api_user),
                session: Session = Depends(db_session)) -> dict:
    return _projects_json(session, [project_for_user(session, user, project_id)], today(request))[0]


def _projects_json(session: Session, projects: Sequence[Project], on: date) -> list[dict]:
    """Each project with its indicators, its latest spending and its budget in force on `on` (全年预算数)."""
    ids = [stored_id(p) for p in projects]
    infos = service.load_infos(session, indicator_ids(session, ids), on)
    effective = facts.effective_reports(session, infos)
    spending = facts.effective_spending(session, ids)
    adjustments = facts.effective_adjustments(session, ids)
    by_project: dict[int, list[dict]] = {project_id: [] for project_id in ids}
    for info in sorted(infos.values(), key=lambda i: (i.indicator.position, i.indicator.id)):
        ind = info.indicator
        latest = service.latest(effective[stored_id(ind)])
        by_project[stored_id(info.project)].append({
            "id": ind.id, "level1": ind.level1, "level2": ind.level2, "name": ind.name, "half": ind.half,
            "target_text": info.target.text, "kind": info.kind, "kind_label": KIND_LABELS.get(info.kind, info.kind),
            "meaning": describe_target(info), "comparator": info.target.comparator,
            "target_value": None if info.target.value is None else format(info.target.value, "f"),
            "unit": info.target.unit, "occurrences": [d.isoformat() for d in info.occurrence_dues],
            "latest": service.report_json(latest) if latest else None})
    out = []
    for p, project_id in zip(projects, ids, strict=True):
        spent = service.latest_spending(spending.get(project_id, []))
        out.append({"id": p.id, "name": p.name, "department_id": p.department_id,
                    "annual_funds": _money(p.annual_funds),
                    "budget_in_force": _money(budget_in_force(
                        p.annual_funds, [(a.effective_on, a.amount) for a in adjustments[project_id]], on)),
                    "spent": None if spent is None else {"id": spent.id, "amount": format(spent.amount, "f"),
                                                          "as_of": spent.as_of.isoformat(),
                                                          **{k: _money(getattr(spent, k)) for k in FUND_SOURCES}},
                    "indicators": by_project[project_id]})
    return out


@router.get("/indicators/{indicator_id}/history", response_model=list[HistoryReport],
            summary="指标的全部填报记录，含已更正的 (full history)")
def indicator_history(indicator_id: int, user: User = Depends(api_user),
                      session: Session = Depends(db_session)) -> list[dict]:
    indicator_for_user(session, user, indicator_id)
    rows = service.history(session, indicator_id)
    superseded = facts.superseded_ids(rows)
    return [_report_out(r, superseded) for r in rows]


REPORTS_BODY: TypeAdapter[ReportIn | list[ReportIn]] = TypeAdapter(ReportIn | list[ReportIn])
RECORDED: TypeAdapter[RecordedReports] = TypeAdapter(RecordedReports)


class RequestToResponse(APIRoute):
    """A route whose endpoint takes the request and returns the response itself: FastAPI documents it from its
    declaration but does not solve dependencies or serialise for it (not even the app's `ids_in_range`, so its
    path must have no ids). On the API's hot path FastAPI's handler around the endpoint was a tenth of a
    worker's time under load (bench/README.md, "Session 12")."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint


async def post_reports(request: Request) -> Response:
    # The hot path, with no FastAPI dependencies: the body is validated straight from its bytes and the answer
    # serialised by its schema (`openapi_extra` documents both, and the bearer token); FastAPI's dependency
    # solving and response handling took a quarter of the server's CPU per post (bench/README.md, "Session 9").
    # Token check, validation and the write run in ONE worker-thread hop, the group commit's.
    credentials = await bearer(request)
    raw = await request.body()
    try:
        body = REPORTS_BODY.validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()],
                                     body=_sent(raw)) from None
    items = body if isinstance(body, list) else [body]
    if not items:
        raise HTTPException(422, {"message": "没有内容 (empty list)", "problems": []})
    if len(items) > 1000:
        raise HTTPException(413, "一次最多 1000 条 (at most 1000 reports per request)")
    post = ReportPost(credentials, [item.entry() for item in items], today(request))
    answer = await request.app.state.group_commit.run(post)
    # Soon after the answer, coalesced with other requests' projects, the report's light is re-evaluated by the
    # same rules as the daily run: the API answers no lights, and evaluating before answering put about 37 ms of
    # CPU into every answer (bench/README.md, "Session 5: pages").
    reevaluations(request.app).submit(post.projects, post.today)
    answer["notices"] = in_language(answer["notices"], api_lang(request))
    return Response(RECORDED.dump_json(RECORDED.validate_python(answer)), status_code=201,
                    media_type="application/json")


router.add_api_route("/reports", post_reports, methods=["POST"], status_code=201, response_model=RecordedReports,
                     summary="填报一条或多条 (post one report or a list; all or nothing)",
                     openapi_extra=api_docs.body_and_bearer(REPORTS_BODY), route_class_override=RequestToResponse)


def _sent(raw: bytes) -> object:
    """The refused body as sent, when it is JSON at all: a list is told only of its items' errors."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


@dataclass
class ReportPost:
    """One POST /reports as a write job: its token's user and its indicators are read for a whole batch of
    posts at once (`prepare_batch`, see monitor.store.group_commit), then each is recorded on its own."""

    credentials: HTTPAuthorizationCredentials | None
    entries: list[ReportEntry]
    today: date
    user: User | None = None
    infos: dict[int, IndicatorInfo] | None = None
    touched: dict[int, list[Report]] | None = None  # the batch's rows on the slots its posts write, locked
    new_ids: Iterator[int] | None = None  # the batch's new report ids (PostgreSQL), shared by its posts
    rows: list[dict] = field(default_factory=list)  # this post's new reports, inserted with the batch's
    audit: list[dict] = field(default_factory=list)  # this post's audit events, written with the batch's
    projects: list[int] = field(default_factory=list)  # whose reports were stored, to evaluate anew

    @classmethod
    def prepare_batch(cls, session: Session, posts: list[ReportPost]) -> None:
        """Read what every post of the batch needs in one statement each: the tokens' users, the indicators (locked,
        with their approved target versions), the reports on the slots the posts write, and on PostgreSQL the new
        reports' ids. Per post these were four round trips and an INSERT, on PostgreSQL the writer's largest cost
        under load."""
        users = users_for_tokens(session, [p.credentials.credentials for p in posts if p.credentials])
        # An entry whose indicator id was unreadable has none: it is refused when recorded, with nothing to load.
        on = max((p.today for p in posts), default=None)  # the targets in force today
        infos = service.load_infos(session, [e.indicator_id for p in posts for e in p.entries
                                             if e.indicator_id is not None], on, lock=True)
        cleans = []
        for post in posts:
            post.user = users.get(post.credentials.credentials) if post.credentials else None
            post.infos = infos
            if post.user is not None and can_write(post.user):
                checked, _, problems = service.check_reports(session, post.user, post.entries, post.today, infos)
                if not problems:  # a refused post reads nothing; recording it raises its problems
                    cleans.extend(checked)
        touched = service.touched_reports(session, cleans, infos, locked=True) if cleans else {}
        ids = service.report_ids(session, len(cleans))
        new_ids = iter(ids) if ids is not None else None
        for post in posts:
            post.touched = touched
            post.new_ids = new_ids

    @classmethod
    def finish_batch(cls, session: Session, posts: list[ReportPost]) -> None:
        """The new reports of every post recorded in the batch, then their audit events, one statement each."""
        service.insert_reports(session, [row for post in posts for row in post.rows])
        audit.record_by_actors(session, [(post.user, event) for post in posts for event in post.audit])

    def __call__(self, session: Session) -> dict:
        alone = self.infos is None  # not run by a group commit, which prepares and finishes whole batches
        if alone:
            self.prepare_batch(session, [self])
        user = token_user_or_401(self.user)
        with _recording_errors():
            result = service.record_reports(session, user, self.entries, channel="api", today=self.today,
                                            infos=self.infos, touched=self.touched, write_audit=False,
                                            new_ids=self.new_ids)
        self.rows, self.audit = result.rows, result.audit
        if alone:
            self.finish_batch(session, [self])
        infos = self.infos or {}
        self.projects = sorted({stored_id(infos[r.indicator_id].project) for r in result.stored
                                if r.indicator_id in infos})
        return result.to_json()


@contextmanager
def _recording_errors(session: Session | None = None) -> Iterator[None]:
    """A refused report becomes 422 naming every field (nothing stored), a role that may not write 403.

    With `session`, a refusal also ends its transaction at once (releasing SQLite's write lock).
    """
    try:
        yield
    except ValidationFailed as exc:
        if session is not None:
            session.rollback()
        _raise_problems(exc)
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from exc


@router.get("/projects/{project_id}/spending", response_model=list[SpendingHistoryRow],
            summary="项目支出记录 (spending history)")
def spending_history(project_id: int, user: User = Depends(api_user),
                     session: Session = Depends(db_session)) -> list[dict]:
    project_for_user(session, user, project_id)
    rows = service.spending_history(session, project_id)
    superseded = facts.superseded_ids(rows)
    return [dict(audit.snapshot(r, service.SPENDING_FIELDS), effective=r.id not in superseded,
                 created_at=r.created_at.isoformat() if r.created_at else None) for r in rows]


@router.post("/projects/{project_id}/spending", status_code=201, response_model=RecordedSpending,
             summary="填报项目支出执行数 (post spending to date)")
def post_spending(request: Request, project_id: int, body: SpendingIn, user: User = Depends(api_user),
                  session: Session = Depends(db_session)) -> dict:
    project_for_user(session, user, project_id)
    entry = read_spending(project_id, body.amount, body.as_of, body.note, body.supersedes_id, fiscal=body.fiscal,
                          other=body.other, carryover=body.carryover)
    with write_turn(session), _recording_errors(session):
        stored, unchanged = service.record_spending(session, user, [entry], channel="api", today=today(request))
        notices = service.spending_notices(session, [entry], today(request))
        session.commit()
    if stored:
        reevaluate(request, [project_id])
    return {"stored": [audit.snapshot(r, service.SPENDING_FIELDS) for r in stored], "unchanged": unchanged,
            "notices": in_language([n.to_json() for n in notices], api_lang(request))}


# ---- scoring weights: read by anyone who sees the project, changed by the finance bureau's administrators ----

WeightValue = Decimal | str | None  # a number, or text as a table prints it ("15分"); null = back to the default


class LevelWeights(BaseModel):
    """The four level weights in points: 预算执行率 / 产出 / 效益 / 满意度."""

    execution: Decimal | None = Field(None, description="预算执行率")
    output: Decimal | None = Field(None, description="产出指标")
    effect: Decimal | None = Field(None, description="效益指标")
    satisfaction: Decimal | None = Field(None, description="满意度指标")


class LevelWeightsIn(BaseModel):
    """Only the levels named change; null puts one back to the configured default. Each may be 0; the four in
    force must add up to 100."""

    execution: WeightValue = Field(None, description="预算执行率")
    output: WeightValue = Field(None, description="产出指标")
    effect: WeightValue = Field(None, description="效益指标")
    satisfaction: WeightValue = Field(None, description="满意度指标")


class IndicatorWeightIn(BaseModel):
    id: int = Field(description="indicator id (GET /projects/{id})")
    weight: WeightValue = Field(description="分值/权重 in points, above 0; null = an equal share of what is left")


class WeightsIn(BaseModel):
    """A change of weights: all of it is stored, or (422, one problem per field) none of it."""

    levels: LevelWeightsIn | None = None
    indicators: list[IndicatorWeightIn] = Field(default_factory=list)


class IndicatorWeightOut(BaseModel):
    id: int
    level1: str
    level2: str
    name: str
    weight: Decimal | None = Field(description="as set; null = an equal share")
    points: Decimal | None = Field(description="分值 the self-evaluation prints (null: not scored, 实施期)")


class WeightsOut(BaseModel):
    project_id: int
    levels: LevelWeights = Field(description="level weights in force (the project's own, else the defaults)")
    own_levels: LevelWeights = Field(description="the project's own level weights; null where the default applies")
    indicators: list[IndicatorWeightOut]
    notes: list[str] = Field(description="levels whose indicator weights do not add up to the level's points "
                                         "and are scaled to them (also printed in the self-evaluation)")
    changed: bool | None = Field(None, description="PUT only: whether anything changed")


def _weights_out(weights: ProjectWeights, changed: bool | None = None) -> WeightsOut:
    return WeightsOut(
        project_id=weights.project_id, levels=LevelWeights(**weights.levels),
        own_levels=LevelWeights(**weights.own_levels),
        indicators=[IndicatorWeightOut(id=i.id, level1=i.level1, level2=i.level2, name=i.name, weight=i.weight,
                                       points=i.points) for i in weights.indicators],
        notes=weights.notes, changed=changed)


@router.get("/projects/{project_id}/weights", response_model=WeightsOut,
            summary="项目的分值/权重 (level and indicator weights, with the points they give)")
def get_weights(request: Request, project_id: int, user: User = Depends(api_user),
                session: Session = Depends(db_session)) -> WeightsOut:
    project = project_for_user(session, user, project_id)
    return _weights_out(project_weights(session, project, request.app.state.settings.scoring))


@router.put("/projects/{project_id}/weights", response_model=WeightsOut,
            summary="修改分值/权重，仅财政局管理员 (change weights; administrators only; all or nothing)",
            responses={403: {"description": "not an administrator"},
                       422: {"description": "nothing stored; one problem per field"}})
def put_weights(request: Request, project_id: int, body: WeightsIn, user: User = Depends(api_user),
                session: Session = Depends(db_session)) -> WeightsOut:
    rules = request.app.state.settings.scoring
    levels = {} if body.levels is None else {k: getattr(body.levels, k) for k in body.levels.model_fields_set}
    change = WeightsChange(levels=levels, indicators={i.id: i.weight for i in body.indicators})
    with write_turn(session):
        project = project_for_user(session, user, project_id)
        try:
            changed = change_weights(session, user, project, change, channel="api", rules=rules)
        except WeightsRefused as exc:
            session.rollback()
            raise HTTPException(422, {"message": "未保存任何内容 (nothing stored)",
                                      "problems": [p.to_json() for p in exc.problems]}) from exc
        except NotAllowed as exc:
            session.rollback()
            raise HTTPException(403, str(exc)) from exc
        session.commit()
    return _weights_out(project_weights(session, project, rules), changed)


@router.get("/projects/{project_id}/budget", response_model=BudgetOut,
            summary="年初预算数、调整记录、全年预算数 (budget and adjustments)")
def get_budget(request: Request, project_id: int, user: User = Depends(api_user),
               session: Session = Depends(db_session)) -> dict:
    project = project_for_user(session, user, project_id)
    figures = budget.budget_figures(session, project, today(request))
    history = budget.adjustment_history(session, project_id)
    superseded = facts.superseded_ids(history)
    return {"initial": _money(figures.initial), "in_force": _money(figures.in_force),
            "adjustments": [budget.adjustment_json(r, superseded) for r in history]}


@router.post("/projects/{project_id}/budget-adjustments", status_code=201, response_model=AdjustmentOut,
             summary="财政局调整项目预算 (the finance bureau adjusts a budget)")
def post_adjustment(request: Request, project_id: int, body: AdjustmentIn, user: User = Depends(api_user),
                    session: Session = Depends(db_session)) -> dict:
    project_for_user(session, user, project_id)
    entry = read_adjustment(project_id, amount=body.amount, effective_on=body.effective_on, reason=body.reason,
                            source=body.source, supersedes_id=body.supersedes_id)
    with write_turn(session), _recording_errors(session):
        row = budget.record_adjustment(session, user, entry, channel="api", today=today(request))
        session.commit()
    reevaluate(request, [project_id])
    return budget.adjustment_json(row)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
