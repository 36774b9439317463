"""Charts of the statistics with matplotlib: the trend (line) and the breakdowns (bars).

Drawn on a bare :class:`~matplotlib.figure.Figure` — no pyplot, so no global state and no
GUI backend, safe in worker threads; ``savefig`` picks the Agg canvas for PNG and the SVG
canvas for SVG. Fixed size 800 × 500 px (8 × 5 in at 100 dpi). Labels are codes and English
words, so the servers need no CJK font.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from core.reports.stats import Row, Stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_IN, HEIGHT_IN, DPI = 8, 5, 100
CHARTS = ("trend", "category", "severity", "department", "channel")
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
COUNTED, APART = "#1f77b4", "#ff7f0e"


def _title(stats: Stats, what: str) -> str:
    w = stats.window
    span = w.label or f"{w.start:%Y-%m-%d}..{w.end:%Y-%m-%d}"
    return f"{stats.tenant} {span}: {what}"


def _trend(ax: Axes, stats: Stats, granularity: str) -> None:
    rows = stats.trend.get(granularity, [])
    xs = list(range(len(rows)))
    ax.plot(xs, [r.counted for r in rows], marker="o", color=COUNTED, label="counted")
    ax.plot(xs, [r.not_counted for r in rows], marker="s", color=APART, label="not counted")
    ax.set_xticks(xs, [r.key or "" for r in rows], rotation=30, ha="right")
    ax.set_xlabel("week starting (Monday)" if granularity == "week" else "month")


def _bars(ax: Axes, rows: list[Row]) -> None:
    rows = rows[:20]
    xs = list(range(len(rows)))
    counted = [r.counted for r in rows]
    ax.bar(xs, counted, color=COUNTED, label="counted")
    ax.bar(xs, [r.not_counted for r in rows], bottom=counted, color=APART, label="not counted")
    ax.set_xticks(xs, [r.key or "none" for r in rows], rotation=30, ha="right")


def render(stats: Stats, name: str, fmt: str, granularity: str = "week") -> bytes:
    """The chart ``name`` (``trend`` or a breakdown dimension) as PNG or SVG bytes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    ax = fig.add_subplot(1, 1, 1)
    if name == "trend":
        _trend(ax, stats, granularity)
        what = f"complaints per {granularity}"
    else:
        _bars(ax, stats.breakdowns.get(name, []))
        what = f"complaints by {name}"
    ax.set_title(_title(stats, what))
    ax.set_ylabel("tickets")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right")
    fig.subplots_adjust(bottom=0.22, top=0.9, left=0.09, right=0.97)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=DPI, facecolor="white")
    return buf.getvalue()
