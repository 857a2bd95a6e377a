"""Charts for the KPI summaries: target vs actual per member, as a PNG (matplotlib, Agg, no pyplot).

Chinese labels need a font that has Chinese glyphs; matplotlib's bundled DejaVu Sans has none and
would draw boxes ("tofu"). `cjk_font()` looks for one, in order:

1. the file named by TEAMBOT_CJK_FONT (a .ttf/.otf/.ttc);
2. Noto Sans CJK from the `noto-cjk-sans-otc` package, a dependency, so every install draws Chinese
   the same way with nothing installed by hand;
3. system fonts (fonts-wqy-microhei, fonts-noto-cjk, ... when present), then any font matplotlib
   knows whose name suggests CJK.

Each candidate is checked with fontTools: its cmap must cover every character we draw. In a
collection (.ttc) the Simplified Chinese face is preferred (Noto's first face is Japanese, whose
forms of some characters differ). When no font covers the labels, a warning is logged once and the
chart is drawn with ASCII fallbacks (the caller's ascii labels, e.g. user ids, and English titles)
instead of boxes. When matplotlib itself is missing, render() returns None and the post goes out
without a picture.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("teambot.charts")


class _NoFontCacheNotice(logging.Filter):
    """matplotlib says at WARNING that it builds its font cache (once per machine): nothing to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Matplotlib is building the font cache")


logging.getLogger("matplotlib.font_manager").addFilter(_NoFontCacheNotice())

#: Characters every CJK candidate must have (labels are checked again one by one).
SAMPLE = "销售额新客户满意度拜访目标实际王李张刘陈杨赵黄周吴一二三四五六七八九十月年季度周"
KNOWN_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
)
_NAME_HINTS = ("cjk", "wqy", "wenquanyi", "hei", "song", "ming", "kai", "han", "noto sans sc", "yahei",
               "pingfang", "simsun", "fang")
#: Family-name marks of a Simplified Chinese face in a collection.
_SIMPLIFIED = (" sc", " gb", " cn", "hans", "simplified")


@dataclass(frozen=True)
class Font:
    path: str
    family: str
    #: The face within a collection (.ttc); 0 for a single font.
    index: int = 0


@dataclass(frozen=True)
class Chart:
    path: str
    #: The font that drew the labels (None: matplotlib's default, ASCII labels only).
    font: Font | None
    #: True when Chinese could not be drawn and ASCII fallbacks were used.
    fallback: bool
    #: The legend's entries, in order (what a reader can tell apart).
    series: tuple[str, ...] = ()
    #: The value axis's tick labels as drawn.
    y_ticks: tuple[str, ...] = ()


def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(path, lazy=True, fontNumber=index)
        try:
            return frozenset(font.getBestCmap() or {})
        finally:
            font.close()
    except Exception as e:  # noqa: BLE001 - a broken font file is just not a candidate
        log.debug("cannot read %s: %s", path, e)
        return frozenset()


@lru_cache(maxsize=64)
def cmap_of(path: str, index: int = 0) -> frozenset[int]:
    """The code points a font file (a face of a collection) maps to glyphs."""
    return _cmap(path, index)


def covers(font: Font | str, text: str) -> bool:
    """Whether the font has a glyph for every non-space character of text."""
    cmap = cmap_of(font.path, font.index) if isinstance(font, Font) else cmap_of(str(font), 0)
    return all(ord(c) in cmap for c in text if not c.isspace())


def _packaged() -> list[str]:
    try:
        import noto_cjk_sans_otc
    except ImportError:  # installed without its dependencies: system fonts may still do
        return []
    return [str(noto_cjk_sans_otc.FONT_PATH)]


def _candidates() -> list[str]:
    out: list[str] = []
    env = os.environ.get("TEAMBOT_CJK_FONT")
    if env:
        out.append(env)
    out.extend(_packaged())
    out.extend(KNOWN_FILES)
    try:
        from matplotlib import font_manager

        named = [f.fname for f in font_manager.fontManager.ttflist
                 if any(h in f.name.lower() for h in _NAME_HINTS)]
        out.extend(sorted(set(named)))
    except ImportError:  # pragma: no cover - no matplotlib, no chart
        pass
    seen: set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p)) and Path(p).is_file()]


