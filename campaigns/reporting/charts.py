"""Charts the reports draw on the server as SVG (nothing fetched from elsewhere): the geometry
of a line chart (retention curves), the colour of a heat-table cell (the conversion matrix)
and bars either side of zero (campaign ROI). Plain data for the templates, strings ready to
put in attributes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PALETTE = ("#417690", "#e0a040", "#7c9a3c", "#ba2121", "#79aec8", "#b06c1c", "#205067", "#8a5fbf")


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    points: str  # "x,y x,y ..." for a polyline
    dots: list[tuple[str, str, str]]  # x, y, title


@dataclass(frozen=True)
class LineChart:
    width: str
    height: str
    lines: list[Line]
    x_ticks: list[tuple[str, str]]  # x, label
    y_ticks: list[tuple[str, str]]  # y, label
    left: str
    right: str
    bottom: str


LEFT, RIGHT, TOP, BOTTOM, PLOT_WIDTH, PLOT_HEIGHT = 50, 20, 10, 30, 620, 240


def line_chart(
    series: Sequence[tuple[str, str, Sequence[float | None]]], x_labels: Sequence[str]
) -> LineChart:
    """Lines of shares (0 to 1) over ``x_labels``; a line stops where its values do (None)."""
    steps = max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * PLOT_WIDTH / steps

    def y(value: float) -> float:
        return TOP + (1 - min(max(value, 0.0), 1.0)) * PLOT_HEIGHT

    lines = []
    for label, colour, values in series:
        seen = [(i, v) for i, v in enumerate(values) if v is not None]
        lines.append(
            Line(
                label=label,
                colour=colour,
                points=" ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in seen),
                dots=[
                    (f"{x(i):.1f}", f"{y(v):.1f}", f"{label}, {x_labels[i]}: {v:.1%}")
                    for i, v in seen
                ],
            )
        )
    return LineChart(
        width=str(LEFT + PLOT_WIDTH + RIGHT),
        height=str(TOP + PLOT_HEIGHT + BOTTOM),
        lines=lines,
        x_ticks=[(f"{x(i):.1f}", text) for i, text in enumerate(x_labels)],
        y_ticks=[(f"{y(share):.1f}", f"{share:.0%}") for share in (0, 0.25, 0.5, 0.75, 1)],
        left=str(LEFT),
        right=str(LEFT + PLOT_WIDTH),
        bottom=f"{TOP + PLOT_HEIGHT + 18}",
    )


def heat(share: float) -> str:
    """A cell's background: white at 0, the admin's blue at 1 (or above)."""
    share = min(max(share, 0.0), 1.0)
    low, high = (255, 255, 255), (65, 118, 144)
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(low, high, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def ink(share: float) -> str:
    """Text readable on ``heat(share)``."""
    return "#ffffff" if share > 0.55 else "#333333"


@dataclass(frozen=True)
class Bar:
    label: str
    x: str
    y: str
    width: str
    colour: str
    title: str
    text_y: str


@dataclass(frozen=True)
class BarChart:
    width: str
    height: str
    bars: list[Bar]
    zero: str  # the x of 0
    label_x: str
    missing: list[tuple[str, str, str]]  # y, label, why there is no bar


BAR_LABEL, BAR_WIDTH, BAR_HEIGHT, BAR_GAP = 180, 460, 14, 8


def bar_chart(rows: Sequence[tuple[str, float | None, str]]) -> BarChart:
    """One horizontal bar per row from zero (left of it when negative); ``None``: no bar,
    the row's text (why) instead."""
    values = [abs(v) for _, v, _ in rows if v is not None]
    most = max([*values, 1e-9])
    has_negative = any(v is not None and v < 0 for _, v, _ in rows)
    zero = BAR_LABEL + (BAR_WIDTH / 2 if has_negative else 0)
    scale = (BAR_WIDTH / 2 if has_negative else BAR_WIDTH) / most
    bars, missing = [], []
    for n, (label, value, title) in enumerate(rows):
        top = n * (BAR_HEIGHT + BAR_GAP) + BAR_GAP // 2
        text_y = f"{top + BAR_HEIGHT - 3}"
        if value is None:
            missing.append((text_y, label, title))
            continue
        length = abs(value) * scale
        bars.append(
            Bar(
                label=label,
                x=f"{zero - length if value < 0 else zero:.1f}",
                y=str(top),
                width=f"{length:.1f}",
                colour="#ba2121" if value < 0 else "#417690",
                title=title,
                text_y=text_y,
            )
        )
    return BarChart(
        width=str(BAR_LABEL + BAR_WIDTH + 20),
        height=str(max(len(rows), 1) * (BAR_HEIGHT + BAR_GAP)),
        bars=bars,
        zero=f"{zero:.1f}",
        label_x=str(BAR_LABEL - 8),
        missing=missing,
    )
