"""All tables. Each area keeps its own module; importing this package registers every table on the metadata."""

from sqlmodel import SQLModel

from monitor.store.models.accounts import ApiToken, AuditEvent, LoginThrottle, User
from monitor.store.models.adjustments import TargetAdjustment
from monitor.store.models.core import BudgetYear, Contact, Department, ImportRun, Indicator, Project
from monitor.store.models.evaluation import EvaluationRun, IndicatorState, IndicatorStateChange, ProjectState
from monitor.store.models.imports import ImportUpload
from monitor.store.models.jobs import JobLease, JobRun, SchedulerJob
from monitor.store.models.notify import (
    Acknowledgement,
    NotificationDigest,
    NotifiedItem,
    OutboxMessage,
    Waiver,
)
from monitor.store.models.progress import BudgetAdjustment, Report, Spending
from monitor.store.models.reports import PrintedSelfEvalScore, SelfEvalEntry
from monitor.store.models.rounds import (
    ANSWERABLE_CORRECTIVE_STATUSES,
    EDITABLE_TASK_STATUSES,
    CorrectiveAction,
    ReviewComment,
    Round,
    RoundSubmission,
    RoundTask,
    task_overdue,
)

metadata = SQLModel.metadata

__all__ = [
    "ANSWERABLE_CORRECTIVE_STATUSES",
    "EDITABLE_TASK_STATUSES",
    "Acknowledgement",
    "ApiToken",
    "AuditEvent",
    "BudgetAdjustment",
    "BudgetYear",
    "Contact",
    "CorrectiveAction",
    "Department",
    "EvaluationRun",
    "ImportRun",
    "ImportUpload",
    "Indicator",
    "IndicatorState",
    "IndicatorStateChange",
    "JobLease",
    "JobRun",
    "LoginThrottle",
    "NotificationDigest",
    "NotifiedItem",
    "OutboxMessage",
    "Project",
    "ProjectState",
    "SchedulerJob",
    "Report",
    "ReviewComment",
    "Round",
    "RoundSubmission",
    "RoundTask",
    "PrintedSelfEvalScore",
    "SelfEvalEntry",
    "Spending",
    "TargetAdjustment",
    "User",
    "Waiver",
    "metadata",
    "task_overdue",
]
