"""Report charts speak Chinese and are drawn with a CJK font (issue 13, reports).

Through the API's chart route on both backends: the words of a chart (title, axes, legend,
bar labels) are Chinese — a channel by its catalogue label, not its code — and every
Chinese glyph is drawn from a CJK font, never a Latin font's empty boxes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib
import pytest

from core.reports import charts

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_chart_font_is_a_cjk_one() -> None:
    family, path = charts.cjk_font()
    assert "CJK" in family or "Han" in family or "WenQuanYi" in family
    assert path.exists()
    from matplotlib.ft2font import FT2Font

    assert FT2Font(str(path)).get_char_index(ord("投")) != 0  # it has the glyph


def test_chart_labels_are_chinese_and_drawn_with_the_cjk_font(api: Any) -> None:
    api.create("greenwood", channel="visit", accused_department="engineering")
    # Text kept as text (not paths) so the words can be read back from the SVG.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        r = api.get("greenwood", "manager", "/api/reports/charts/channel.svg")
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    words = ["".join(t.itertext()).strip() for t in root.iter() if t.tag.endswith("text")]
    words = [w for w in words if w]
    assert any("投诉量按受理渠道" in w for w in words), words
    assert "来访" in words and "visit" not in words  # the label, never the code
    assert {"计入考核", "不计入考核", "工单数", "受理渠道"} <= set(words)
    fonts = {m for m in re.findall(r"font-family:\s*'?([^;'\"]+)", r.text)} | set(
        re.findall(r'font-family="([^"]+)"', r.text)
    )
    chinese_styles = [
        t.attrib.get("style", "") for t in root.iter()
        if t.tag.endswith("text") and CJK.search("".join(t.itertext()))
    ]  # fmt: skip
    assert chinese_styles and all("Noto Sans CJK SC" in s for s in chinese_styles), fonts


@pytest.mark.parametrize("name", charts.CHARTS)
def test_every_chart_draws_its_chinese_glyphs_from_the_cjk_font(api: Any, name: str) -> None:
    r = api.get("greenwood", "manager", f"/api/reports/charts/{name}.svg")
    assert r.status_code == 200, r.text
    glyph_fonts = set(re.findall(r'id="([A-Za-z]+[A-Za-z-]*)-[0-9a-f]+"', r.text))
    assert any("CJK" in f for f in glyph_fonts), glyph_fonts


def test_a_server_without_a_cjk_font_answers_503_naming_the_package(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib import font_manager

    def nothing(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("no such font")

    monkeypatch.setattr(font_manager, "findfont", nothing)  # matplotlib knows none ...
    monkeypatch.setattr(charts.shutil, "which", lambda name: None)  # ... nor fontconfig
    charts.cjk_font.cache_clear()
    try:
        r = api.get("greenwood", "manager", "/api/reports/charts/trend.png")
        assert r.status_code == 503
        err = r.json()["error"]
        assert err["code"] == "cjk_font_missing"
        assert "中文字体" in err["message"] and "fonts-noto-cjk" in err["message"]
        h = api.headers("greenwood", "manager") | {"Accept-Language": "en"}
        r = api.client.get("/api/reports/charts/trend.png", headers=h)
        assert "install fonts-noto-cjk" in r.json()["error"]["message"]
    finally:
        charts.cjk_font.cache_clear()


def test_chart_channel_names_are_the_consoles_chinese_labels() -> None:
    """The charts name channels in Chinese without importing the console (which builds on
    reports); their words must stay the console's zh_CN labels of the same codes."""
    from core.console import i18n, labels

    zh = i18n.translations("zh_CN")
    assert charts.CHANNELS_ZH == {code: zh.gettext(text) for code, text in labels.CHANNELS.items()}
