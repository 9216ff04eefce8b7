"""Geometry of the weekly no-show chart, drawn by the template as inline SVG.

The server does the arithmetic so the page needs no script, and the CSP (no
inline styles) is kept: the template uses presentation attributes and classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...booking import ReportRow

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 40
MAX_LABELS = 12


@dataclass(frozen=True)
class Bar:
    row: ReportRow
    x: float
    width: float
    y: float
    height: float
    label_x: float
    show_label: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    grid: list[tuple[float, str]]
    left: int
    right: float
    baseline: float
    label_y: float


def weekly_chart(weeks: list[ReportRow]) -> Chart:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h
    slot = plot_w / max(len(weeks), 1)
    every = max(1, -(-len(weeks) // MAX_LABELS))
    bars = []
    for i, row in enumerate(weeks):
        rate = row.rate or 0.0
        # A week with seats but no no-shows still gets a sliver, unlike a week without seats.
        height = max(plot_h * rate, 1.5) if row.booked else 0.0
        bars.append(
            Bar(
                row=row,
                x=round(LEFT + i * slot + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                y=round(baseline - height, 1),
                height=round(height, 1),
                label_x=round(LEFT + i * slot + slot / 2, 1),
                show_label=i % every == 0,
            )
        )
    grid = [(round(baseline - plot_h * p / 100, 1), f"{p}%") for p in (0, 25, 50, 75, 100)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        grid=grid,
        left=LEFT,
        right=WIDTH - RIGHT,
        baseline=baseline,
        label_y=baseline + 18,
    )
