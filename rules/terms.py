"""The vocabulary of kpiwatch: every domain word, defined once; every other module imports it from here.

Kinds of target, statuses and lights, what people report (grades, likelihoods, deviation causes) and through
which channel, the comparator symbols, and the thresholds of the evaluation. A second table of light names
or a second severity order is how grey once came to be called 未评估 in one report and ranked mildest in two
others; `tests/test_vocabulary.py` now refuses any definition of these words outside this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

# ------------------------------------------------------------------------------------------ targets

TARGET_KINDS: tuple[str, ...] = ("quantity", "percent", "deadline", "recurring", "window", "qualitative", "unparsed")
# Measured against a number (a value and an as-of date are reported).
MEASURED_KINDS: tuple[str, ...] = ("quantity", "percent")
# Time-bound: one or more occurrences, each due on a date (a completion date is reported).
SCHEDULED_KINDS: tuple[str, ...] = ("deadline", "window", "recurring")
# Graded by a person (评价等级); and a 指标值 the grammar could not read, kept verbatim.
QUALITATIVE = "qualitative"
UNPARSED = "unparsed"

# How a comparator of a 指标值 is written.
SYMBOL: dict[str, str] = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}

# ------------------------------------------------------------------------------------------ states

STATUSES: tuple[str, ...] = ("met", "on_track", "behind", "over_cap", "due_soon", "overdue", "missed",
                             "not_due", "no_report", "needs_grade", "unparsed")
# A status named in each language (a past explanation's status on the portal); in English it also stands in for the
# reason of an old state that kept none in English.
STATUS_NAMES: dict[str, str] = {
    "met": "已达成", "on_track": "进展正常", "behind": "进度滞后", "over_cap": "超过上限", "due_soon": "即将到期",
    "overdue": "逾期", "missed": "未按期完成", "not_due": "未到期", "no_report": "未填报", "needs_grade": "待评定",
    "unparsed": "指标值无法识别"}
STATUS_NAMES_EN: dict[str, str] = {
    "met": "Met", "on_track": "On track", "behind": "Behind", "over_cap": "Over the cap", "due_soon": "Due soon",
    "overdue": "Overdue", "missed": "Missed", "not_due": "Not due yet", "no_report": "Not reported",
    "needs_grade": "Awaiting a grade", "unparsed": "Target not readable"}
# The statuses counted as 逾期 everywhere (digest, weekly summary, portal): a due date passed without completion,
# whether it is still open (overdue) or can no longer be met this year (missed).
OVERDUE_STATUSES: frozenset[str] = frozenset({"overdue", "missed"})
# 填报完整率: of the periods that should have data by the as-of date (EXPECTED_STATUSES), those that have it
# (REPORTED_STATUSES). Not yet due, due soon and unreadable targets count in neither.
REPORTED_STATUSES: frozenset[str] = frozenset({"met", "on_track", "behind", "over_cap"})
EXPECTED_STATUSES: frozenset[str] = REPORTED_STATUSES | OVERDUE_STATUSES | {"no_report", "needs_grade"}

# The lights in the order tables, counts and summaries list them.
LIGHTS: tuple[str, ...] = ("red", "yellow", "green", "blue", "grey")
# The one severity order, mildest first: a project's light, a page's light and a report's light are the worst
# of their parts by it. The rule books rank only red > yellow > green > blue; grey (data that should be there
# is not, or a target the system cannot read) ranks between yellow and green, so that a missing report never
# shows green while a real red or yellow still wins. See rules/lights.py for the roll-ups.
LIGHTS_BY_SEVERITY: tuple[str, ...] = ("blue", "green", "grey", "yellow", "red")
SEVERITY: dict[str, int] = {light: rank for rank, light in enumerate(LIGHTS_BY_SEVERITY)}

LIGHT_NAMES: dict[str, str] = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "blue": "蓝灯", "grey": "灰灯"}
LIGHT_NAMES_EN: dict[str, str] = {"red": "Red", "yellow": "Yellow", "green": "Green", "blue": "Blue", "grey": "Grey"}
# The one-character form, where a name stands beside a count ("红1 黄2") or in a narrow column.
LIGHT_SHORT_NAMES: dict[str, str] = {"red": "红", "yellow": "黄", "green": "绿", "blue": "蓝", "grey": "灰"}
# No state at all (never evaluated), which is not grey: grey is a judgement ("the data is missing").
NOT_EVALUATED = "未评估"
NOT_EVALUATED_EN = "Not evaluated"


def worst_light(lights: Iterable[str | None]) -> str | None:
    """The most severe of `lights` (by `SEVERITY`; missing ones ignored), None when there is none; on a tie the
    first one wins."""
    worst = None
    for light in lights:
        if light is not None and (worst is None or SEVERITY.get(light, -1) > SEVERITY.get(worst, -1)):
            worst = light
    return worst


# ------------------------------------------------------------------------------------------ what is reported

# A qualitative indicator's grade (评价等级), best first.
GRADES: tuple[str, ...] = ("达成年度指标", "部分达成年度指标并具有一定效果", "未达成年度指标且效果较差")
# 完成目标可能性, most confident first.
LIKELIHOODS: tuple[str, ...] = ("确定能", "有可能", "完全不可能")
# The five columns of 偏差原因分析 in the monitoring table.
DEVIATION_CAUSES: tuple[str, ...] = ("经费保障", "制度保障", "人员保障", "硬件条件保障", "其他")
# What a grade means for the light, the status and the likelihood.
GRADE_LIGHTS: dict[str, tuple[str, str, str]] = dict(zip(GRADES, (
    ("green", "met", LIKELIHOODS[0]),
    ("yellow", "behind", LIKELIHOODS[1]),
    ("red", "behind", LIKELIHOODS[2]),
), strict=True))
# The self-evaluation's 等级 of a project's total score, best first (the score bands are in ScoringRules).
SCORE_GRADES: tuple[str, ...] = ("优", "良", "中", "差")
# The words a 自评表 prints in its 实际完成值 column for a graded indicator, and the grade each one is; only these
# whole words, so "基本完成，个别延期" is not guessed at. 优/良/中/差 fall in the grades' bands by the score bands
# above (优 ≥ 90 and 良 ≥ 80 inside 达成's 80–100 %, 中 ≥ 60 inside 部分达成's 60–80 %, 差 below 60).
GRADE_WORDS: dict[str, str] = {
    **{grade: grade for grade in GRADES},
    **dict(zip(SCORE_GRADES, (GRADES[0], GRADES[0], GRADES[1], GRADES[2]), strict=True)),
    **dict.fromkeys(("达成", "已达成", "达到", "已达到", "达到预期", "达到目标", "完成", "已完成", "全部完成",
                     "按时完成", "按期完成", "如期完成", "优秀", "良好"), GRADES[0]),
    **dict.fromkeys(("部分达成", "基本达成", "基本达到", "基本达到预期", "部分完成", "基本完成", "一般"), GRADES[1]),
    **dict.fromkeys(("未达成", "未达到", "未达到预期", "未完成", "较差"), GRADES[2]),
}
# How the self-evaluation scores a cap (≤, <) that was exceeded and an "=" target that was missed, as provinces
# differ ([scoring] cap_formula / exact_formula; the first is the default): "deduct" p × (1 − |a − t| ÷ t),
# "ratio" p × t ÷ a for a cap and p × smaller ÷ larger for "=", "all_or_nothing" 0 unless met.
CAP_FORMULAS: tuple[str, ...] = ("deduct", "ratio")
EXACT_FORMULAS: tuple[str, ...] = ("deduct", "ratio", "all_or_nothing")

# Where a project's money comes from, as the tables' 资金 rows split it: the key stored with a spending figure or a
# budget adjustment, and the row's name. 财政拨款 (当年财政拨款) and 其他资金 have a 年初预算数 from the imported
# table; 上年结转 has none until an adjustment brings some.
FUND_SOURCES: dict[str, str] = {"fiscal": "财政拨款", "other": "其他资金", "carryover": "上年结转"}
# Where a report came from.
CHANNELS: tuple[str, ...] = ("portal", "upload", "api", "cli", "demo")
CHANNEL_NAMES: dict[str, str] = {"portal": "门户", "upload": "上传", "api": "接口", "cli": "命令行", "demo": "演示"}
CHANNEL_NAMES_EN: dict[str, str] = {"portal": "the portal", "upload": "an upload", "api": "the API", "cli": "the CLI",
                                    "demo": "the demo"}


# ------------------------------------------------------------------------------------------ thresholds


@dataclass(frozen=True)
class EvaluationSettings:
    """The thresholds of the rules, in percent where they are ratios; defaults as in provincial systems."""

    progress_mode: str = "month"
    progress_curve: dict[str, Decimal] = field(default_factory=dict)
    red_below: Decimal = Decimal(60)
    yellow_below: Decimal = Decimal(80)
    blue_at: Decimal = Decimal(120)
    percent_yellow_from: Decimal = Decimal(90)
    budget_red_below: Decimal = Decimal(60)
    budget_yellow_below: Decimal = Decimal(80)
    warning_days: int = 7
    staleness_days: int = 35
    needs_grade_days: int = 31
    percent_due_month: int = 12
    likelihood_possible_from: Decimal = Decimal(60)


# ------------------------------------------------------------------------------------------ rounds

# The bureau's rounds (监控任务 / 自评任务): which table each asks for follows from its kind.
ROUND_KINDS: tuple[str, ...] = ("monitor", "second_monitor", "selfeval")
ROUND_KIND_NAMES: dict[str, str] = {"monitor": "年中绩效监控", "second_monitor": "第二轮绩效监控",
                                    "selfeval": "年度绩效自评"}
ROUND_KIND_NAMES_EN: dict[str, str] = {"monitor": "Mid-year monitoring", "second_monitor": "Second monitoring",
                                       "selfeval": "Year-end self-evaluation"}
# A round is open until the bureau closes it; nothing of a closed round changes any more.
ROUND_STATUSES: tuple[str, ...] = ("open", "closed")
ROUND_STATUS_NAMES: dict[str, str] = {"open": "进行中", "closed": "已关闭"}
# Which projects a round covers: all of the departments' projects, or the 重点监控 ones the rules pick.
ROUND_SCOPES: tuple[str, ...] = ("all", "focus")
# A department's task in a round, in the order it normally moves.
TASK_STATUSES: tuple[str, ...] = ("pending", "submitted", "returned", "approved")
TASK_STATUS_NAMES: dict[str, str] = {"pending": "待填报", "submitted": "已上报", "returned": "已退回",
                                     "approved": "已通过"}
TASK_STATUS_NAMES_EN: dict[str, str] = {"pending": "To fill", "submitted": "Submitted", "returned": "Returned",
                                        "approved": "Approved"}
# A corrective action (整改) the bureau requires, in the order it normally moves: the department answers with its
# 整改结果和结论, the bureau accepts it, or reopens it and the department answers again.
CORRECTIVE_STATUSES: tuple[str, ...] = ("open", "answered", "accepted", "reopened")
CORRECTIVE_STATUS_NAMES: dict[str, str] = {"open": "待整改", "answered": "已答复", "accepted": "已验收",
                                           "reopened": "重新整改"}
CORRECTIVE_STATUS_NAMES_EN: dict[str, str] = {"open": "To correct", "answered": "Answered", "accepted": "Accepted",
                                              "reopened": "Reopened"}
# What the bureau's review of a submitted version concludes (审核: 通过 / 退回).
REVIEW_VERDICTS: tuple[str, ...] = ("approved", "returned")
REVIEW_VERDICT_NAMES: dict[str, str] = {"approved": "通过", "returned": "退回"}
# Why a project is picked for 重点监控, read from the evaluation's stored states.
FOCUS_REASONS: dict[str, str] = {
    "behind_schedule": "支出进度滞后于序时进度",
    "red_light": "指标红灯",
    "no_spending": "资金支出为0",
    "large_funds": "大额资金",
    "quantity_deviation": "数量指标偏差超过阈值",
}


@dataclass(frozen=True)
class FocusRules:
    """The thresholds of the 重点监控 pick: a project with funds ≥ `large_funds_yuan` (元) is large; a 数量指标
    whose completion ratio (% of 序时目标) is more than `quantity_deviation_percent` from 100 is off."""

    large_funds_yuan: Decimal = Decimal(5_000_000)
    quantity_deviation_percent: Decimal = Decimal(30)


# ------------------------------------------------------------------------------------------ target adjustments

# A target adjustment (目标调整) is proposed by a department (or by a re-import once a round has opened) and
# decided once by the finance bureau; only an approved one changes the target in force from its effective day.
ADJUSTMENT_STATUSES: tuple[str, ...] = ("proposed", "approved", "rejected")
ADJUSTMENT_STATUS_NAMES: dict[str, str] = {"proposed": "待审核", "approved": "已批准", "rejected": "已驳回"}
ADJUSTMENT_STATUS_NAMES_EN: dict[str, str] = {"proposed": "Awaiting review", "approved": "Approved",
                                              "rejected": "Rejected"}
# ------------------------------------------------------------------------------------------ names shown in the portal

# Who a user is (the stored role) as the portal names it, in each language.
ROLE_NAMES: dict[str, str] = {"clerk": "经办人", "head": "部门负责人", "admin": "财政局管理员", "auditor": "财政局审计"}
ROLE_NAMES_EN: dict[str, str] = {"clerk": "Clerk", "head": "Department head", "admin": "Bureau administrator",
                                 "auditor": "Bureau auditor"}
# The scheduled jobs whose last runs the status page lists.
JOB_NAMES: dict[str, str] = {"evaluate": "每日评估", "notify": "生成提醒邮件", "send": "发送邮件"}
JOB_NAMES_EN: dict[str, str] = {"evaluate": "Daily evaluation", "notify": "Reminder emails", "send": "Sending"}
# The deviation causes and the likelihoods in English, keyed by the Chinese word stored and printed.
DEVIATION_CAUSES_EN: dict[str, str] = dict(zip(DEVIATION_CAUSES, (
    "Funding", "Rules and procedures", "Staffing", "Equipment and facilities", "Other"), strict=True))
LIKELIHOODS_EN: dict[str, str] = dict(zip(LIKELIHOODS, ("Certain", "Possible", "Impossible"), strict=True))
GRADES_EN: dict[str, str] = dict(zip(GRADES, (
    "Target met", "Partly met, with some effect", "Not met, little effect"), strict=True))
# The self-evaluation's score grades (SCORE_GRADES) in English.
SCORE_GRADES_EN: dict[str, str] = dict(zip(SCORE_GRADES, ("Excellent", "Good", "Fair", "Poor"), strict=True))
# An outbox message's status as the status page names it.
OUTBOX_STATUS_NAMES: dict[str, str] = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}
