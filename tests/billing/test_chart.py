"""The usage page's chart geometry: a round top for the y axis, bars in the plot area, the days on the x axis."""

from __future__ import annotations

from datetime import date

from billing.chart import HEIGHT, WIDTH, balance_chart, nice_ceiling


def test_the_y_axis_ends_at_a_round_number_at_or_above_the_peak():
    assert [nice_ceiling(v) for v in (0, 1, 7, 10, 11, 120, 499, 501)] == [1, 1, 10, 10, 20, 200, 500, 1000]


def test_no_days_no_chart():
    assert balance_chart([]) is None


def test_bars_fit_the_plot_and_the_first_and_last_days_are_named():
    days = [{"day": date(2026, 12, d), "balance": b} for d, b in ((1, 120), (2, 60), (5, 0))]
    chart = balance_chart(days)
    assert [t.label for t in chart.y_ticks] == ["0", "100", "200"]
    assert [t.day for t in chart.x_ticks] == [date(2026, 12, 1), date(2026, 12, 5)]
    tallest, half, empty = chart.bars
    assert tallest.height == 2 * half.height and empty.height == 0
    for bar in chart.bars:
        assert bar.x >= 0 and bar.x + bar.width <= WIDTH and 0 <= bar.y <= chart.baseline <= HEIGHT
        assert bar.y + bar.height == chart.baseline
