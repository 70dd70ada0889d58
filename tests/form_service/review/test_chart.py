"""The weekly chart of the dashboard is drawn here as SVG, one bar per week, with a title."""

from __future__ import annotations

from datetime import date

from form_service.review import chart


def test_weekly_chart_draws_one_bar_per_week_with_a_title() -> None:
    weeks = chart.week_starts(date(2026, 11, 26))
    assert len(weeks) == 12
    assert weeks[-1] == date(2026, 11, 23)
    assert all(week.weekday() == 0 for week in weeks)
    svg = chart.weekly_chart([(week, i) for i, week in enumerate(weeks)], "Tips <per> week", "c1")
    assert svg.count("<rect") == 12
    assert "Tips &lt;per&gt; week" in svg
    assert 'aria-labelledby="c1"' in svg
