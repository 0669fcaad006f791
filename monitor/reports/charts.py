"""Charts for the reports and the portal, as PNG bytes: lights per department, spending against 序时进度,
and the score distribution. Chinese text needs a CJK font, found by name through matplotlib's font
manager (Debian fonts-noto-cjk); without one we refuse loudly rather than draw tofu boxes.

Every word a chart draws goes through `t(text, *args)`, as the tables' words do (monitor/reports/html.py): the
documents' charts are the official Chinese ones (`official`), the portal passes its translator so a chart on
an English page is in English. Department names are data and stay as written; the CJK font still draws them.
Each chart is also a `…_figure`, so what it says can be read back from the figure rather than from pixels.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from monitor.reports.data import YearData
from monitor.reports.html import official
from monitor.reports.selfeval import SelfEvalProject
from rules import calendar as cal
from rules.scoring import ScoringRules
from rules.terms import LIGHT_NAMES, NOT_EVALUATED, SCORE_GRADES

# The bars of the lights chart, in order; grey and no state at all share the last one.
LIGHT_COLOURS = {"red": "#d9362b", "yellow": "#f2b705", "green": "#2e9e49", "blue": "#2f6fd1", None: "#b0b0b0"}


class FontMissing(RuntimeError):
    pass


@lru_cache(maxsize=4)
def cjk_font(family: str = "Noto Sans CJK SC") -> font_manager.FontProperties:
    """The CJK font by family name; falls back to any installed Noto CJK face, else raises."""
    chosen = _cjk_family(family)
    if chosen is None and add_installed_cjk_fonts():
        chosen = _cjk_family(family)
    if chosen is None:
        raise FontMissing(f"找不到中文字体 {family}；请安装 Debian 包 fonts-noto-cjk")
    return font_manager.FontProperties(family=chosen)


def _cjk_family(family: str) -> str | None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    if family in names:
        return family
    fallbacks = sorted(n for n in names if "CJK" in n and "Mono" not in n)
    return fallbacks[0] if fallbacks else None


def add_installed_cjk_fonts() -> bool:
    """Add the CJK font files installed on this machine that matplotlib's font list lacks; True if any were.

    matplotlib scans the system fonts once and keeps the list in a cache file: a cache written before
    fonts-noto-cjk was installed never lists it, and every chart would then refuse a font that is there.
    The missing files are added and the cache written anew, so later processes read a list with them.
    """
    known = {f.fname for f in font_manager.fontManager.ttflist}
    found = [path for path in font_manager.findSystemFonts() if "CJK" in Path(path).name and path not in known]
    for path in found:
        font_manager.fontManager.addfont(path)
    if found:
        # matplotlib's own cache file name (font_manager._load_fontmanager reads it); a cache folder that cannot
        # be written is only logged by json_dump: this process draws with the added fonts all the same.
        cache = Path(matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json")
        font_manager.json_dump(font_manager.fontManager, cache)
    return bool(found)


def _figure(width: float = 7.0, height: float = 3.6) -> Figure:
    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _style(ax, font, title: str) -> None:
    ax.set_title(title, fontproperties=font, fontsize=12)
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(font)
    ax.spines[["top", "right"]].set_visible(False)


def lights_by_department(data: YearData, family: str = "Noto Sans CJK SC",
                         t: Callable[..., str] = official) -> bytes:
    """Stacked bars: how many indicators of each department are red, yellow, green, blue or not evaluated."""
    return _png(lights_figure(data, family, t))


def lights_figure(data: YearData, family: str = "Noto Sans CJK SC", t: Callable[..., str] = official) -> Figure:
    font = cjk_font(family)
    counts: dict[str, Counter] = {}
    for p in data.projects:
        bucket = counts.setdefault(p.department_name, Counter())
        for ind in p.indicators:
            bucket[ind.light if ind.light in LIGHT_COLOURS else None] += 1
    fig = _figure(7.0, max(2.4, 0.5 * len(counts) + 1.4))
    ax = fig.add_subplot()
    names = list(counts) or [t("（无数据）")]
    left = [0] * len(names)
    for key, colour in LIGHT_COLOURS.items():
        label = t(LIGHT_NAMES[key] if key else NOT_EVALUATED)
        values = [counts.get(n, Counter()).get(key, 0) for n in names]
        ax.barh(names, values, left=left, color=colour, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel(t("指标数"), fontproperties=font)
    fig.legend(prop=font, ncols=5, loc="outside lower center", frameon=False)
    _style(ax, font, t("{0}年 各部门指标监控灯", data.year))
    return fig


def time_progress_curve(curve: tuple[Decimal, ...] = ()) -> list[float]:
    """序时进度 per month in percent: the configured curve, else month ÷ 12."""
    if curve:
        if len(curve) != 12:
            raise ValueError("[reports] time_progress 应为 12 个累计百分比（1-12 月）")
        return [float(x) for x in curve]
    return [m * 100 / 12 for m in range(1, 13)]


def spending_curve(data: YearData, through_month: int = 12, curve: tuple[Decimal, ...] = (),
                   family: str = "Noto Sans CJK SC", t: Callable[..., str] = official) -> bytes:
    """The cumulative execution rate at each month end against 序时进度, for all projects in `data`."""
    return _png(spending_figure(data, through_month, curve, family, t))


def spending_figure(data: YearData, through_month: int = 12, curve: tuple[Decimal, ...] = (),
                    family: str = "Noto Sans CJK SC", t: Callable[..., str] = official) -> Figure:
    font = cjk_font(family)
    months = list(range(1, through_month + 1))
    rates = []
    for m in months:
        cutoff = cal.month_end(data.year, m)
        # against the budget in force at each month end, as the lights measure it
        budget = sum((p.budget_on(cutoff) or Decimal(0) for p in data.projects), Decimal(0))
        spent = sum((p.spent_until(cutoff) or Decimal(0) for p in data.projects), Decimal(0))
        rates.append(float(spent / budget * 100) if budget else 0.0)
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(months, rates, marker="o", color="#c0392b", label=t("实际执行率"))
    ax.plot(range(1, 13), time_progress_curve(curve), linestyle="--", color="#555555", label=t("序时进度"))
    ax.set_xticks(range(1, 13), [f"{m}{t('月')}" for m in range(1, 13)])  # the overview's months say it so too
    ax.set_ylim(0, max(105, max(rates, default=0) + 5))
    ax.set_ylabel(t("累计执行率（%）"), fontproperties=font)
    ax.legend(prop=font, frameon=False)
    _style(ax, font, t("{0}年 预算执行进度与序时进度", data.year))
    return fig


def score_distribution(projects: list[SelfEvalProject], rules: ScoringRules | None = None,
                       family: str = "Noto Sans CJK SC", t: Callable[..., str] = official) -> bytes:
    """How many projects fall in each grade band, with the bands labelled as in the 自评表."""
    return _png(score_figure(projects, rules, family, t))


def score_figure(projects: list[SelfEvalProject], rules: ScoringRules | None = None,
                 family: str = "Noto Sans CJK SC", t: Callable[..., str] = official) -> Figure:
    rules = rules or ScoringRules()
    font = cjk_font(family)
    excellent, good, fair, poor = SCORE_GRADES
    bands = [(poor, Decimal(0), rules.grade_fair), (fair, rules.grade_fair, rules.grade_good),
             (good, rules.grade_good, rules.grade_excellent), (excellent, rules.grade_excellent, Decimal(101))]
    labels = [f"{t(g)}\n{lo:.0f}–{min(hi, Decimal(100)):.0f}" for g, lo, hi in bands]
    values = [sum(1 for p in projects if lo <= p.total < hi) for _g, lo, hi in bands]
    fig = _figure(6.0, 3.2)
    ax = fig.add_subplot()
    bars = ax.bar(labels, values, color=["#d9362b", "#f2b705", "#2f6fd1", "#2e9e49"])
    ax.bar_label(bars, labels=[t("{0} 个", v) for v in values], fontproperties=font)
    ax.set_ylabel(t("项目数"), fontproperties=font)
    ax.set_ylim(0, max(values, default=0) + 1)
    locator = ax.yaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # a linear axis's default AutoLocator is one
        locator.set_params(integer=True)
    _style(ax, font, t("自评得分分布"))
    return fig
