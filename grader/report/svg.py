"""A small, dependency-free line chart as inline SVG, for a ``Plot`` in a report.

The x axis is the point's position in its series (1, 2, 3, ...: a layer, an epoch). Output is
deterministic (same plot, same text) and every label is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    drawable = {
        name: [(i + 1, float(v)) for i, v in enumerate(values) if _drawable(v, plot.log_y)]
        for name, values in plot.series.items()
    }
    values = [v for points in drawable.values() for _, v in points]
    lo, hi, ticks, labels, transform = _y_scale(values or [1.0], plot.log_y)
    frame = _Frame.of(plot, width, height, lo, hi, transform)
    parts = [
        *_heading(plot, width, height),
        *(_y_grid(frame, ticks, labels) if values else [_no_values(frame)]),
        *_x_ticks(frame),
        *_axes(frame, plot),
        *_lines(frame, drawable),
        *_legend(frame, plot, drawable),
        "</svg>",
    ]
    return "\n".join(parts)


@dataclass(frozen=True)
class _Frame:
    """The plot area (left..right, top..bottom, in pixels) and how a point maps onto it: x is
    its position 1..columns, y runs lo..hi in transformed units (log10 on a log axis)."""

    left: int
    right: int
    top: int
    bottom: int
    columns: int
    lo: float
    hi: float
    transform: Callable[[float], float]

    @classmethod
    def of(
        cls,
        plot: Plot,
        width: int,
        height: int,
        lo: float,
        hi: float,
        transform: Callable[[float], float],
    ) -> _Frame:
        """The area left by the title above and, below, the x axis and a legend row a series."""
        left, right, top = 62, width - 16, 30
        bottom = max(height - 38 - LEGEND_ROW * len(plot.series), top + 40)
        columns = max((len(values) for values in plot.series.values()), default=0)
        return cls(left, right, top, bottom, columns, lo, hi, transform)

    def x(self, x: int) -> float:
        if self.columns <= 1:
            return (self.left + self.right) / 2
        inset = 12  # keep the first and last markers off the axes
        return (
            self.left + inset + (x - 1) / (self.columns - 1) * (self.right - self.left - 2 * inset)
        )

    def y(self, v: float) -> float:
        t = (self.transform(v) - self.lo) / (self.hi - self.lo)
        return self.bottom - t * (self.bottom - self.top)


def _heading(plot: Plot, width: int, height: int) -> list[str]:
    """The ``<svg>`` element's opening, its accessible title, background and visible title."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(plot.title)} '
        f'class="chart">',
        f"<title>{escape(plot.title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="13" '
        f'font-weight="bold" {FONT}>{escape(plot.title)}</text>',
    ]


def _no_values(frame: _Frame) -> str:
    return (
        f'<text x="{(frame.left + frame.right) / 2:.1f}" y="{(frame.top + frame.bottom) / 2:.1f}" '
        f'text-anchor="middle" font-size="12" fill="#57606a" {FONT}>no values to plot</text>'
    )


def _y_grid(frame: _Frame, ticks: list[float], labels: list[str]) -> list[str]:
    """A grid line and a label at each y tick."""
    parts = []
    for tick, label in zip(ticks, labels):
        y = frame.y(tick)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" '
            f'stroke="#e5e7eb" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
            f"{FONT}>{escape(label)}</text>"
        )
    return parts


def _x_ticks(frame: _Frame) -> list[str]:
    """x ticks at positions 1..columns, at most about ten labelled."""
    parts = []
    bottom = frame.bottom
    for x in range(1, frame.columns + 1, max(1, math.ceil(frame.columns / 10))):
        px = frame.x(x)
        parts.append(
            f'<line x1="{px:.1f}" y1="{bottom}" x2="{px:.1f}" y2="{bottom + 4}" stroke="#24292f"/>'
        )
        parts.append(
            f'<text x="{px:.1f}" y="{bottom + 15}" text-anchor="middle" font-size="10" '
            f"{FONT}>{x}</text>"
        )
    return parts


def _axes(frame: _Frame, plot: Plot) -> list[str]:
    """The two axes and their labels."""
    left, right, top, bottom = frame.left, frame.right, frame.top, frame.bottom
    y_label = plot.y_label + (" (log scale)" if plot.log_y else "")
    mid = (top + bottom) / 2
    return [
        f'<path d="M{left} {top} V{bottom} H{right}" fill="none" stroke="#24292f" '
        f'stroke-width="1"/>',
        f'<text x="{(left + right) / 2:.1f}" y="{bottom + 30}" text-anchor="middle" '
        f'font-size="11" {FONT}>{escape(plot.x_label)}</text>',
        f'<text x="14" y="{mid:.1f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 14 {mid:.1f})" {FONT}>{escape(y_label)}</text>',
    ]


def _lines(frame: _Frame, drawable: dict[str, list[tuple[int, float]]]) -> list[str]:
    """One polyline and its markers per series."""
    parts = []
    for number, (name, kept) in enumerate(drawable.items()):
        colour, dash_attr, marker = _style(number)
        points = [(frame.x(x), frame.y(v)) for x, v in kept]
        parts.append(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" '
            f'fill="none" stroke="{colour}" stroke-width="2"{dash_attr}>'
            f"<title>{escape(name)}</title></polyline>"
        )
        parts.extend(_marker(marker, x, y, colour) for x, y in points)
    return parts


def _legend(frame: _Frame, plot: Plot, drawable: dict[str, list[tuple[int, float]]]) -> list[str]:
    """One row per series under the x axis label, saying how many values were left out."""
    parts = []
    left = frame.left
    for number, (name, kept) in enumerate(drawable.items()):
        colour, dash_attr, marker = _style(number)
        y = frame.bottom + 46 + LEGEND_ROW * number
        dropped = len(plot.series[name]) - len(kept)
        label = name
        if dropped:
            reason = "≤ 0 or not finite" if plot.log_y else "not finite"
            label += f" ({dropped} value{'s' if dropped > 1 else ''} {reason}, not shown)"
        parts.append(
            f'<line x1="{left}" y1="{y - 4}" x2="{left + 24}" y2="{y - 4}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        parts.append(_marker(marker, left + 12, y - 4, colour))
        parts.append(f'<text x="{left + 32}" y="{y}" font-size="11" {FONT}>{escape(label)}</text>')
    return parts


def _style(number: int) -> tuple[str, str, str]:
    """The colour, dash attribute and marker shape of the series numbered ``number``."""
    dash = DASHES[number % len(DASHES)]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return COLOURS[number % len(COLOURS)], dash_attr, MARKERS[number % len(MARKERS)]


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
