"""SVG charts as strings, for the tools that draw them: the HTML report (tools/report_charts.py), the backtest's
chart (tools/backtest.py) and the benchmark's scale chart (tools/bench_render.py). No plotting library: each element
is one line of SVG, every text from the data is escaped, and a coordinate is written as given when it is an int and
with one decimal when it is a float, so that the files stay small and diff well."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def esc(value: object) -> str:
    """Any value as HTML-escaped text (quotes included, so it is safe in attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def num(value: float) -> str:
    """A coordinate or length: an int as it is, a float with one decimal."""
    return str(value) if isinstance(value, int) else f"{value:.1f}"


def _tooltip(tag: str, attributes: str, label: object | None) -> str:
    """The element closed by itself, or holding a <title> (the tooltip) when there is a label."""
    return f"<{tag} {attributes}><title>{esc(label)}</title></{tag}>" if label else f"<{tag} {attributes}/>"


def document_open(width: int, height: int, title: str | None = None) -> list[str]:
    """The opening of a stand-alone .svg file (a sans-serif font, 12 px), its title and a white background."""
    parts = [(f'<svg xmlns="{SVG_NAMESPACE}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
              'font-family="sans-serif" font-size="12">')]
    if title is not None:
        parts.append(f"<title>{esc(title)}</title>")
    parts.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>')
    return parts


def text(x: float, y: float, content: object, anchor: str = "start", size: int | None = None,
         weight: str | None = None, fill: str | None = None, extra: str = "") -> str:
    attributes = f'x="{num(x)}" y="{num(y)}"'
    if anchor != "start":
        attributes += f' text-anchor="{anchor}"'
    if size:
        attributes += f' font-size="{size}"'
    if weight:
        attributes += f' font-weight="{weight}"'
    if fill:
        attributes += f' fill="{fill}"'
    if extra:
        attributes += " " + extra
    return f"<text {attributes}>{esc(content)}</text>"


def rect(x: float, y: float, width: float, height: float, fill: str, label: object | None = None,
         extra: str = "") -> str:
    """A rectangle (negative sizes drawn as 0); `label` becomes its tooltip."""
    attributes = (f'x="{num(x)}" y="{num(y)}" width="{num(max(width, 0))}" height="{num(max(height, 0))}" '
                  f'fill="{fill}"{" " + extra if extra else ""}')
    return _tooltip("rect", attributes, label)


def line(x1: float, y1: float, x2: float, y2: float, stroke: str, extra: str = "", label: object | None = None) -> str:
    attributes = f'x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}"'
    return _tooltip("line", attributes + (" " + extra if extra else ""), label)


def polyline(points: Iterable[tuple[float, float]], stroke: str, stroke_width: float, extra: str = "",
             label: object | None = None) -> str:
    """An open line through the points (drawn with one decimal), not filled."""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    attributes = f'points="{path}" fill="none" stroke="{stroke}" stroke-width="{stroke_width}"'
    return _tooltip("polyline", attributes + (" " + extra if extra else ""), label)


def circle(cx: float, cy: float, r: float, fill: str, label: object | None = None) -> str:
    return _tooltip("circle", f'cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{fill}"', label)


def legend(items: Sequence[tuple[str, str]], x0: float, y0: float, width: float) -> tuple[list[str], float]:
    """Colour swatches with labels, wrapped to width; returns the parts and the height used."""
    parts: list[str] = []
    x, y = x0, y0
    for label, colour in items:
        item_width = 14 + 6.2 * len(label) + 18
        if x + item_width > x0 + width and x > x0:
            x, y = x0, y + 18
        parts.append(rect(x, y, 11, 11, colour))
        parts.append(text(x + 15, y + 10, label, size=11))
        x += item_width
    return parts, y - y0 + 18


# Axes ------------------------------------------------------------------------------------------------------------

def nice_max(value: float) -> float:
    """The smallest 'round' axis maximum (1, 2, 2.5, 5 x a power of ten) at or above value (1 for nothing)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-12:
            return step * power
    return 10 * power


def ticks(maximum: float, count: int = 5) -> list[float]:
    """count + 1 evenly spaced ticks from 0 to maximum."""
    return [maximum * i / count for i in range(count + 1)]


def nice_step(top: float, count: int = 5) -> float:
    """A 'round' tick step (1, 2, 2.5, 5, 10 x a power of ten) giving at most about `count` steps up to top."""
    raw = max(top, 1e-9) / count
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks covering [low, high] on a log axis."""
    found = []
    exponent = math.floor(math.log10(low))
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * 10**exponent
            if value > high * 1.0001:
                return found
            if value >= low * 0.9999:
                found.append(value)
        exponent += 1


def format_tick(value: float, unit: str = "") -> str:
    """1.5M, 200k, 5 (then the unit)."""
    if value >= 1_000_000:
        label = f"{value / 1_000_000:g}M"
    elif value >= 1000:
        label = f"{value / 1000:g}k"
    else:
        label = f"{value:g}"
    return label + unit


# Colours ---------------------------------------------------------------------------------------------------------

def text_colour(fill: str, dark: str) -> str:
    """`dark` or white text, whichever reads better on the fill (relative luminance of a #rrggbb colour)."""
    red, green, blue = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return dark if luminance > 0.5 else "#ffffff"


def blend(low: str, high: str, share: float) -> str:
    """The colour share of the way from low to high (#rrggbb)."""
    share = min(max(share, 0.0), 1.0)
    channels = (
        round(int(low[i:i + 2], 16) + (int(high[i:i + 2], 16) - int(low[i:i + 2], 16)) * share) for i in (1, 3, 5)
    )
    return "#" + "".join(f"{channel:02x}" for channel in channels)
