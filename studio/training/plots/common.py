"""What every live plot shares: themed pyqtgraph widgets, colours, colour maps, ticks.

pyqtgraph's global configuration is left alone (other views may use pyqtgraph too);
each plot is styled here from the studio's current theme. Plots are created once and
fed with ``setData`` / ``setImage`` afterwards (never cleared and rebuilt), long curves
clip to the view and downsample by peaks, so a refresh costs the same at step 100 and
at step 500,000.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QTextOption

from studio import resources

# Training and validation, then runs overlaid for comparison, then layer lines.
TRAIN = "#3b82c4"
VALIDATION = "#d9622b"
COMPARE = "#8a8f98"
LINE_COLORS = ("#3b82c4", "#d9622b", "#2f9e8f", "#a55bb5", "#d9a11e", "#c2415a",
               "#5a9e3a", "#6b7280")
# Class colours for decision boundaries and scatter plots (readable on both themes).
CLASS_COLORS = ("#3b82c4", "#e0713c", "#3a9d5d", "#a55bb5", "#d9a11e", "#c2415a",
                "#2f9e8f", "#7d6b5a", "#5b6fd6", "#8a8f98", "#b8607e", "#4fa36b")
HEAT_MAP = "inferno"  # dark = small: a vanishing gradient is a dark band


def theme_colors() -> tuple[str, str, str]:
    """(background, foreground text, grid/border) for the current theme."""
    t = resources.current()
    return t.base, t.muted, t.border


def small_font(pixels: int = 10) -> QFont:
    font = resources.ui_font()
    font.setPixelSize(pixels)
    return font


def style_plot(plot: pg.PlotItem, title: str = "", left: str = "", bottom: str = ""
               ) -> pg.PlotItem:
    """Theme colours, small fonts, no context menu clutter."""
    _bg, fg, _grid = theme_colors()
    if title:
        set_title(plot, title)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(fg))
        axis.setTextPen(pg.mkPen(fg))
        axis.setTickFont(small_font())
        # Steps, epochs and classes are counted, never "(x0.001)": with SI prefixes an
        # empty step axis read -400..400.
        axis.enableAutoSIPrefix(False)
        _label_only_when_changed(axis)
    if left:
        plot.setLabel("left", left, **{"font-size": "10px", "color": fg})
    if bottom:
        plot.setLabel("bottom", bottom, **{"font-size": "10px", "color": fg})
    # No grid: alpha-blended grid lines cost about half of each repaint of a plot
    # that redraws several times a second. No context menu either: created with
    # enableMenu=False (as every plot here is), a plot's ViewBox skips building its
    # menu, a quarter of the plot's construction.
    plot.setMenuEnabled(False)
    plot.hideButtons()
    return plot


def _label_only_when_changed(axis: pg.AxisItem) -> None:
    """Lay out an axis label's rich text only when its text changes.

    pyqtgraph calls ``_updateLabel`` (``QGraphicsTextItem.setHtml`` and a re-layout) on
    every range change of a labelled axis, through ``updateAutoSIPrefix``: with plots
    autoranging on each update that was the most frequent call of a training run's GUI
    thread (865 of 908 ``setHtml`` in a profile of bench_gui), though the text rarely
    changes. The tick picture is still redrawn as before."""
    relayout = axis._updateLabel

    def update_label() -> None:
        text = axis.labelString()
        if text != getattr(axis, "_strata_label", None):
            axis._strata_label = text
            relayout()
        else:
            axis.picture = None
            axis.update()

    axis._updateLabel = update_label


def set_title(plot: pg.PlotItem, title: str) -> None:
    """Set a plot's title; unchanged titles cost nothing (laying out rich text does)."""
    if getattr(plot, "_strata_title", None) == title:
        return
    plot._strata_title = title
    plot.setTitle(f"<span style='color:{resources.current().text};"
                  f"font-size:11px;font-weight:600'>{title}</span>")


def key_title(plot: pg.PlotItem, title: str, entries) -> None:
    """A title followed by a colour key, ``entries`` being (label, colour) pairs: reads
    like a legend but never covers the data, however small the plot."""
    from html import escape

    key = " ".join(f"<span style='color:{c}'>\u25ac</span>&nbsp;{escape(label)}"
                   for label, c in entries)
    set_title(plot, f"{escape(title)}&nbsp;&nbsp;<span style='font-weight:400'>{key}"
                    "</span>" if entries else escape(title))


