"""Geometry of the dashboard's server-rendered SVG charts (no JavaScript chart library).

Pure layout: given numbers, where each bar goes in a small ``viewBox``; the templates
draw them. Sized for a 375 px phone first: the SVG scales up on wider screens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 360  # viewBox units
HEIGHT = 180
LEFT = 34  # room for the value axis labels
RIGHT = 10  # room for the last day's label
BOTTOM = 20  # room for the day labels
TOP = 8
LABEL_EVERY = 7  # a day label every week keeps them readable on a phone


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: str
    day: date


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class DayLabel:
    x: float
    day: date


@dataclass(frozen=True, slots=True)
class ColumnChart:
    """Columns per day, one per series side by side."""

    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[DayLabel, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^n that is at least ``value`` (an axis maximum)."""
    if value <= 0:
        return 1
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def columns(days: Sequence[date], series: dict[str, Sequence[int]]) -> ColumnChart:
    """Bars for each day (oldest first) and each named series, scaled to the largest value."""
    count = max(1, len(days))
    top = nice_ceiling(max([max(values, default=0) for values in series.values()] + [0]))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - RIGHT) / count
    bar_width = max(1.0, (slot * 0.8) / max(1, len(series)))
    bars = []
    for index, day in enumerate(days):
        for offset, (name, values) in enumerate(series.items()):
            value = max(0, int(values[index]))
            height = plot_height * value / top
            bars.append(
                Bar(
                    x=round(LEFT + index * slot + slot * 0.1 + offset * bar_width, 2),
                    y=round(HEIGHT - BOTTOM - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    value=value,
                    series=name,
                    day=day,
                )
            )
    # A middle line only where it falls on a whole number (not at 2.5 of 5).
    parts = (0, 0.5, 1) if top % 2 == 0 else (0, 1)
    ticks = tuple(
        Tick(y=round(HEIGHT - BOTTOM - plot_height * part, 2), value=int(top * part))
        for part in parts
    )
    labels = tuple(
        DayLabel(x=round(LEFT + index * slot + slot / 2, 2), day=day)
        for index, day in enumerate(days)
        if (count - 1 - index) % LABEL_EVERY == 0
    )
    return ColumnChart(bars=tuple(bars), ticks=ticks, labels=labels)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: int
    width: float


def rows(items: Sequence[tuple[str, int]], bar_max: float = 200) -> tuple[Row, ...]:
    """Horizontal bars (a top-N list), scaled to the largest value."""
    top = max([value for _, value in items] + [1])
    return tuple(Row(label, value, round(bar_max * value / top, 2)) for label, value in items)
