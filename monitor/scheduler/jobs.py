"""The job registry: every scheduled job of kpiwatch, one line each.

To add a job, append ONE `JobSpec` line to `JOBS` below: a unique name, the "module:function" that does the
work (a function taking a `monitor.job_context.JobContext` and returning a dict of counts, or None),
its default schedule as a cron expression in Asia/Shanghai time, and a short Chinese description. Nothing
else is needed: `kpiwatch serve` / `kpiwatch scheduler` pick it up, `[scheduler.cron]` in config.toml can
change its schedule ("" switches it off), every run gets a `JobRun` row, and a lease makes sure several
replicas run each scheduled run once.

Cron expressions: "minute hour day month day_of_week" (5 fields) or with seconds first (6 fields). A cron of
None means "computed from the settings" (only the built-in daily evaluation, from `[scheduler] evaluate_at`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str
    cron: str | None
    description: str


JOBS: list[JobSpec] = [  # one line per job: name, "module:function", cron (Asia/Shanghai), description
    JobSpec("evaluate", "monitor.scheduler.builtin:daily_evaluation", None, "每日评估：计算全部指标的红黄绿灯"),
    JobSpec("report_monitor_draft", "monitor.reports.jobs:monitor_draft", "0 8 * * *", "监控表草稿：截止前一周发给各部门与财政局"),  # noqa: E501 - one line per job, as documented above
    JobSpec("report_selfeval_draft", "monitor.reports.jobs:selfeval_draft", "30 8 * * *", "自评表草稿：次年一月初发给各部门与财政局"),  # noqa: E501 - one line per job, as documented above
    JobSpec("notify", "monitor.notify.jobs:notify", "30 8 * * *", "每日提醒：工作日生成各部门摘要、督办抄送与周报并发送"),  # noqa: E501 - one line per job, as documented above
    JobSpec("send", "monitor.notify.jobs:send", "* * * * *", "发件箱：发送到期与待重试的邮件"),
    JobSpec("recover", "monitor.scheduler.recover:recover_job", "* * * * *", "接管：重跑中断的任务，关闭中断的评估，清理旧租约"),  # noqa: E501 - one line per job, as documented above
]