def layout_widget(parent=None) -> pg.GraphicsLayoutWidget:
    bg, _fg, _grid = theme_colors()
    widget = pg.GraphicsLayoutWidget(parent)
    widget.setBackground(bg)
    widget.ci.layout.setContentsMargins(4, 4, 4, 4)
    widget.ci.layout.setSpacing(6)
    return widget


def plot_widget(parent=None, **labels) -> pg.PlotWidget:
    bg, _fg, _grid = theme_colors()
    widget = pg.PlotWidget(parent, enableMenu=False)
    widget.setBackground(bg)
    style_plot(widget.getPlotItem(), **labels)
    return widget


def curve(plot: pg.PlotItem, color: str, width: float = 1.6, name: str | None = None,
          dashed: bool = False, alpha: int = 255, symbol: str | None = None
          ) -> pg.PlotDataItem:
    """A line created once; feed it with ``setData``. Long data clips and downsamples."""
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=width)
    if dashed:
        pen.setDashPattern([4, 3])
    item = plot.plot([], [], pen=pen, name=name)
    if symbol:
        item.setSymbol(symbol)
        item.setSymbolSize(5)
        item.setSymbolBrush(c)
        item.setSymbolPen(pg.mkPen(c))
    item.setClipToView(True)
    item.setDownsampling(auto=True, method="peak")
    return item


def hold_x_range(plot: pg.PlotItem, span: float | None, held: float | None
                 ) -> float | None:
    """While a run goes, its x axis spans the whole run (0 to ``span``) instead of
    autoranging to the data: an axis whose range changes is laid out and drawn again
    (ticks, labels: the largest part of a plot's repaint), and autoranging changed it on
    every redraw. ``span`` None gives the axis back to autorange (a run that ended).
    Returns the span now held, for the caller to pass back as ``held``."""
    if span == held:
        return held
    if span:
        plot.setXRange(0, span, padding=0.02)
    else:
        plot.enableAutoRange(x=True)
    return span


def nice_range(lo: float, hi: float, margin: float = 0.08) -> tuple[float, float]:
    """``lo..hi`` widened by ``margin`` of its span and rounded outward to a round step
    (1, 2 or 5 times a power of ten, about a twentieth of the span); not below 0 when
    ``lo`` is not (a loss, an accuracy)."""
    if not hi - lo > 0:  # one value: a range around it
        half = max(abs(hi), 1.0) * 0.05
        lo, hi = lo - half, hi + half
    span = hi - lo
    positive = lo >= 0
    lo, hi = lo - span * margin, hi + span * margin
    if positive:
        lo = max(lo, 0.0)
    rough = (hi - lo) / 20
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    # A bound already on the step stays (no drift of a rounded range rounded again).
    return (round(math.floor(lo / step + 1e-9) * step, 12),
            round(math.ceil(hi / step - 1e-9) * step, 12))


GROW = 0.25  # room given on the side data left the range by, as a share of its span


class StickyRange:
    """A plot's y range that moves only when the data leaves it, or fills less than
    ``fill`` of it, and then to rounded bounds with some room.

    Autoranging moved the range at nearly every redraw of a training plot (a loss that
    reaches a new low, a metric a new high); each move lays the axis out again (ticks,
    their text), the largest part of a plot's repaint, and autoranging also measured
    every item's bounds in the paint itself and then painted the plot a second time.
    A run's plots move their axes a few times per run instead. The user's own zoom or
    pan (mouse, wheel) is kept until ``reset`` (the next run).
    """

    def __init__(self, plot: pg.PlotItem, fill: float = 0.5) -> None:
        self.plot = plot
        self.fill = fill
        self.range: tuple[float, float] | None = None
        self.held_by_user = False
        plot.enableAutoRange(y=False)
        plot.getViewBox().sigRangeChangedManually.connect(self._manual)

    def _manual(self, *_args) -> None:
        self.held_by_user = True

    def reset(self) -> None:
        self.range = None
        self.held_by_user = False

    def fit(self, *arrays: np.ndarray) -> bool:
        """Fit the finite values of ``arrays`` (in the axis's units: log10 values on a
        log axis). Returns whether the range moved."""
        if self.held_by_user:
            return False
        lo, hi = math.inf, -math.inf
        for values in arrays:
            values = np.asarray(values, float)
            finite = values[np.isfinite(values)]
            if finite.size:
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
        if lo > hi:
            return False  # nothing to show: the range stays
        if self.range is not None:
            r0, r1 = self.range
            if r0 <= lo and hi <= r1 and (hi - lo) >= self.fill * (r1 - r0):
                return False
            # Data that leaves the range (a loss reaching new lows) gets room on that
            # side to go on a while before the next move.
            room = (hi - lo) * GROW
            floor = 0.0 if lo >= 0 else -math.inf  # a loss stays above 0
            lo, hi = (max(lo - room, floor) if lo < r0 else lo), \
                (hi + room if hi > r1 else hi)
        self.range = nice_range(lo, hi)
        self.plot.setYRange(*self.range, padding=0)
        return True


