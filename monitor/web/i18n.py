"""Chinese first, English on request: templates write `{{ t("登录") }}`; the catalogue maps Chinese to English.

A missing English entry falls back to the Chinese text, so a page is never blank, only untranslated; the page
walk (tests/test_one_language.py) fails on it. The catalogue stays a dict keyed by the Chinese text rather than
gettext .po files: Chinese is the source language, every caller already writes it, there is no third language
to hand to translators, and a dict needs no extraction or compile step that could drift from the code.

Messages made below the web layer (refusals, validation problems) are written once in both languages by the
house convention "中文说明 (english text)"; `one_language` picks the side the page is in, so such a message is
never shown half in each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from fastapi import Request

from monitor.importers.document import CUT_OFF
from rules.bilingual import PLACE, sides, template_pattern
from rules.terms import (
    ADJUSTMENT_STATUS_NAMES,
    ADJUSTMENT_STATUS_NAMES_EN,
    CHANNEL_NAMES,
    CHANNEL_NAMES_EN,
    CORRECTIVE_STATUS_NAMES,
    CORRECTIVE_STATUS_NAMES_EN,
    DEVIATION_CAUSES_EN,
    GRADES,
    GRADES_EN,
    JOB_NAMES,
    JOB_NAMES_EN,
    LIGHT_NAMES,
    LIGHT_NAMES_EN,
    LIGHTS,
    LIKELIHOODS_EN,
    NOT_EVALUATED,
    NOT_EVALUATED_EN,
    OUTBOX_STATUS_NAMES,
    ROLE_NAMES,
    ROLE_NAMES_EN,
    ROUND_KIND_NAMES,
    ROUND_KIND_NAMES_EN,
    SCORE_GRADES_EN,
    TASK_STATUS_NAMES,
    TASK_STATUS_NAMES_EN,
)

LANGS = ("zh", "en")
SENTENCES = "；"
LANG_COOKIE = "lang"

EN: dict[str, str] = {
    "绩效运行监控表": "Monitoring table", "绩效自评表": "Self-evaluation", "部门汇总": "Department summary",
    "下载 Excel": "Download Excel", "下载 PDF": "Download PDF",
    "序时目标": "Expected to date", "实际完成": "Actual", "完成率": "Ratio", "全年预计": "Year-end forecast",
    "评估日期": "Evaluated on",
    "预算绩效目标运行监控": "Budget performance monitoring",
    "登录": "Log in", "退出": "Log out", "用户名": "Username", "密码": "Password",
    "菜单": "Menu", "主菜单": "Main menu",
    "首页": "Home", "部门": "Department", "项目": "Project", "项目名称": "Project", "指标": "Indicator",
    "指标值": "Target", "目标含义": "Meaning", "最近填报": "Latest report", "填报历史": "History",
    "填报": "Report", "提交": "Submit", "更正": "Correct", "更正此条": "Correct this entry", "状态": "Light",
    "未填报": "Not reported", "下一期限": "Next due", "无": "None",
    "全部部门": "All departments", "审计日志": "Audit log", "导出 CSV": "Export CSV",
    "联系人": "Contacts", "暂停提醒": "Waivers", "运行状态": "Status", "报告": "Reports",
    "下载填报表 (Excel)": "Download workbook (Excel)", "下载 CSV": "Download CSV", "上传填报表": "Upload workbook",
    "上传": "Upload", "文件": "File", "API 令牌": "API tokens", "新建令牌": "New token", "吊销": "Revoke",
    "名称": "Name", "创建时间": "Created", "已吊销": "Revoked", "有效": "Active",
    "数值": "Value", "截至日期": "As of", "完成期次": "Occurrence", "完成日期": "Completed on", "评价等级": "Grade",
    "情况说明": "Explanation", "全年预计完成情况": "Year-end forecast", "偏差原因": "Deviation causes",
    "完成目标可能性": "Likelihood", "备注": "Note", "修订": "Revision", "填报人": "By", "渠道": "Channel",
    "时间": "When", "已被更正": "Superseded", "当前有效": "Effective", "支出进度": "Spending",
    "项目预算": "Budget", "年初预算数 (元)": "Budget as adopted (yuan)", "全年预算数 (元)": "Budget in force (yuan)",
    "含预算调整": "including adjustments:", "笔": "entries",
    "调整金额 (元，调减为负数)": "Change (yuan, a cut is negative)",
    "调整金额 (元)": "Change (yuan)", "资金来源": "Fund source", "调整日期": "Effective on", "调整原因": "Reason",
    "更正的记录": "Corrects entry", "记录预算调整": "Record adjustment", "财政拨款": "Fiscal appropriation",
    "其他资金": "Other funds", "上年结转": "Carried over", "其中：财政拨款 (元)": "of which fiscal (yuan)",
    "其中：其他资金 (元)": "of which other funds (yuan)", "其中：上年结转 (元)": "of which carried over (yuan)",
    "执行数 (元)": "Spent to date (yuan)", "年度预算 (元)": "Annual budget (yuan)", "记录支出": "Record spending",
    "无权访问": "Forbidden", "未找到": "Not found", "出错了": "Error", "返回首页": "Back to home",
    "一级指标": "Level 1", "二级指标": "Level 2", "三级指标": "Level 3", "类型": "Kind",
    "数量": "Quantity", "百分比": "Percent", "截止": "Deadline", "周期": "Recurring", "时段": "Window",
    "定性": "Qualitative", "未能识别": "Unparsed", "操作": "Action", "对象": "Entity", "之前": "Before",
    "之后": "After", "操作人": "Actor", "已保存": "Saved", "没有新内容": "Nothing new",
    "请更正以下问题，未保存任何内容": "Nothing was stored; please fix these problems",
    "工作表": "Sheet", "行": "Row", "列": "Column", "问题": "Problem", "项目数": "Projects",
    "指标数": "Indicators", "令牌只显示一次，请立即复制": "The token is shown only once; copy it now",
    "我的账号": "My account", "角色": "Role", "更改角色": "Change role", "修改密码": "Change password",
    "当前密码": "Current password", "新密码": "New password", "确认新密码": "Confirm new password",
    "密码已更新，其他设备上的登录已全部退出": "Password changed; every other sign-in has been ended",
    "示例数据": "Sample data", "可选": "optional",
    "仅财政局可见": "Finance bureau only", "语言": "Language", "年度": "Year", "预算": "Budget",
    "共": "Total", "年度指标": "Annual", "实施期指标": "Whole period", "用户": "Users", "逾期": "Overdue",
    "条": "entries", "选择期次": "Choose occurrence", "本部门项目": "Our projects",
    "截至": "as of", "期次": "occurrence", "完成": "done", "停用": "Disabled", "启用": "Enable", "停用账号": "Disable",
    "条指标填报": "indicator reports", "条支出": "spending entries",
    "条与已有记录相同，未重复保存。": "already on record, not stored again.",
    "预算年度已结束：现在填报的是年末结果（评价等级、全年完成值、全年执行数），截至日期默认为":
        "The budget year is over: what you report now is the year-end result (grade, final value, year's "
        "spending); the as-of date defaults to",
    "，计入该年度自评。": ", and it counts in that year's self-evaluation.",
    "分值/权重": "Points and weights", "一级分值": "Level", "分值": "Points", "权重": "Weight",
    "预算执行率": "Budget execution", "产出": "Outputs", "效益": "Effects", "满意度": "Satisfaction",
    "留空：一级分值取默认值，指标平分本级剩余分值":
        "Left empty: a level takes the default points, an indicator an equal share of what its level has left",
    "保存分值": "Save weights",
    # rounds (monitor/web/pages_rounds.py)
    "填报轮次": "Rounds", "我的任务": "My tasks", "轮次": "Round", "报送截止日期": "Due date",
    "发起轮次": "Open a round",
    "轮次类型": "Kind", "数据截至月份": "Data through month", "部门代码（逗号分隔，留空为全部）":
        "Department codes (comma-separated, blank for all)", "项目范围": "Projects", "全部项目": "All projects",
    "重点监控项目（按规则筛选）": "Focus projects (picked by rules)",
    "大额资金标准（万元）": "Large funds from (10k yuan)",
    "发起": "Open", "已发起": "Opened", "进行中": "Open", "已关闭": "Closed", "关闭轮次": "Close round",
    "版本": "Version", "审核意见": "Review comment", "重点监控": "Focus", "实际完成值": "Actual", "得分": "Score",
    "偏差原因分析及改进措施": "Deviation causes and improvements", "执行情况": "Progress", "填写": "Fill in",
    "整改措施": "Corrective measures", "保存": "Save", "上报": "Submit to the bureau",
    "上报后本版本冻结，财政局审核前不能修改": "Once submitted this version is frozen until the bureau reviews it",
    "审核": "Review", "审核结论": "Verdict", "总体意见": "General comment", "对项目的意见": "Comment on project",
    "对指标的意见": "Comment on indicator", "意见": "Comment", "提交审核": "Record review",
    "已上报版本": "Submitted versions",
    "下载": "Download", "待审核": "Awaiting review", "通过": "Approve", "退回": "Return", "已审核": "Reviewed",
    "支出进度滞后于序时进度": "Spending behind schedule", "指标红灯": "Red indicator", "资金支出为0": "No spending",
    "大额资金": "Large funds", "数量指标偏差超过阈值": "Quantity off target",
    "整改事项": "Corrective actions", "发起整改": "Require corrective action", "整改要求和建议": "Requirement",
    "整改期限": "Due", "整改结果和结论": "Result", "财政局意见": "Bureau's note", "答复": "Answer",
    "验收意见": "Note", "验收": "Accept", "重新整改的原因": "What is still missing", "新的整改期限": "New due date",
    "重新整改": "Reopen", "没有整改事项": "No corrective actions", "已发起整改": "Corrective action issued",
    "本部门未完成的整改": "Open corrective actions of the department", "导出 Excel 报送情况": "Export status (Excel)",
    **{CORRECTIVE_STATUS_NAMES[k]: CORRECTIVE_STATUS_NAMES_EN[k] for k in CORRECTIVE_STATUS_NAMES},
    # target adjustments (monitor/web/pages_adjustments.py)
    "目标调整": "Target adjustments", "原目标": "Original target", "调整后目标": "Adjusted target",
    "生效日期": "Effective on", "调整理由": "Reason", "审批意见": "Decision note", "批准": "Approve",
    "驳回": "Reject", "驳回理由": "Why rejected", "申请目标调整": "Request adjustment", "起": "onwards",
    "导入": "Import",
    **{ADJUSTMENT_STATUS_NAMES[k]: ADJUSTMENT_STATUS_NAMES_EN[k] for k in ADJUSTMENT_STATUS_NAMES},
    **{ROUND_KIND_NAMES[k]: ROUND_KIND_NAMES_EN[k] for k in ROUND_KIND_NAMES},
    **{TASK_STATUS_NAMES[k]: TASK_STATUS_NAMES_EN[k] for k in TASK_STATUS_NAMES},
    # the lights' names, in both languages from the vocabulary
    **{LIGHT_NAMES[light]: LIGHT_NAMES_EN[light] for light in LIGHTS},
    NOT_EVALUATED: NOT_EVALUATED_EN,
    "从": "From", "到": "To", "全部": "All", "筛选": "Filter", "导出 Excel": "Export Excel", "第": "page",
    "页": "", "上一页": "Previous", "下一页": "Next",
    # the bureau's overview, the clerk's 待办 and the project page's index (issue 16 items 3 and 4)
    "部门总览": "Department overview", "预算年度": "Budget year", "灯色": "Lights", "仅看有逾期的部门": "Overdue only",
    "搜索部门": "Search departments", "部门名称或编码": "Name or code", "序时进度": "Time progress", "显示": "Showing",
    "个部门": "departments", "还没有任何评估结果：灯色与逾期为空": "Not evaluated yet: no lights or overdue counts",
    "灯色与逾期为最近一次评估的结果，评估日期": "Lights and overdue counts are of the latest evaluation, on",
    "各部门项目灯色": "Project lights by department", "按当前排序显示前": "Showing, in the current order, the first",
    "支出进度与序时进度（按月）": "Spending against time progress, by month", "执行率": "Execution",
    "月": "", "即将到期": "Due soon", "执行率÷序时进度": "Execution ÷ time progress",
    "填报完整率": "Reported", "最近动态": "Latest activity", "万元": "10k yuan", "部门编码": "Code",
    "逾期项数": "Overdue items", "逾期期数": "Overdue periods", "全年预算数（万元）": "Budget in force (10k yuan)",
    "执行数（万元）": "Spent (10k yuan)", "执行率（%）": "Execution (%)",
    "执行率÷序时进度（%）": "Execution ÷ time progress (%)", "填报完整率（%）": "Reported (%)",
    "待办": "To do", "已逾期": "Overdue", "本周到期": "Due this week", "尚未填报": "Not reported yet",
    "期逾期": "periods overdue", "期限": "Due", "完成所选期次": "Complete the ticked periods",
    "记录完成": "Record completion", "已记录完成的期数": "Periods recorded as completed", "指标目录": "Indicators",
    "已按此数值记录": "Recorded as this number", "分页": "Pages", "本部门全部项目": "All our projects",
    **{ROLE_NAMES[k]: ROLE_NAMES_EN[k] for k in ROLE_NAMES},
    **{JOB_NAMES[k]: JOB_NAMES_EN[k] for k in JOB_NAMES},
    **{CHANNEL_NAMES[k]: CHANNEL_NAMES_EN[k].split(" ", 1)[-1].capitalize().replace("Api", "API")
       .replace("Cli", "CLI") for k in CHANNEL_NAMES},
    **DEVIATION_CAUSES_EN, **LIKELIHOODS_EN, **GRADES_EN,
    # accessibility, account, users, contacts, waivers, status (monitor/web/templates)
    "跳到正文": "Skip to content", "接口文档": "API documentation", "邮箱": "Email", "新建用户": "Create user",
    "提醒联系人": "Reminder contacts", "姓名": "Name", "已停用": "Disabled", "添加联系人": "Add contact",
    "经办人": "Clerk", "负责人": "Head", "绩效管理员": "Performance officer",
    "提醒豁免": "Reminder waivers", "暂停至": "Paused until", "原因": "Reason",
    "设置人": "Set by", "已撤销": "Revoked", "撤销": "Revoke", "写作": "written", "编号": "id", "或": "or",
    "添加豁免": "Add waiver",
    "被豁免的项目或指标在截止日期前不触发提醒，但仍在部门摘要的“已暂停提醒（豁免）”中列出。":
        "A waived project or indicator raises no reminder until the date given, but is still listed under "
        "“reminders paused (waived)” in the department's digest.",
    "指标编号": "Indicator id", "项目编号": "Project id", "执行数": "Spent to date",
    "其中：财政拨款": "of which fiscal", "其中：其他资金": "of which other funds",
    "其中：上年结转": "of which carried over",
    "自评复核": "Self-evaluation review", "部门自评总分": "Department's total", "kpiwatch 总分": "kpiwatch total",
    "不一致": "Disagreements", "部门自评得分": "Department's score",
    "kpiwatch 得分": "kpiwatch score", "不一致原因": "Why they disagree", "下载 JSON": "Download JSON",
    "本年度尚未导入绩效自评表": "No self-evaluation imported for this year",
    "各部门自评排名（财政局）": "Ranking of departments (bureau)", "尚无年度数据": "No budget year yet",
    "告警": "Warning", "任务": "Job", "最近成功": "Last success", "最近一次运行": "Last run", "结果": "Result",
    "从未": "Never", "成功": "Succeeded", "运行中或中断": "Running or interrupted", "失败": "Failed",
    "最近一次完整评估": "Last full evaluation", "发件箱": "Outbox", "空": "Empty", "收件人": "Recipients",
    "主题": "Subject", "错误": "Error", "全部重试": "Retry all",
    **{OUTBOX_STATUS_NAMES[k]: en for k, en in (("pending", "Waiting"), ("sending", "Sending"), ("sent", "Sent"),
                                                ("failed", "Failed"))},
    # the admin's upload of a published target table (pages_import)
    "导入绩效目标表": "Import target tables", "未导入任何内容": "Nothing was imported", "已导入": "Imported",
    "预览（尚未导入）": "Preview (not imported yet)", "个项目": "projects", "个指标": "indicators",
    "新建": "Created", "更新": "Updated", "未变": "Unchanged", "确认导入": "Import",
    "主管部门代码（文件中没有时填写）": "Department code (when the file has none)",
    "预算年度（文件中没有时填写）": "Budget year (when the file has none)",
    "表格在末尾被截断时只导入完整的部分": "If a table is cut off at the end, import only its complete part",
    "预览": "Preview",
    # the page an email's "说明原因" link opens (notify_ack.html)
    "说明偏差原因": "Explain the deviation", "当前状态": "Current state",
    "已记录说明。在该指标状态变化之前，提醒邮件不再重复此事项。":
        "Explanation recorded. Reminder emails will not repeat this item until its state changes.",
    "该指标的状态已经变化，此链接不再适用；请登录门户查看最新情况。":
        "This indicator's state has changed, so this link no longer applies; sign in to the portal to see the latest.",
    "具体说明": "Details", "填写人（姓名或邮箱）": "Your name or email", "提交说明": "Submit the explanation",
    "以往说明": "Earlier explanations", "说明": "Explanation", "填写人": "By",
    # the official tables as the portal shows them (monitor/reports): headings, then the sentences the reports
    # build, their numbers and names in the {n} places ("；"-joined sentences are said one by one)
    "项目支出绩效目标执行监控表": "Performance target monitoring table",
    "（{0}年度　数据截至{1}月底）": "(year {0}, data through the end of month {1})",
    "{0}年度 项目支出绩效目标执行监控表（1-{1}月）": "{0} performance target monitoring table (months 1–{1})",
    "主管部门及代码": "Department and code", "实施单位": "Implementing unit",
    "项目资金（万元）": "Project funds (10k yuan)", "年初预算数": "Budget as adopted", "全年预算数": "Budget in force",
    "1-{0}月": "months 1–{0}", "{0}执行数": "Spent, {0}", "{0}执行率": "Execution, {0}",
    "全年预计执行数": "Year-end spending forecast", "年度总体目标": "Overall annual goal",
    "年初设定目标": "Goal set at the start of the year", "{0}实际完成情况": "Achieved, {0}",
    "年度指标值": "Annual target", "{0}执行情况": "Progress, {0}", "偏差原因分析": "Deviation analysis",
    "（无年度指标）": "(no annual indicators)", "图表": "Charts", "年度资金总额": "Total annual funds",
    # the reports' charts (monitor/reports/charts.py); a month's tick says only its number, as the overview's
    "{0}年 各部门指标监控灯": "{0}: indicator lights by department", "（无数据）": "(no data)",
    "{0}年 预算执行进度与序时进度": "{0}: budget execution against time progress",
    "实际执行率": "Actual execution", "累计执行率（%）": "Cumulative execution (%)",
    "自评得分分布": "Self-evaluation scores", "{0} 个": "{0}",
    "（系统汇总）截至{0}月底，{1} 项年度指标中已填报 {2} 项，未填报 {3} 项；资金执行 {4} 万元（执行率 {5}）。":
        "(System summary) By the end of month {0}, {2} of {1} annual indicators reported, {3} not; spent "
        "(10k yuan): {4} (execution {5}).",
    "（系统汇总）截至{0}月底，{1} 项年度指标中已填报 {2} 项，未填报 {3} 项；资金执行 {4} 万元（执行率 {5}）。"
    "全年预计执行数为系统按已执行进度预测，请部门核实。":
        "(System summary) By the end of month {0}, {2} of {1} annual indicators reported, {3} not; spent "
        "(10k yuan): {4} (execution {5}). The year-end spending forecast is the system's, from the pace so "
        "far: the department should check it.",
    "{0:date}期：{1:date}完成": "period due {0}: done on {1}",
    "{0:date}期：{1:date}完成（逾期）": "period due {0}: done late, on {1}",
    "{0:date}期：未填报": "period due {0}: not reported", "未到期": "Not yet due",
    "已完成 {0}/{1} 期": "{0} of {1} periods done", "{0}（截至{1:date}）": "{0} (as of {1})",
    "{0:date}完成": "Done on {0}",
    **{f"{grade}：{{0}}": f"{GRADES_EN[grade]}: {{0}}" for grade in GRADES},
    "系统评估：{0}": "System's light: {0}", "系统预测全年 {0}": "System's year-end forecast {0}",
    "系统判断：{0}": "System's judgement: {0}", "原目标：{0} → 调整后目标：{1}": "Original target: {0} → adjusted: {1}",
    "项目支出绩效自评表": "Project performance self-evaluation", "（{0}年度）": "(year {0})",
    "{0}年度 项目支出绩效自评表": "{0} project performance self-evaluation", "全年执行数": "Spent in the year",
    "预期目标": "Expected goal", "实际完成情况": "Achieved", "计分依据": "How it was scored",
    "人工评分 / 偏差说明": "Score by hand / deviation note", "总分": "Total", "自评等级": "Grade",
    "、": ", ", **SCORE_GRADES_EN,
    "得分未满、尚缺“偏差原因分析及改进措施”的指标（{0} 项）：{1}":
        "Below full points and still without deviation causes and improvements ({0}): {1}",
    "定性指标待人工在等级区间内评分（暂按区间下限计）：{0}":
        "Qualitative indicators waiting for a score by hand within their grade's interval (counted at its "
        "lower end until then): {0}",
    "（系统汇总）全年执行 {0} 万元；{1} 项指标得分 {2} / {3}。":
        "(System summary) Spent in the year (10k yuan): {0}; {1} indicators score {2} of {3}.",
    "指标值无法自动解析且未填报等级：需人工评分": "Target not understood and no grade reported: score by hand",
    "等级“{0}”不在三档之内：需人工评分": "Grade “{0}” is none of the three: score by hand",
    "{0}：得分区间[{1}, {2}]，待人工评分（暂按下限）":
        "{0}: score within [{1}, {2}], to be scored by hand (lower end until then)",
    "{0}：人工评分 {1}（区间[{2}, {3}]）": "{0}: scored {1} by hand (interval [{2}, {3}])",
    "按时 {0}、逾期 {1}、未完成 {2} / 共 {3} 次：{4}": "on time {0}, late {1}, missed {2} of {3}: {4}",
    "按时完成（{0} 次）：满分": "Done on time ({0} times): full points",
    "无指标值，无法计分": "No target value: cannot be scored",
    "区间指标缺少上限，无法计分": "Range without an upper bound: cannot be scored",
    "{0} 在 {1}～{2} 之内：满分": "{0} within {1}–{2}: full points", "{0}：满分": "{0}: full points",
    "{0}，未达到目标{1}，不得满分": "{0}; target {1} not reached, so not full points", "{0}：0 分": "{0}: 0 points",
    "{0} 超出上限 {1}：0 分": "{0} over the limit {1}: 0 points",
    "{0} 超出上限 {1} 达 {2} 倍及以上：0 分": "{0} over the limit {1} by {2} times or more: 0 points",
    "无法计分的指标类型 {0}": "Indicator kind {0} cannot be scored",
    "{0}本级分值为 0，其 {1} 项指标不计分": "{0} has 0 points: its {1} indicators are not scored",
    "{0}指标分值合计 {1}（另有 {2} 项未设分值，按平均分值计，共 {3}），与本级分值 {4} 不符，已按比例折算":
        "{0} indicators' points add up to {1} ({2} more without points counted at the mean, {3} in all), not "
        "the level's {4}: scaled in proportion",
    "{0}指标分值合计 {1}，与本级分值 {2} 不符，已按比例折算":
        "{0} indicators' points add up to {1}, not the level's {2}: scaled in proportion",
    "无{0}指标，其 {1} 分未能分配": "No {0} indicators: their {1} points could not be given to another level",
    "{0}：一级指标“{1}”不属于产出/效益/满意度，未计分":
        "{0}: level 1 “{1}” is none of outputs, effects, satisfaction, so it is not scored",
    "{0}指标的实际得分区间为[{1}, {2}]，请调整后再保存": "{0}: the score must be within [{1}, {2}]; nothing saved",
    "{0}年度 部门项目绩效自评汇总": "{0} department self-evaluation summary",
    "{0}　项目 {1} 个　平均得分 {2}（{3}）　预算 {4} 万元　执行 {5} 万元（{6}%）":
        "{0}　{1} projects　mean score {2} ({3})　budget {4} (10k yuan)　spent {5} (10k yuan, {6}%)",
    "序号": "No.", "全年执行数（万元）": "Spent in the year (10k yuan)", "自评得分": "Self-evaluation score",
    "等级": "Grade", "缺偏差说明": "Deviation notes missing",
    "{0}年度 各部门项目绩效自评排名": "{0} departments ranked by self-evaluation", "名次": "Rank",
    "预算数（万元）": "Budget (10k yuan)", "平均得分": "Mean score",
    # 自评复核's reasons (monitor/reports/review.py)
    "执行率 {0}% 与金额不符：全年执行数 {1} 元 ÷ 全年预算数 {2} 元 = {3}%":
        "Execution {0}% does not match the amounts: spent {1} yuan ÷ budget {2} yuan = {3}%",
    "自评表未填得分；按 kpiwatch 规则得 {0}": "No score in the self-evaluation; kpiwatch's rules give {0}",
    "得分应为 {0}（执行率 × {1}，最高 {2}）": "The score should be {0} (execution × {1}, at most {2})",
    "自评表未填得分；按 kpiwatch 规则：{0}，得 {1}": "No score in the self-evaluation; by kpiwatch's rules: {0}, {1}",
    "未达到目标却给满分：{0}，应得 {1}": "Full points for a target not met: {0}, should be {1}",
    "目标已达到却扣分：{0}，应得满分 {1}": "Points taken for a target met: {0}, should be the full {1}",
    "得分不同：{0}，应得 {1}": "Another score: {0}, should be {1}", "自评表未填总分": "No total in the self-evaluation",
    "各项得分之和 {0} 与总分 {1} 不符": "The scores add up to {0}, not the total {1}",
    "按 kpiwatch 规则总分为 {0}": "kpiwatch's rules give a total of {0}",
    "自评表未填得分": "No score in the self-evaluation",
    "实际完成值「{0}」{1}，kpiwatch 无法据此评分：{2}，应得 {3}":
        "The actual “{0}” {1}, so kpiwatch cannot score by it: {2}; should be {3}",
    "实际完成值「{0}」{1}，kpiwatch 无法据此评分：{2}，得 {3}":
        "The actual “{0}” {1}, so kpiwatch cannot score by it: {2}; {3}",
    "既不是数字也不是已知的评价等级": "is neither a number nor a known grade",
    "不是数字，而指标值「{0}」是数值": "is not a number, while the target “{0}” is one",
    "即「{0}」，未完全达成却没有偏差原因分析": "means “{0}”, not fully met, yet gives no deviation analysis",
    "不是完成日期，指标值「{0}」是完成时限": "is not a completion date, while the target “{0}” is a deadline",
    "评价等级「{0}」的得分区间为[{1}, {2}]，自评得分 {3} 不在区间内，应得 {4}":
        "The grade “{0}” scores within [{1}, {2}]; the self-evaluation's {3} is outside it, so {4}",
    # the preview of an upload (monitor/web/import_preview.py); reasons with figures carry their own English
    "版式": "Layout", "年度资金合计": "Annual funds in all", "指标行": "Indicator rows",
    "重复合并": "merged duplicates", "拒收": "rejected", "修复": "repaired", "资金核对": "Funds check",
    "核对一致": "agrees", "核对不一致": "disagrees", "印出的合计": "printed total", "导入金额": "imported",
    "印出的总额": "printed total", "各项之和": "sum of the parts",
    "表十二": "Table 12", "舍入": "Rounding",
    "：": ": ", "，": ", ", "；": "; ", "（": " (", "）": ")",  # "、" is said with the reports' words
    "不完整的表格（未导入）": "Incomplete tables (not imported)",
    "拒收的指标行": "Rejected indicator rows", "可疑的指标值（请核对）": "Targets that look mistyped (please check)",
    CUT_OFF: "the table is cut off at this line (the row is incomplete)",
    "最后一个绩效目标表不完整（没有「负责人…填报日期」行，文件可能被截断）":
        "the last target table is incomplete (no 「负责人…填报日期」 line: the file may be cut off)",
    "表中没有单位合计行，无法核对项目资金合计":
        "the table has no unit total row: the projects' funds cannot be checked",
    "单位预算数合计与各项目预算数之和不符": "the unit's budget total is not the sum of its projects' budgets",
    "文件中未找到表十二 项目支出预算表（本年预算），无法核对":
        "the file has no Table 12 (项目支出预算表, this year's budget): nothing to check against",
    "年度资金合计与表十二合计不符": "the annual funds in all differ from Table 12's total",
    "表十二按万元保留两位小数，差额在舍入范围内": "Table 12 prints 万元 to two decimals: the difference is rounding",
    "项目年度资金与表十二不符": "the project's annual funds differ from Table 12",
    "表十二列出的项目没有对应的绩效目标表": "a project in Table 12 has no target table",
    "绩效目标表中的项目未列入表十二": "a project with a target table is not in Table 12",
    "合计差额在表十二万元两位小数的舍入范围内": "the totals differ by no more than Table 12's rounding to 0.01 万元",
    "无法确定所属二级指标": "its 二级指标 cannot be told",
    "只有指标值，缺少指标名称": "a target without an indicator name",
    "缺少指标值": "no target",
    "指标值与指标名称相同（单元格错位）": "the target repeats the indicator's name (cells shifted)",
    "多余的单元格，无法归入指标名称或指标值": "an extra cell that is neither the indicator's name nor its target",
    "修复的单元格": "Repaired cells",
    "二级指标名称规范化": "the 二级指标 written as the framework names it",
    "二级指标标签错乱，按指标名称归类": "the 二级指标 labels are scrambled: placed by the indicator's name",
    "合并单元格的二级指标标签印在下一行，按指标名称归入":
        "a merged cell's 二级指标 label is printed a line lower: placed by the indicator's name",
    "实施期指标名称折行，末尾字落在年度一侧":
        "the whole-period name wraps, its last characters fell on the annual side",
    "年度一侧未印二级指标，取同名实施期指标的二级指标":
        "the annual side prints no 二级指标: taken from the whole-period indicator of the same name",
    "年度指标名称缺失，取同一行实施期指标名称":
        "the annual name is missing: taken from the whole-period name on the line",
    "年度指标名称被截断，按同一行实施期指标名称恢复":
        "the annual name is cut short: restored from the whole-period name on the line",
    "年度指标名称被截断，按实施期指标名称恢复": "the annual name is cut short: restored from the whole-period name",
    "指标值单元格重复打印，已忽略重复的一格": "the target cell is printed twice: the repeat is left out",
    "缺少二级指标标签，按指标名称归类": "no 二级指标 label: placed by the indicator's name",
    "表中只有一个总体目标单元格，年度目标取同一文字":
        "the table has one overall goal cell: the annual goal takes the same words",
    "表中没有年度资金总额金额，取各资金来源小计之和":
        "the table prints no annual funds amount: the sum of its source subtotals is taken",
    "按另一半表同一行的指标值拆分": "split at the target the other half prints on the line",
    "按已知指标名称拆分": "split after a known indicator name",
    "在比较符号处拆分": "split at the comparison sign",
    "在末尾数值处拆分": "split at the number at the end",
    "在末尾的定性指标值处拆分": "split at the qualitative target at the end",
}

def one_language(text: str, lang: str) -> str:
    """`text` in `lang` only: the catalogue's English, or one side of a "中文 (english)" message, else as is."""
    if lang == "en" and text in EN:
        return EN[text]
    both = sides(text)
    if both is None:
        return text
    return both[1] if lang == "en" else both[0]


