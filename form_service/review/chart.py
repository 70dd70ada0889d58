"""A bar chart of tips received per week, drawn on the server as SVG (no JavaScript)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 40, 40, 16


def week_starts(today: date, weeks: int = 12) -> list[date]:
    """Return the Mondays of the last `weeks` weeks, oldest first, ending with this week."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def weekly_chart(counts: Sequence[tuple[date, int]], title: str, label_id: str) -> Markup:
    """Draw one bar per (week start, count) pair as inline SVG labelled by an element id."""
    peak = max((count for _, count in counts), default=0) or 1
    plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = (WIDTH - MARGIN_LEFT) / max(len(counts), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(label_id)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{MARGIN_LEFT}" y1="{HEIGHT - MARGIN_BOTTOM}" x2="{WIDTH}" '
        f'y2="{HEIGHT - MARGIN_BOTTOM}" stroke="#444" stroke-width="1"/>',
        f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 4}" text-anchor="end" '
        f'font-size="12" fill="#222">{peak}</text>',
    ]
    for index, (week, count) in enumerate(counts):
        bar = round(plot_height * count / peak, 1)
        x = round(MARGIN_LEFT + index * slot + slot * 0.15, 1)
        y = round(HEIGHT - MARGIN_BOTTOM - bar, 1)
        parts.append(
            f'<rect x="{x}" y="{y}" width="{round(slot * 0.7, 1)}" height="{bar}" fill="#1f5f8b">'
            f"<title>{week.isoformat()}: {count}</title></rect>"
        )
        parts.append(
            f'<text x="{round(x + slot * 0.35, 1)}" y="{HEIGHT - MARGIN_BOTTOM + 16}" '
            f'text-anchor="middle" font-size="11" fill="#222">{week.strftime("%m-%d")}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704 - every value was escaped above
