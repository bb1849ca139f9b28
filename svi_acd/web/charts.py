"""Charts drawn on the server as SVG: no script, nothing fetched, readable without colour.

Each chart is an image with a name (``role="img"``, ``aria-label``, ``<title>``) and a short
description (``<desc>``); the page puts the same figures in a table next to it. Series differ
by more than colour: bars by their fill (plain, hatched, dotted), lines by their stroke
(solid, dashed) and their markers (circles, squares). Text uses ``currentColor`` so that it
follows the page's light or dark theme. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 44, 44
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
COLOURS = ("#000091", "#ce0500", "#6a6a6a")  # DSFR blue France, red Marianne, grey
MAX_LABELS = 12
FONT = 'font-family="Marianne, arial, sans-serif" font-size="12" fill="currentColor"'


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]


def _number(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def nice_ceiling(value: float, whole: bool = False) -> float:
    """The top of an axis of four steps: 4 × a round step (1, 2, 2.5 or 5 × 10ⁿ) ≥ ``value``.

    ``whole``: counts, whose ticks must be whole numbers (no 2.5 below 25).
    """
    quarter = max(value, 1 if not whole else 4) / 4
    power = 10 ** math.floor(math.log10(quarter))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if whole and step != int(step):
            continue
        if step >= quarter:
            return 4 * step
    return 40 * power  # pragma: no cover - the loop always returns


def _patterns(chart_id: str) -> str:
    plain, hatched, dotted = COLOURS
    return (
        f'<defs><pattern id="{chart_id}-motif-0" width="8" height="8" '
        f'patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="{plain}"/></pattern>'
        f'<pattern id="{chart_id}-motif-1" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/>'
        f'<rect width="4" height="8" fill="{hatched}"/></pattern>'
        f'<pattern id="{chart_id}-motif-2" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="#ffffff"/>'
        f'<circle cx="3" cy="3" r="2" fill="{dotted}"/></pattern></defs>'
    )


def _frame(chart_id: str, title: str, description: str, body: str) -> Markup:
    name, text = escape(title), escape(description)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" viewBox="0 0 {WIDTH} '
        f'{HEIGHT}" width="100%" role="img" aria-label="{name}" '
        f'aria-describedby="{chart_id}-desc" id="{chart_id}">'
        f'<title id="{chart_id}-titre">{name}</title><desc id="{chart_id}-desc">{text}</desc>'
        f"{body}</svg>"
    )


def _axes(top_value: float, percent: bool) -> str:
    parts = []
    for step in range(5):
        value = top_value * step / 4
        y = TOP + PLOT_H - PLOT_H * step / 4
        label = f"{_number(value * 100)} %" if percent else _number(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity="{0.6 if step == 0 else 0.15}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{label}</text>'
        )
    return "".join(parts)


def _x_labels(categories: Sequence[str]) -> str:
    count = len(categories)
    every = max(1, math.ceil(count / MAX_LABELS))
    slot = PLOT_W / max(count, 1)
    parts = []
    for index, category in enumerate(categories):
        if index % every:
            continue
        x = LEFT + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + PLOT_H + 18}" text-anchor="middle" {FONT}>'
            f"{escape(category)}</text>"
        )
    return "".join(parts)


def _legend(chart_id: str, series: Sequence[Series], lines: bool) -> str:
    parts, x = [], LEFT
    for index, item in enumerate(series):
        if lines:
            swatch = _line_sample(index, x, 16)
        else:
            swatch = (
                f'<rect x="{x}" y="10" width="16" height="12" fill="url(#{chart_id}-motif-'
                f'{index})" stroke="currentColor" stroke-width="0.5"/>'
            )
        parts.append(f'{swatch}<text x="{x + 22}" y="20" {FONT}>{escape(item.name)}</text>')
        x += 34 + 7 * len(item.name)
    return "".join(parts)


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
) -> Markup:
    """Grouped bars, one group per category, one bar per series (at most three)."""
    top_value = nice_ceiling(max((v or 0 for s in series for v in s.values), default=0), True)
    slot = PLOT_W / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    bars = []
    for index, item in enumerate(series):
        for position, value in enumerate(item.values):
            height = PLOT_H * (value or 0) / top_value
            x = LEFT + slot * position + slot * 0.1 + bar * index
            tip = f"{categories[position]} – {item.name} : {_number(value or 0)}"
            bars.append(
                f'<rect x="{x:.1f}" y="{TOP + PLOT_H - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="url(#{chart_id}-motif-{index})" '
                f'stroke="currentColor" stroke-width="0.5"><title>{escape(tip)}</title></rect>'
            )
    body = (
        _patterns(chart_id)
        + _axes(top_value, percent=False)
        + "".join(bars)
        + _x_labels(categories)
        + _legend(chart_id, series, lines=False)
    )
    return _frame(chart_id, title, description, body)


def _marker(index: int, x: float, y: float, tip: str | None = None) -> str:
    colour = COLOURS[index]
    tooltip = f"<title>{escape(tip)}</title>" if tip else ""
    if index % 2:
        return (
            f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}">'
            f"{tooltip}</rect>"
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">{tooltip}</circle>'


def _dash(index: int) -> str:
    return ' stroke-dasharray="8 5"' if index % 2 else ""


def _line_sample(index: int, x: float, width: float) -> str:
    return (
        f'<line x1="{x}" x2="{x + width}" y1="16" y2="16" stroke="{COLOURS[index]}" '
        f'stroke-width="2.5"{_dash(index)}/>{_marker(index, x + width / 2, 16)}'
    )


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
) -> Markup:
    """Rates (0..1) over time; a missing value (no call) breaks the line."""
    slot = PLOT_W / max(len(categories), 1)
    drawn = []
    for index, item in enumerate(series):
        runs: list[list[tuple[float, float]]] = [[]]
        markers = []
        for position, value in enumerate(item.values):
            if value is None:
                runs.append([])
                continue
            x = LEFT + slot * (position + 0.5)
            y = TOP + PLOT_H - PLOT_H * min(max(value, 0), 1)
            runs[-1].append((x, y))
            tip = f"{categories[position]} – {item.name} : {_number(value * 100)} %"
            markers.append(_marker(index, x, y, tip))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                drawn.append(
                    f'<polyline points="{points}" fill="none" stroke="{COLOURS[index]}" '
                    f'stroke-width="2.5"{_dash(index)}/>'
                )
        drawn.extend(markers)
    body = (
        _axes(1.0, percent=True)
        + "".join(drawn)
        + _x_labels(categories)
        + _legend(chart_id, series, lines=True)
    )
    return _frame(chart_id, title, description, body)
