"""The usage page's "Credits over time" chart as plain geometry for an inline SVG: bars of the closing balance
per day, a y axis from 0 to a round number at or above the peak, and the first and last days named on the x axis.
Drawn on the server: no chart library, no script, nothing the content security policy has to allow."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 26  # room for the y axis' numbers and the x axis' days


@dataclass(frozen=True)
class Bar:
    day: date
    balance: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class XTick:
    day: date
    x: float
    anchor: str  # SVG text-anchor


@dataclass(frozen=True)
class BalanceChart:
    width: int
    height: int
    left: int
    baseline: float
    right: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[XTick]


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # unreachable: 10 × power ≥ value by construction


def balance_chart(days: list[dict]) -> BalanceChart | None:
    """The chart of [{"day": date, "balance": int}, …] (oldest first); None when there is nothing to draw."""
    if not days:
        return None
    top = nice_ceiling(max(max(d["balance"] for d in days), 0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h
    slot = plot_w / len(days)
    gap = min(slot * 0.15, 4)
    bars = []
    for i, d in enumerate(days):
        h = plot_h * max(d["balance"], 0) / top
        bars.append(Bar(d["day"], d["balance"], LEFT + i * slot + gap, baseline - h, slot - 2 * gap, h))
    y_ticks = [Tick(str(v), LEFT - 6, baseline - plot_h * v / top) for v in sorted({0, top // 2, top})]
    if len(bars) == 1:
        x_ticks = [XTick(bars[0].day, LEFT + plot_w / 2, "middle")]
    else:  # the first and last days, anchored inwards so that neither is cut off at the edge
        x_ticks = [XTick(bars[0].day, LEFT, "start"), XTick(bars[-1].day, WIDTH - RIGHT, "end")]
    return BalanceChart(WIDTH, HEIGHT, LEFT, baseline, WIDTH - RIGHT, bars, y_ticks, x_ticks)