def resolve_lang(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if wanted in LANGS:
        return wanted
    return request.app.state.settings.portal.default_lang


def translator(lang: str) -> Callable[..., str]:
    """The page's `t(text, *args)`: catalogue text in `lang`, `args` in its `{n}` places; in English a sentence
    built below the web layer (a report's cell) is said by the catalogue entry it matches, `english`."""
    def t(text: str, *args: object) -> str:
        if args:
            return (EN.get(text, text) if lang == "en" else text).format(*args)
        return english(text) if lang == "en" else one_language(text, lang)
    return t


# what a place matches: "{0}" any words of one sentence, "{0:date}" a date as the reports write it
PLACE_KINDS = {None: f"[^{SENTENCES}]+?", "date": r"\d{4}-\d{2}-\d{2}"}
CHINESE = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _phrases() -> list[tuple[re.Pattern[str], str, int]]:
    """The catalogue's entries with places ("截至{0}月底") as patterns, most fixed text first."""
    found = []
    for zh, en in EN.items():
        if PLACE.search(zh):
            pattern, fixed = template_pattern(zh, PLACE_KINDS)
            found.append((pattern, en, fixed))
    return sorted(found, key=lambda entry: -entry[2])


def _sentence(text: str) -> str | None:
    """One sentence by the catalogue: an entry as is, or the entry with places it matches, the words in the
    places said too (a light's name); None when no entry fits. Of several fitting entries the one leaving the
    least Chinese wins, then the one with more fixed text: "{0} 超出上限 {1}：0 分" over "{0}：0 分", and
    "{0}：人工评分 {1}（区间[{2}, {3}]）" over the grade's "达成年度指标：{0}"."""
    if text in EN:
        return EN[text]
    best: tuple[int, int, str] | None = None
    for pattern, en, fixed in _phrases():
        found = pattern.match(text)
        if found is not None:
            places = found.groupdict()
            said = en.format(*(english(places[f"p{i}"]) for i in range(len(places))))
            rank = (len(CHINESE.findall(said)), -fixed, said)
            best = rank if best is None or rank[:2] < best[:2] else best
    return None if best is None else best[2]


@lru_cache(maxsize=4096)
def english(text: str) -> str:
    """`text` in English as far as the catalogue knows it: the whole, else each "；"-joined sentence (the
    longest run of them an entry fits); what no entry fits, such as a name a department wrote, stays as is."""
    whole = _sentence(text)
    if whole is not None:
        return whole
    if sides(text) is not None:
        return one_language(text, "en")
    parts = text.split(SENTENCES)
    if len(parts) == 1:
        return text
    said, start = [], 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            found = _sentence(SENTENCES.join(parts[start:end]))
            if found is not None:
                break
        else:
            end, found = start + 1, parts[start]
        said.append(found)
        start = end
    return "; ".join(said)