def empty_range(plot: pg.PlotItem, x: tuple[float, float] | None = (0, 1),
                y: tuple[float, float] | None = (0, 1)) -> None:
    """Axes for a plot with nothing to show yet (before a run): a range the data will
    have (steps from 0, a share from 0 to 1), not autorange's -0.5..0.5 around nothing;
    None leaves that axis alone. ``data_range`` gives the axes back to the data."""
    if getattr(plot, "_strata_empty", None) == (x, y):
        return
    plot._strata_empty = (x, y)
    # A little padding, so the ticks at the ends (0, the last step) are drawn.
    if x is not None:
        plot.setXRange(*x, padding=0.02)
    if y is not None:
        plot.setYRange(*y, padding=0.02)


def data_range(plot: pg.PlotItem, x: bool = True, y: bool = True) -> None:
    """The plot has data (again): these axes autorange to it (see ``empty_range``)."""
    if getattr(plot, "_strata_empty", None) is not None:
        plot._strata_empty = None
        if x:
            plot.enableAutoRange(x=True)
        if y:
            plot.enableAutoRange(y=True)


def grow_span(latest: float, held: float | None, total: float) -> float:
    """The x span to hold while a run goes: the data fills most of the axis (at least
    two thirds of it) and the axis changes a few times per run, not on every redraw;
    never beyond the run's ``total``."""
    if held is not None and latest <= held:
        return held
    return min(float(total), max(10.0, latest * 1.5)) if total else max(10.0, latest * 1.5)


def finite_xy(xs: np.ndarray, ys: np.ndarray, log: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """Points a line can draw: finite (and positive on a log axis)."""
    ok = np.isfinite(xs) & np.isfinite(ys)
    if log:
        ok &= ys > 0
    return xs[ok], ys[ok]


def color_map(name: str = HEAT_MAP) -> pg.ColorMap:
    return pg.colormap.get(name)


def heat_levels(values: np.ndarray, span: float = 0.0) -> tuple[float, float] | None:
    """Colour levels covering the finite values (a 2nd-98th percentile range)."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    lo, hi = np.percentile(finite, [2, 98]) if finite.size > 20 else (
        finite.min(), finite.max())
    if hi - lo < max(span, 1e-6):
        mid = 0.5 * (hi + lo)
        half = max(span, 1e-6) / 2
        lo, hi = mid - half, mid + half
    return float(lo), float(hi)


def log_tick_strings(values, _scale, _spacing) -> list[str]:
    """Tick labels for an axis holding log10 values: 1e-4, 0.01, 1, 100..."""
    out = []
    for v in values:
        if not math.isfinite(v):
            out.append("")
            continue
        if abs(v - round(v)) < 1e-6:
            e = round(v)
            out.append({-2: "0.01", -1: "0.1", 0: "1", 1: "10", 2: "100"}.get(e, f"1e{e}"))
        else:
            out.append(f"{10 ** v:.2g}")
    return out


def rgba_image(values: np.ndarray, levels: tuple[float, float], cmap: pg.ColorMap
               ) -> np.ndarray:
    """Colour a float array through ``cmap``; NaN (no data) becomes transparent."""
    lo, hi = levels
    t = np.clip((values - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=True)
    index = np.nan_to_num(t * 255, nan=0).astype(np.intp)
    out = lut[index]
    out[~np.isfinite(values)] = (0, 0, 0, 0)
    return out


def placeholder(plot: pg.PlotItem, text: str) -> pg.TextItem:
    """A centred hint shown while a plot has nothing to show, wrapped to the plot's
    width (a long hint in a narrow plot was cut at both ends)."""
    _bg, fg, _grid = theme_colors()
    item = pg.TextItem(text, color=fg, anchor=(0.5, 0.5))
    item.setFont(small_font(11))
    item.textItem.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignCenter))
    plot.addItem(item, ignoreBounds=True)
    vb = plot.getViewBox()

    def centre() -> None:
        item.setPos(vb.viewRect().center())

    def wrap() -> None:
        width = max(60.0, vb.width() - 16)
        if abs(item.textItem.textWidth() - width) > 1:
            item.setTextWidth(width)
            centre()

    vb.sigRangeChanged.connect(lambda *_: centre())
    vb.sigResized.connect(lambda *_: wrap())
    wrap()
    centre()
    return item
