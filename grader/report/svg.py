"""A small, dependency-free line chart as inline SVG, for a ``Plot`` in a report.

The x axis is the point's position in its series (1, 2, 3, ...: a layer, an epoch). Output is
deterministic (same plot, same text) and every label is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape, quoteattr

from grader.model import Plot

# Okabe-Ito colours (readable for colour-blind readers); shapes and dashes tell series apart
# in print too.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("circle", "square", "triangle", "diamond")
DASHES = ("", "6 3", "2 3", "8 3 2 3")

FONT = 'font-family="Helvetica, Arial, sans-serif"'
LEGEND_ROW = 16


def svg_line_chart(plot: Plot, width: int = 480, height: int = 280) -> str:
    """The plot as a standalone ``<svg>`` element: axes, ticks, one polyline per series, legend.

    With ``plot.log_y`` the y axis is logarithmic; values that are zero, negative or not finite
    cannot be drawn there and are left out (the legend says how many).
    """
    names = list(plot.series)
    columns = max((len(values) for values in plot.series.values()), default=0)

    # Which values can be drawn, and where the plot area goes.
    drawable: dict[str, list[tuple[int, float]]] = {}
    dropped: dict[str, int] = {}
    for name in names:
        kept = [
            (i + 1, float(v)) for i, v in enumerate(plot.series[name]) if _drawable(v, plot.log_y)
        ]
        drawable[name] = kept
        dropped[name] = len(plot.series[name]) - len(kept)
    values = [v for points in drawable.values() for _, v in points]

    left, right, top = 62, width - 16, 30
    bottom = height - 38 - LEGEND_ROW * len(names)
    bottom = max(bottom, top + 40)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(plot.title)} '
        f'class="chart">',
        f"<title>{escape(plot.title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="13" '
        f'font-weight="bold" {FONT}>{escape(plot.title)}</text>',
    ]

    # The y scale (from whatever can be drawn) with its grid lines and tick labels.
    lo, hi, ticks, labels, transform = _y_scale(values or [1.0], plot.log_y)

    def y_of(v: float) -> float:
        t = (transform(v) - lo) / (hi - lo)
        return bottom - t * (bottom - top)

    if not values:
        parts.append(
            f'<text x="{(left + right) / 2:.1f}" y="{(top + bottom) / 2:.1f}" '
            f'text-anchor="middle" font-size="12" fill="#57606a" {FONT}>no values to plot</text>'
        )
    else:
        for tick, label in zip(ticks, labels):
            y = y_of(tick)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                f'stroke="#e5e7eb" stroke-width="1"/>'
            )
            parts.append(
                f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
                f"{FONT}>{escape(label)}</text>"
            )

    def x_of(x: int) -> float:
        if columns <= 1:
            return (left + right) / 2
        inset = 12  # keep the first and last markers off the axes
        return left + inset + (x - 1) / (columns - 1) * (right - left - 2 * inset)

    # x ticks: positions 1..columns, at most about ten labelled.
    step = max(1, math.ceil(columns / 10))
    for x in range(1, columns + 1, step):
        px = x_of(x)
        parts.append(
            f'<line x1="{px:.1f}" y1="{bottom}" x2="{px:.1f}" y2="{bottom + 4}" stroke="#24292f"/>'
        )
        parts.append(
            f'<text x="{px:.1f}" y="{bottom + 15}" text-anchor="middle" font-size="10" '
            f"{FONT}>{x}</text>"
        )

    # Axes and their labels.
    parts.append(
        f'<path d="M{left} {top} V{bottom} H{right}" fill="none" stroke="#24292f" '
        f'stroke-width="1"/>'
    )
    parts.append(
        f'<text x="{(left + right) / 2:.1f}" y="{bottom + 30}" text-anchor="middle" '
        f'font-size="11" {FONT}>{escape(plot.x_label)}</text>'
    )
    y_label = plot.y_label + (" (log scale)" if plot.log_y else "")
    mid = (top + bottom) / 2
    parts.append(
        f'<text x="14" y="{mid:.1f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 14 {mid:.1f})" {FONT}>{escape(y_label)}</text>'
    )

    # One polyline and its markers per series.
    for number, name in enumerate(names):
        colour = COLOURS[number % len(COLOURS)]
        dash = DASHES[number % len(DASHES)]
        marker = MARKERS[number % len(MARKERS)]
        points = [(x_of(x), y_of(v)) for x, v in drawable[name]]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" '
            f'fill="none" stroke="{colour}" stroke-width="2"{dash_attr}>'
            f"<title>{escape(name)}</title></polyline>"
        )
        parts.extend(_marker(marker, x, y, colour) for x, y in points)

    # Legend: one row per series under the x axis label.
    for number, name in enumerate(names):
        colour = COLOURS[number % len(COLOURS)]
        dash = DASHES[number % len(DASHES)]
        y = bottom + 46 + LEGEND_ROW * number
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        label = name
        if dropped[name]:
            reason = "≤ 0 or not finite" if plot.log_y else "not finite"
            label += (
                f" ({dropped[name]} value{'s' if dropped[name] > 1 else ''} {reason}, not shown)"
            )
        parts.append(
            f'<line x1="{left}" y1="{y - 4}" x2="{left + 24}" y2="{y - 4}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        parts.append(_marker(MARKERS[number % len(MARKERS)], left + 12, y - 4, colour))
        parts.append(f'<text x="{left + 32}" y="{y}" font-size="11" {FONT}>{escape(label)}</text>')

    parts.append("</svg>")
    return "\n".join(parts)


def _drawable(value: object, log_y: bool) -> bool:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and (v > 0 or not log_y)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} '
            f'{x - 4.5:.1f},{y + 3.5:.1f}" fill="{colour}"/>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y:.1f} '
            f'{x:.1f},{y + 4.5:.1f} {x - 4.5:.1f},{y:.1f}" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def _y_scale(
    values: Sequence[float], log_y: bool
) -> tuple[float, float, list[float], list[str], Callable[[float], float]]:
    """(low, high, tick values, tick labels, transform): the axis runs low..high in
    transformed units (log10 for a log axis); ticks are in data units."""
    if log_y:
        lo, hi = math.log10(min(values)), math.log10(max(values))
        if hi - lo >= 1:
            first, last = math.floor(lo), math.ceil(hi)
            stride = max(1, math.ceil((last - first) / 6))
            first = stride * math.floor(first / stride)
            last = stride * math.ceil(last / stride)
            ticks = [10.0**k for k in range(first, last + 1, stride)]
            return first, last, ticks, [_label(t) for t in ticks], math.log10
        # Less than a decade: linear-looking ticks, placed on the log axis.
        low, high = 10**lo, 10**hi
        if high == low:
            low, high = low / 2, high * 2
        ticks = [t for t in _nice_ticks(low, high) if t > 0]
        if not ticks:
            ticks = [low, high]
        axis_lo = math.log10(min(ticks[0], low))
        axis_hi = math.log10(max(ticks[-1], high))
        return axis_lo, axis_hi, ticks, [_label(t) for t in ticks], math.log10

    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.5 or 1.0
        low, high = low - pad, high + pad
    ticks = _nice_ticks(low, high)
    return ticks[0], ticks[-1], ticks, [_label(t) for t in ticks], float


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering low..high."""
    raw = (high - low) / max(count - 1, 1)
    if not math.isfinite(raw) or raw <= 0:
        return [low, high]
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step)
    last = math.ceil(high / step)
    return [round(k * step, 12) for k in range(first, last + 1)]


def _label(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.3g}"
