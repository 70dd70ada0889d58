"""Draw the report's charts as small, self-contained SVG files (no plotting library, no fonts).

Two shapes cover every figure: a line chart (one line per series against a numeric x, log
scale optional) and a horizontal bar chart (one bar per labelled value). Each SVG carries a
<title> and a <desc> so a screen reader announces what it shows; the report puts the same
figures in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 270, 40, 50
# Colours distinguishable with the common colour-vision deficiencies (Okabe-Ito), each
# paired with its own marker so a line can be told apart without colour at all.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
MARKERS = ["circle", "square", "diamond", "triangle", "circle", "square", "diamond"]
FONT = 'font-family="sans-serif" font-size="12"'


def _nice_max(value: float) -> float:
    """Round a maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    """Format an axis value briefly (1.5k, 20, 0.25)."""
    if value >= 10_000:
        return f"{value / 1000:g}k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:g}"


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    """Return one data point's marker."""
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    if shape == "triangle":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def _frame(title: str, desc: str, body: list[str], height: int = HEIGHT) -> str:
    """Wrap chart elements in an SVG document with its title and description."""
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="t d">',
            f'<title id="t">{escape(title)}</title><desc id="d">{escape(desc)}</desc>',
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            f'<text x="{LEFT}" y="22" font-family="sans-serif" font-size="14" font-weight="bold">'
            f"{escape(title)}</text>",
            *body,
            "</svg>",
            "",
        ]
    )


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    log_x: bool = False,
    log_y: bool = False,
    limit: tuple[str, float] | None = None,
) -> str:
    """Draw one line per series of (x, y) points; `limit` draws a dashed target line."""
    points = [p for values in series.values() for p in values if math.isfinite(p[1])]
    xs = sorted({p[0] for p in points}) or [1.0]
    ys = [p[1] for p in points] + ([limit[1]] if limit else [])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        lo, hi = (math.log10(xs[0]), math.log10(xs[-1])) if log_x else (xs[0], xs[-1])
        value = math.log10(x) if log_x else x
        return LEFT + (plot_w * (value - lo) / (hi - lo) if hi > lo else plot_w / 2)

    y_min = min((y for y in ys if y > 0), default=1.0) if log_y else 0.0
    y_lo = 10 ** math.floor(math.log10(y_min)) if log_y else 0.0
    y_hi = _nice_max(max(ys, default=1.0))

    def sy(y: float) -> float:
        if log_y:
            y = max(y, y_lo)
            fraction = (math.log10(y) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo))
        else:
            fraction = y / y_hi
        return TOP + plot_h * (1 - fraction)

    body = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>',
    ]
    ticks = (
        [y_lo * 10**k for k in range(round(math.log10(y_hi / y_lo)) + 1)]
        if log_y
        else [y_hi * k / 4 for k in range(5)]
    )
    for tick in ticks:
        y = sy(tick)
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        body.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" {FONT} text-anchor="end">{_fmt(tick)}</text>'
        )
    for x in xs:
        body.append(
            f'<text x="{sx(x):.1f}" y="{TOP + plot_h + 16}" {FONT} text-anchor="middle">'
            f"{_fmt(x)}</text>"
        )
    body.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 12}" {FONT} text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    body.append(
        f'<text x="16" y="{TOP + plot_h / 2:.1f}" {FONT} text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2:.1f})">{escape(y_label)}</text>'
    )
    if limit:
        y = sy(limit[1])
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#B00020" '
            'stroke-dasharray="6 4"/>'
        )
        body.append(
            f'<text x="{LEFT + plot_w - 4}" y="{y - 4:.1f}" {FONT} fill="#B00020" '
            f'text-anchor="end">{escape(limit[0])}</text>'
        )
    for index, (name, values) in enumerate(series.items()):
        colour, shape = COLOURS[index % len(COLOURS)], MARKERS[index % len(MARKERS)]
        finite = [(x, y) for x, y in values if math.isfinite(y)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in finite)
        if len(finite) > 1:
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        body.extend(_marker(shape, sx(x), sy(y), colour) for x, y in finite)
        legend_y = TOP + 8 + index * 20
        body.append(_marker(shape, LEFT + plot_w + 16, legend_y, colour))
        body.append(
            f'<text x="{LEFT + plot_w + 26}" y="{legend_y + 4}" {FONT}>{escape(name)}</text>'
        )
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{_fmt(x)} → {y:.3g}" for x, y in values)
        for name, values in series.items()
    )
    return _frame(title, f"{y_label} against {x_label}. {desc}", body)


def bar_chart(title: str, unit: str, bars: Sequence[tuple[str, float]], *, limit: float = 0) -> str:
    """Draw one horizontal bar per (label, value); `limit` draws a dashed budget line."""
    height = max(120, TOP + BOTTOM + 22 * len(bars))
    label_w = 340
    plot_w = WIDTH - label_w - 80
    top = max([value for _, value in bars] + [limit], default=1.0)
    scale = plot_w / _nice_max(top)
    body = []
    for index, (label, value) in enumerate(bars):
        y = TOP + index * 22
        body.append(
            f'<text x="{label_w - 6}" y="{y + 14}" {FONT} text-anchor="end">'
            f"{escape(label[-52:])}</text>"
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{max(value * scale, 1):.1f}" '
            f'height="15" fill="{COLOURS[0]}"/>'
        )
        body.append(
            f'<text x="{label_w + value * scale + 4:.1f}" y="{y + 14}" {FONT}>'
            f"{value:.3g} {escape(unit)}</text>"
        )
    if limit:
        x = label_w + limit * scale
        body.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{height - BOTTOM + 10}" '
            'stroke="#B00020" stroke-dasharray="6 4"/>'
        )
        body.append(
            f'<text x="{x:.1f}" y="{height - BOTTOM + 26}" {FONT} fill="#B00020" '
            f'text-anchor="middle">budget {limit:g} {escape(unit)}</text>'
        )
    desc = "; ".join(f"{label}: {value:.3g} {unit}" for label, value in bars)
    return _frame(title, desc, body, height)
