"""One look for every hipbot picture: palette, font, sizes, line style and PNG output.

Coordinates: every picture draws on one axes that fills the figure, with 1 data unit =
10 pixels (a 1080 x 1080 picture spans 0..108 on both axes), so sizes read the same in
every picture. Only matplotlib's object API is used (no pyplot): each render has its own
Figure, which keeps rendering safe in worker threads.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Polygon

# Okabe-Ito: safe for the common kinds of colour blindness.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"

INK = "#1F2933"  # outlines and text
MUTED = "#52606D"  # small notes
BONE = "#F7EDD7"
LINING = "#BFE3F7"  # light sky: cartilage
SKIN = "#F1D3B5"
SHIRT = SKY
TROUSERS = BLUE
FURNITURE = "#D9CBB5"
SOFT = "#F4C98B"  # light orange: soft cushions and pillows
PAIN = VERMILLION
GOOD = GREEN
BAD = VERMILLION

FONT = "DejaVu Sans"
TITLE_PT = 36
LABEL_PT = 27
NOTE_PT = 23
DPI = 100
UNIT_PX = 10
LINE_PT = 4.0

SQUARE = (1080, 1080)
WIDE = (1280, 960)

Point = tuple[float, float]


def unit_pt(units: float) -> float:
    """A length in data units as points (matplotlib line widths are in points)."""
    return units * UNIT_PX * 72 / DPI


def new_canvas(size: tuple[int, int]) -> tuple[Figure, Axes]:
    width, height = size
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width / UNIT_PX)
    axes.set_ylim(0, height / UNIT_PX)
    axes.set_aspect("equal")
    axes.axis("off")
    return figure, axes


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG; no date or software version in the metadata, so same code and
    same matplotlib give the same bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def title(axes: Axes, text: str, y: float | None = None) -> None:
    top = axes.get_ylim()[1]
    axes.text(
        axes.get_xlim()[1] / 2,
        top - 5 if y is None else y,
        text,
        ha="center",
        va="center",
        fontsize=TITLE_PT,
        fontweight="bold",
        family=FONT,
        color=INK,
    )


def note(axes: Axes, x: float, y: float, text: str, *, size: float = NOTE_PT, **kw: object) -> None:
    kw.setdefault("ha", "center")
    kw.setdefault("va", "center")
    kw.setdefault("color", MUTED)
    axes.text(x, y, text, fontsize=size, family=FONT, linespacing=1.2, **kw)  # type: ignore[arg-type]


def label(
    axes: Axes, text: str, at: Point, to: Point, *, ha: str = "left", color: str = INK
) -> None:
    """A label at ``to`` with a leader line ending in a dot at ``at``."""
    axes.annotate(
        text,
        xy=at,
        xytext=to,
        ha=ha,
        va="center",
        fontsize=LABEL_PT,
        family=FONT,
        color=color,
        linespacing=1.15,
        bbox={
            "boxstyle": "round,pad=0.25",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.85,
        },
        arrowprops={
            "arrowstyle": "-",
            "lw": 2.5,
            "color": INK,
            "shrinkA": 8,
            "shrinkB": 0,
        },
        zorder=20,
    )
    axes.add_patch(Circle(at, 0.8, facecolor=INK, edgecolor="white", lw=1.5, zorder=21))


def text(
    axes: Axes, x: float, y: float, words: str, *, size: float = LABEL_PT, **kw: object
) -> None:
    kw.setdefault("ha", "center")
    kw.setdefault("va", "center")
    kw.setdefault("color", INK)
    axes.text(x, y, words, fontsize=size, family=FONT, linespacing=1.15, **kw)  # type: ignore[arg-type]


def shape(
    axes: Axes,
    points: Sequence[Point] | np.ndarray,
    face: str,
    *,
    edge: str = INK,
    lw: float = LINE_PT,
    zorder: float = 2,
    hatch: str | None = None,
    closed: bool = True,
) -> None:
    patch = Polygon(
        np.asarray(points),
        closed=closed,
        facecolor=face,
        edgecolor=edge,
        lw=lw,
        joinstyle="round",
        capstyle="round",
        zorder=zorder,
        hatch=hatch,
    )
    axes.add_patch(patch)


def limb(
    axes: Axes, points: Iterable[Point], width: float, color: str, *, zorder: float = 5
) -> None:
    """A thick, round-ended stroke with a dark outline: arms, legs, bodies."""
    xs, ys = zip(*points, strict=True)
    axes.plot(
        xs,
        ys,
        color=color,
        lw=unit_pt(width),
        solid_capstyle="round",
        solid_joinstyle="round",
        zorder=zorder,
        path_effects=[
            patheffects.Stroke(linewidth=unit_pt(width) + 2 * LINE_PT, foreground=INK),
            patheffects.Normal(),
        ],
    )


def rounded_box(
    axes: Axes,
    x: float,
    y: float,
    w: float,
    h: float,
    face: str,
    *,
    pad: float = 1.5,
    zorder: float = 2,
    edge: str = INK,
    lw: float = LINE_PT,
) -> None:
    axes.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle=f"round,pad=0,rounding_size={pad}",
            facecolor=face,
            edgecolor=edge,
            lw=lw,
            zorder=zorder,
        )
    )


def badge(axes: Axes, x: float, y: float, good: bool, radius: float = 4.2) -> None:
    """A tick in a green circle or a cross in a vermillion one (shape, not only colour)."""
    axes.add_patch(
        Circle((x, y), radius, facecolor=GOOD if good else BAD, edgecolor=INK, lw=3, zorder=30)
    )
    r = radius * 0.5
    strokes = (
        [[(x - r, y), (x - r * 0.25, y - r * 0.75), (x + r, y + r * 0.8)]]
        if good
        else [[(x - r, y - r), (x + r, y + r)], [(x - r, y + r), (x + r, y - r)]]
    )
    for stroke in strokes:
        xs, ys = zip(*stroke, strict=True)
        axes.plot(xs, ys, color="white", lw=7, solid_capstyle="round", zorder=31)


def smooth(points: Sequence[Point], *, closed: bool = False, steps: int = 16) -> np.ndarray:
    """A Catmull-Rom curve through ``points``: friendly, rounded outlines from a few points."""
    p = np.asarray(points, dtype=float)
    p = np.vstack([p[-1], p, p[0], p[1]]) if closed else np.vstack([p[0], p, p[-1]])
    t = np.linspace(0, 1, steps, endpoint=False)[:, None]
    pieces = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        pieces.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    if not closed:
        pieces.append(p[-2][None, :])
    return np.vstack(pieces)


def arc(center: Point, radius: float, start: float, stop: float, steps: int = 60) -> np.ndarray:
    """Points on a circle from ``start`` to ``stop`` degrees (counter-clockwise if stop > start)."""
    angles = np.radians(np.linspace(start, stop, steps))
    return np.column_stack(
        [center[0] + radius * np.cos(angles), center[1] + radius * np.sin(angles)]
    )