def _face_names(path: str) -> dict[int, str]:
    """Face index -> family name, for a single font ({0: name}) or each face of a collection."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        with open(path, "rb") as f:
            collection = f.read(4) == b"ttcf"
        fonts = TTCollection(path, lazy=True).fonts if collection else [TTFont(path, lazy=True)]
        try:
            return {i: font["name"].getDebugName(1) or "" for i, font in enumerate(fonts)}
        finally:
            for font in fonts:
                font.close()
    except Exception as e:  # noqa: BLE001 - a broken font file is just not a candidate
        log.debug("cannot read %s: %s", path, e)
        return {}


def _simplified_first(names: dict[int, str]) -> list[int]:
    return sorted(names, key=lambda i: (not any(m in names[i].lower() for m in _SIMPLIFIED), i))


_lock = threading.Lock()
_warned = False


@lru_cache(maxsize=1)
def cjk_font() -> Font | None:
    """A font face that covers SAMPLE, registered with matplotlib; None if the machine has none."""
    from matplotlib import font_manager

    for path in _candidates():
        names = _face_names(path)
        index = next((i for i in _simplified_first(names) if covers(Font(path, "", i), SAMPLE)), None)
        if index is None:
            continue
        try:
            font_manager.fontManager.addfont(path)
        except Exception as e:  # noqa: BLE001 - unreadable by matplotlib although fontTools read it
            log.debug("matplotlib cannot use %s: %s", path, e)
            continue
        # The name matplotlib registered the face under (what a FontProperties family must say).
        real = os.path.realpath(path)
        family = next((f.name for f in font_manager.fontManager.ttflist
                       if os.path.realpath(f.fname) == real and getattr(f, "index", 0) == index), names[index])
        return Font(path=path, family=family, index=index)
    return None


def _warn_once() -> None:
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    log.warning("no font with Chinese glyphs found: charts use ASCII labels. Reinstall teambot with its "
                "dependencies (noto-cjk-sans-otc) or set TEAMBOT_CJK_FONT=/path/to/font.ttc")


def _ascii(text: str) -> bool:
    return all(ord(c) < 128 for c in text)


def render(path: str | os.PathLike, *, title: str, labels: list[tuple[str, str]], actual: list[float],
           target: list[float | None], legend: tuple[str, str], ascii_title: str = "",
           ascii_legend: tuple[str, str] = ("Actual", "Target"), value_format=None) -> Chart | None:
    """Grouped bars: actual and (where set) target per member.

    labels: (label, ASCII fallback) per member, e.g. ("王伟", "U123"). The ascii_* texts replace
    the title and legend when no font can draw them. Returns None when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        log.warning("matplotlib is not installed: KPI summaries go out without a chart")
        return None

    fmt = value_format or (lambda v: f"{v:,.0f}")
    # The value labels count too: a Chinese axis reads 86万.
    texts = [title, *legend, *(a for a, _ in labels), *(fmt(v) for v in actual[:1])]
    needs_cjk = not all(_ascii(x) for x in texts)
    font = cjk_font() if needs_cjk else None
    fallback = False
    if needs_cjk and (font is None or not all(covers(font, x) for x in texts)):
        _warn_once()
        fallback, font = True, None
    names = [(b if fallback and not _ascii(a) else a) for a, b in labels]
    if fallback:
        title = title if _ascii(title) else (ascii_title or "KPI")
        legend = tuple(x if _ascii(x) else y for x, y in zip(legend, ascii_legend))  # type: ignore[assignment]
        if not all(_ascii(fmt(v)) for v in actual[:1]):
            fmt = lambda v: f"{v:,.0f}"  # plain numbers where 万 cannot be drawn

    fig = Figure(figsize=(max(6.0, 1.1 * len(names) + 2), 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    # DejaVu Sans (matplotlib's own) behind it draws what a CJK font may lack: spaces, Latin, digits.
    family = [font.family, "DejaVu Sans"] if font else None
    kw = {"family": family} if family else {}
    n = len(names)
    xs = list(range(n))
    width = 0.38
    bars = ax.bar([x - width / 2 for x in xs], actual, width, label=legend[0], color="#2f6fdf")
    tgt = [t if t is not None else 0.0 for t in target]
    tbars = ax.bar([x + width / 2 for x in xs], tgt, width, label=legend[1], color="#c9ced6",
                   edgecolor="#6b7280", linewidth=0.8)
    for rect, v in zip(bars, actual):
        ax.annotate(fmt(v), (rect.get_x() + rect.get_width() / 2, rect.get_height()), ha="center",
                    va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points", **kw)
    for rect, v in zip(tbars, target):
        if v is None:
            rect.set_visible(False)
    ax.set_xticks(xs)
    ax.set_xticklabels(names, **kw)
    ax.set_title(title, **kw)
    # Legend entries drawn from their own swatches: one taken from the bars would vanish with the
    # first member's hidden (unset) target bar. Targets are listed when any member has one.
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="#2f6fdf", label=legend[0])]
    if any(v is not None for v in target):
        handles.append(Patch(facecolor="#c9ced6", edgecolor="#6b7280", linewidth=0.8, label=legend[1]))
    ax.legend(handles=handles, prop={"family": family} if family else None, frameon=False, ncol=len(handles),
              loc="lower right", bbox_to_anchor=(1.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_formatter(_formatter(fmt))
    if family:
        ax.tick_params(axis="y", labelfontfamily=family[0])
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    ticks = tuple(t.get_text() for t in ax.get_yticklabels() if t.get_text())
    return Chart(path=str(out), font=font, fallback=fallback, series=tuple(h.get_label() for h in handles),
                 y_ticks=ticks)


def _formatter(fmt):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fmt(v))
