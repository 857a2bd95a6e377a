"""Charts: Chinese labels are drawn with a font that has the glyphs, or fall back to ASCII, never boxes."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from commands.core import charts

NAMES = [("王伟", "U1"), ("李雷", "U2"), ("欧阳娜娜", "U3"), ("alice", "U4")]


def _render(tmp_path, name="c.png"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart = charts.render(tmp_path / name, title="华东一组 · 2026年9月 · 销售额 目标与实际", labels=NAMES,
                              actual=[1_200_000, 800_000, 0, 1_500_000], target=[1_000_000, None, 500_000, None],
                              legend=("实际", "目标"))
    return chart, [str(w.message) for w in caught]


def test_chinese_labels_use_a_font_that_covers_them(tmp_path):
    chart, warned = _render(tmp_path)
    assert chart is not None and not chart.fallback, "no CJK font: is the noto-cjk-sans-otc package installed?"
    assert not [w for w in warned if "missing from" in w or "Glyph" in w], warned
    from matplotlib import font_manager
    used = font_manager.findfont(font_manager.FontProperties(family=chart.font.family), fallback_to_default=False)
    text = "".join(a for a, _ in NAMES) + "华东一组年月销售额目标与实际"
    assert charts.covers(used, text), used
    data = Path(chart.path).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000


def test_the_font_comes_from_the_package_in_its_simplified_chinese_face(tmp_path, monkeypatch):
    import noto_cjk_sans_otc

    monkeypatch.delenv("TEAMBOT_CJK_FONT", raising=False)
    charts.cjk_font.cache_clear()
    try:
        chart, _ = _render(tmp_path)
    finally:
        charts.cjk_font.cache_clear()
    assert Path(chart.font.path) == Path(str(noto_cjk_sans_otc.FONT_PATH))
    assert chart.font.family == "Noto Sans CJK SC" and chart.font.index > 0  # face 0 is Japanese


def _subset_font(path: Path, family: str) -> Path:
    """A small font with only the glyphs the chart needs, under its own family name."""
    import noto_cjk_sans_otc
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(noto_cjk_sans_otc.FONT_PATH), fontNumber=2)
    options = subset.Options()
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(text=charts.SAMPLE + "".join(a for a, _ in NAMES) + "华东一组年月销售额目标与实际·alice0123456789,.")
    sub.subset(font)
    for rec in font["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = family
        elif rec.nameID == 6:
            rec.string = family.replace(" ", "")
    font.save(str(path))
    return path


def test_teambot_cjk_font_overrides_the_package(tmp_path, monkeypatch):
    own = _subset_font(tmp_path / "own.otf", "Teambot Test Hei")
    monkeypatch.setenv("TEAMBOT_CJK_FONT", str(own))
    charts.cjk_font.cache_clear()
    try:
        chart, warned = _render(tmp_path)
        assert chart.font == charts.Font(path=str(own), family="Teambot Test Hei", index=0)
        assert not chart.fallback and not [w for w in warned if "missing from" in w or "Glyph" in w]
        # A font that lacks Chinese glyphs is passed over for the package's.
        from matplotlib import get_data_path
        monkeypatch.setenv("TEAMBOT_CJK_FONT", str(Path(get_data_path()) / "fonts/ttf/DejaVuSans.ttf"))
        charts.cjk_font.cache_clear()
        assert charts.cjk_font().family == "Noto Sans CJK SC"
    finally:
        charts.cjk_font.cache_clear()


def test_without_a_cjk_font_it_falls_back_to_ascii_and_warns_once(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    monkeypatch.setattr(charts, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="teambot.charts"):
        chart, warned = _render(tmp_path, "a.png")
        chart2, warned2 = _render(tmp_path, "b.png")
    assert chart.fallback and chart.font is None and chart2.fallback
    assert not [w for w in warned + warned2 if "missing from" in w or "Glyph" in w], warned
    assert len([r for r in caplog.records if "no font with Chinese glyphs" in r.message]) == 1


def test_ascii_only_needs_no_cjk_font(tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: pytest.fail("not needed"))
    chart = charts.render(tmp_path / "e.png", title="Team A", labels=[("alice", "U1")], actual=[3], target=[5],
                          legend=("Actual", "Target"))
    assert chart is not None and not chart.fallback
