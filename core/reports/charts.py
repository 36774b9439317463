"""Charts of the statistics with matplotlib: the trend (line) and the breakdowns (bars).

Drawn on a bare :class:`~matplotlib.figure.Figure` — no pyplot, so no global state and no
GUI backend, safe in worker threads; ``savefig`` picks the Agg canvas for PNG and the SVG
canvas for SVG. Fixed size 800 × 500 px (8 × 5 in at 100 dpi).

Every word on a chart is Chinese (issue 13: the desk reads Chinese): titles, axes, legend,
and the bars' labels — taxonomy terms (the plugin's ``label_zh``), department and staff
names, channel names (:data:`CHANNELS_ZH`). They are drawn with a CJK font found
through matplotlib's font manager, then fontconfig (Debian's ``fonts-noto-cjk``); without
one a chart is a 503 naming the missing package rather than a picture of empty boxes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import shutil
import subprocess
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import msgspec

from core.errors import ApiError
from core.reports.stats import Row, Stats
from core.tickets import labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

log = logging.getLogger("tousu.reports")

WIDTH_IN, HEIGHT_IN, DPI = 8, 5, 100
CHARTS = ("trend", "category", "severity", "department", "channel")
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
COUNTED, APART = "#1f77b4", "#ff7f0e"
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Serif CJK SC",
)
"""Simplified-Chinese families tried in order by name; then any font fontconfig says
covers ``zh-cn``."""

WHAT = {
    "category": "按投诉类别",
    "severity": "按严重程度",
    "department": "按部门",
    "channel": "按受理渠道",
}
COUNTED_ZH, APART_ZH, NONE_ZH = "计入考核", "不计入考核", "（无）"
CHANNELS_ZH = {code: zh for code, (zh, _en) in labels.CHANNELS.items()}
"""The core's intake channels in Chinese, from the one table of the core's words
(:data:`core.tickets.labels.CHANNELS`; a test keeps the console's zh_CN labels equal)."""


class NoCJKFont(ApiError):
    """The server has no font that draws Chinese: a deployment fault, retried once fixed."""

    status, code = 503, "cjk_font_missing"


@cache
def cjk_font() -> tuple[str, Path]:
    """The family name and file of a font that draws simplified Chinese.

    Raises :class:`NoCJKFont` (503) when neither matplotlib nor fontconfig knows one; the
    message names the package to install (``fonts-noto-cjk``).
    """
    from matplotlib import font_manager as fm

    for family in CJK_FAMILIES:
        try:
            found = fm.findfont(fm.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        return family, Path(found)
    fc_list = shutil.which("fc-list")
    if fc_list:  # a CJK font matplotlib's cache has not seen (installed after it was built)
        out = subprocess.run(
            [fc_list, ":lang=zh-cn", "file", "family"], capture_output=True, text=True, timeout=10
        ).stdout
        for line in sorted(out.splitlines()):
            name, _, families = line.partition(":")
            family = families.strip().split(",")[0]
            if family and Path(name).exists():
                fm.fontManager.addfont(name)
                return family, Path(name)
    log.error("no CJK font: charts cannot draw Chinese; install fonts-noto-cjk")
    raise NoCJKFont(
        "no CJK font on the server to draw charts; install {package}",
        params={"package": "fonts-noto-cjk"},
        rule="a CJK font must be installed",
    )


def _font() -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=cjk_font()[0])


def row_label(name: str, row: Row) -> str:
    """A bar's label: the report's own (Chinese) label; channels by :data:`CHANNELS_ZH`."""
    if row.key is None:
        return NONE_ZH
    if name == "channel":
        return CHANNELS_ZH.get(row.key, row.key)
    return NONE_ZH if row.label == "(none)" else row.label


def texts(stats: Stats, name: str, granularity: str = "week") -> dict[str, object]:
    """Every word the chart ``name`` shows: ``title``, ``x``/``y`` axis labels, ``legend``
    and ``ticks`` (the categories along the x axis)."""
    w = stats.window
    span = w.label or f"{w.start:%Y-%m-%d} 至 {w.end:%Y-%m-%d}"
    if name == "trend":
        rows = stats.trend.get(granularity, [])
        what = "每周投诉量" if granularity == "week" else "每月投诉量"
        x = "周（自周一起）" if granularity == "week" else "月份"
        ticks = [r.key or "" for r in rows]
    else:
        rows = stats.breakdowns.get(name, [])[:20]
        what = f"投诉量{WHAT.get(name, '')}"
        x = WHAT.get(name, "").removeprefix("按")
        ticks = [row_label(name, r) for r in rows]
    return {
        "title": f"{span}：{what}",  # the page names the tenant; no slug on the chart
        "x": x,
        "y": "工单数",
        "legend": [COUNTED_ZH, APART_ZH],
        "ticks": ticks,
    }


def _trend(ax: Axes, stats: Stats, granularity: str) -> None:
    rows = stats.trend.get(granularity, [])
    xs = list(range(len(rows)))
    ax.plot(xs, [r.counted for r in rows], marker="o", color=COUNTED, label=COUNTED_ZH)
    ax.plot(xs, [r.not_counted for r in rows], marker="s", color=APART, label=APART_ZH)


def _bars(ax: Axes, rows: list[Row]) -> None:
    rows = rows[:20]
    xs = list(range(len(rows)))
    counted = [r.counted for r in rows]
    ax.bar(xs, counted, color=COUNTED, label=COUNTED_ZH)
    ax.bar(xs, [r.not_counted for r in rows], bottom=counted, color=APART, label=APART_ZH)


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CACHE_SIZE = 256
"""Charts kept per process (an SVG is ~40 kB, a PNG ~30 kB: at most ~10 MB)."""


def render(stats: Stats, name: str, fmt: str, granularity: str = "week") -> bytes:
    """The chart ``name`` (``trend`` or a breakdown dimension) as PNG or SVG bytes, its
    words (:func:`texts`) drawn with :func:`cjk_font`. Raises :class:`NoCJKFont`.

    Drawing takes ~0.2 s; the statistics behind it take a few milliseconds at the demo data.
    So a chart is drawn once per distinct statistics: the cache key is the statistics
    themselves (tenant, window, the reader's scope and every count), so a new ticket,
    another month or a department head's narrower view is a new drawing, and an unchanged
    month is answered from memory (least recently used out, per process)."""
    from matplotlib import rcParams

    # as_of (when the figures were read) is not drawn: left out, or nothing would repeat;
    # the drawing's settings are part of what is drawn (SVG text as paths or as text)
    figures = msgspec.json.encode(msgspec.structs.replace(stats, as_of=EPOCH))
    return _drawn(figures, name, fmt, granularity, str(rcParams["svg.fonttype"]))


@lru_cache(maxsize=CACHE_SIZE)
def _drawn(figures: bytes, name: str, fmt: str, granularity: str, _svg_fonttype: str) -> bytes:
    from matplotlib.figure import Figure

    stats = msgspec.json.decode(figures, type=Stats)

    font = _font()
    words = texts(stats, name, granularity)
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    ax = fig.add_subplot(1, 1, 1)
    if name == "trend":
        _trend(ax, stats, granularity)
    else:
        _bars(ax, stats.breakdowns.get(name, []))
    ticks = [str(t) for t in cast("list[object]", words["ticks"])]
    ax.set_xticks(list(range(len(ticks))), ticks, rotation=30, ha="right", fontproperties=font)
    ax.set_title(str(words["title"]), fontproperties=font)
    ax.set_xlabel(str(words["x"]), fontproperties=font)
    ax.set_ylabel(str(words["y"]), fontproperties=font)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", prop=font)
    fig.subplots_adjust(bottom=0.22, top=0.9, left=0.09, right=0.97)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=DPI, facecolor="white")
    return buf.getvalue()
