"""The overview's two charts as inline SVG drawn on the server: nothing is loaded from elsewhere, nothing runs in
the browser, and the page's Content-Security-Policy (no inline styles) holds, since SVG sizes and colours are
attributes. Lights per department (stacked bars of project counts) and the bureau's spending against 序时进度
by month (bars and a dashed line)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from markupsafe import Markup, escape

from monitor.web.overview import DepartmentLine, MonthPoint
from rules.terms import LIGHT_NAMES, LIGHTS, NOT_EVALUATED

# The portal's light colours (portal.css .light-*), so a bar matches the badges beside it.
COLOURS: dict[str, str] = {"red": "#c62828", "yellow": "#d49a00", "green": "#1b7a35", "blue": "#1e63c4",
                           "grey": "#5f6873", "none": "#9aa3ad"}
WIDTH = 420
ROW = 22
LABEL = 120


def lights_chart(lines: list[DepartmentLine], t: Callable[[str], str]) -> Markup:
    """One stacked bar per department: its projects by light, scaled to the largest department shown."""
    if not lines:
        return Markup("")
    widest = max((line.projects for line in lines), default=0) or 1
    scale = (WIDTH - LABEL - 10) / widest
    height = ROW * len(lines) + 4
    parts = [Markup('<svg class="chart-svg" viewBox="0 0 {} {}" role="img" aria-labelledby="chart-lights">')
             .format(WIDTH, height)]
    for row, line in enumerate(lines):
        y = row * ROW + 2
        parts.append(Markup('<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>')
                     .format(LABEL - 6, y + 14, _clip(line.name)))
        x = float(LABEL)
        for light, count in [(light, line.lights.get(light, 0)) for light in LIGHTS] + [("none", line.not_evaluated)]:
            if not count:
                continue
            w = count * scale
            name = t(LIGHT_NAMES[light]) if light in LIGHT_NAMES else t(NOT_EVALUATED)
            parts.append(Markup('<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"><title>{} {} {}'
                                '</title></rect>').format(x, y, w, ROW - 6, COLOURS[light], line.name, name, count))
            if w >= 16:
                ink = "#222" if light == "yellow" else "#fff"
                parts.append(Markup('<text x="{:.1f}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>')
                             .format(x + w / 2, y + 12, ink, count))
            x += w
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def spending_chart(months: list[MonthPoint], t: Callable[[str], str]) -> Markup:
    """Cumulative 执行率 at each month end (bars, red where behind 序时进度) and 序时进度 (dashed line), in %."""
    if not months:
        return Markup("")
    top, bottom, left = 10, 190, 36
    peak = max([100.0] + [float(m.execution) for m in months])

    def y_of(percent: Decimal | float) -> float:
        return bottom - (bottom - top) * float(percent) / peak

    step = (WIDTH - left - 10) / 12
    parts = [Markup('<svg class="chart-svg" viewBox="0 0 {} 220" role="img" aria-labelledby="chart-spending">')
             .format(WIDTH)]
    for percent in (0, 50, 100):
        parts.append(Markup('<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#dde1e7"/>'
                            '<text x="{}" y="{:.1f}" text-anchor="end" font-size="11">{}%</text>')
                     .format(left, WIDTH - 10, y_of(percent), y_of(percent), left - 4, y_of(percent) + 4, percent))
    points = []
    for m in months:
        x = left + (m.month - 1) * step
        y = y_of(m.execution)
        behind = m.execution < m.time_progress
        parts.append(Markup('<rect class="month-bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
                            '<title>{} {} {:.1f}% · {} {:.1f}%</title></rect>')
                     .format(x + step * 0.2, y, step * 0.6, bottom - y, COLOURS["red" if behind else "green"],
                             m.day.isoformat(), t("执行率"), m.execution, t("序时进度"), m.time_progress))
        parts.append(Markup('<text x="{:.1f}" y="208" text-anchor="middle" font-size="11">{}{}</text>')
                     .format(x + step / 2, m.month, t("月")))
        points.append(f"{x + step / 2:.1f},{y_of(m.time_progress):.1f}")
    parts.append(Markup('<polyline points="{}" fill="none" stroke="#1d2433" stroke-width="2" stroke-dasharray="5 4"/>')
                 .format(" ".join(points)))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _clip(name: str, length: int = 8) -> str:
    return escape(name if len(name) <= length else name[: length - 1] + "…")
