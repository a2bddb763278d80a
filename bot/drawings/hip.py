"""The hip joint, front view: normal, cam shape, pincer shape, and both together.

One drawing in local units (ball radius 1, ball centre at 0,0, x toward the outside of the
body, y up), placed on the canvas by ``_Place``. The shapes are schematic, not to scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Wedge

from bot.drawings import style
from bot.drawings.style import Point

SOCKET_GAP = 1.14  # socket radius; the gap is the smooth lining
NORMAL_RIM = 58.0  # degrees above the horizontal where the socket rim ends (outer side)
PINCER_RIM = 24.0
BOTH_RIM = 32.0  # with a cam bump too: the rim stops just short of the bump
SOCKET_INNER_END = 218.0
CENTRE = (44.0, 55.0)  # the round window the drawing sits in
RADIUS = 36.0


@dataclass(frozen=True)
class _Place:
    x: float
    y: float
    scale: float

    def __call__(self, points: np.ndarray | list[Point]) -> np.ndarray:
        p = np.asarray(points, dtype=float)
        return np.column_stack([self.x + p[:, 0] * self.scale, self.y + p[:, 1] * self.scale])

    def point(self, x: float, y: float) -> Point:
        return (self.x + x * self.scale, self.y + y * self.scale)


def _femur() -> np.ndarray:
    """Ball, neck and the top of the thigh bone as one closed outline."""
    head = style.arc((0, 0), 1.0, -2, 282, 80)
    lower_neck = style.smooth(
        [(0.2, -0.98), (0.6, -1.32), (0.92, -1.95), (0.98, -2.35), (1.2, -2.8), (1.3, -4.2)]
    )
    shaft_bottom = [(1.3, -6.5), (2.5, -6.5)]
    outer = style.smooth(
        [
            (2.5, -4.2),
            (2.55, -2.6),
            (2.78, -1.6),
            (2.85, -0.8),
            (2.55, -0.32),
            (2.22, -0.3),
            (1.95, -0.55),
        ]
    )
    upper_neck = style.smooth([(1.95, -0.55), (1.62, -0.52), (1.27, -0.33), (1.0, -0.04)])
    return np.vstack([head, lower_neck, shaft_bottom, outer, upper_neck])


def _pelvis(rim: float) -> np.ndarray:
    """The pelvis around the socket, running off the top and the inner side of the picture."""
    cup = style.arc((0, 0), SOCKET_GAP, rim, SOCKET_INNER_END, 70)
    tip_angle = np.radians(rim)
    tip = (1.34 * np.cos(tip_angle), 1.34 * np.sin(tip_angle))
    inner = style.smooth(
        [(-0.95, -0.75), (-1.25, -1.35), (-2.0, -1.75), (-3.2, -1.5), (-4.4, -1.6)]
    )
    outer = style.smooth([tip, (1.45, 1.6), (2.0, 2.7), (2.3, 4.5)])
    return np.vstack([cup, inner, [(-4.4, 4.5)], outer[::-1]])


def _cam_bump() -> np.ndarray:
    bump_edge = style.smooth([(0.8, 0.6), (1.25, 0.32), (1.56, -0.06), (1.8, -0.4), (1.95, -0.55)])
    normal_edge = style.smooth([(1.95, -0.55), (1.62, -0.52), (1.27, -0.33), (1.0, -0.04)])
    head = style.arc((0, 0), 1.0, -2, 37, 20)
    return np.vstack([bump_edge, normal_edge[1:], head])


def _pincer_rim(start: float) -> np.ndarray:
    """The extra rim of the socket: from ``start`` degrees up to the normal rim."""
    inner = style.arc((0, 0), SOCKET_GAP, start + 3, NORMAL_RIM + 8, 30)

    def polar(radius: float, degrees: float) -> Point:
        return (radius * np.cos(np.radians(degrees)), radius * np.sin(np.radians(degrees)))

    outer = style.smooth(
        [
            polar(1.62, NORMAL_RIM + 8),
            polar(1.5, 40),
            polar(1.36, start + 4),
            polar(1.22, start - 1),
            polar(SOCKET_GAP, start + 3),
        ]
    )
    return np.vstack([inner, outer])


def _draw_hip(
    axes: Axes, place: _Place, *, cam: bool, pincer: bool, clip: Circle | None = None
) -> None:
    rim = (BOTH_RIM if cam else PINCER_RIM) if pincer else NORMAL_RIM
    lining = Wedge(
        place.point(0, 0),
        SOCKET_GAP * place.scale,
        rim,
        SOCKET_INNER_END,
        width=(SOCKET_GAP - 1.0) * place.scale,
        facecolor=style.LINING,
        edgecolor="none",
        zorder=1,
    )
    axes.add_patch(lining)
    style.shape(axes, place(_pelvis(NORMAL_RIM)), style.BONE, zorder=2)
    style.shape(axes, place(_femur()), style.BONE, zorder=3)
    if cam:
        style.shape(axes, place(_cam_bump()), style.VERMILLION, zorder=4, hatch="//")
    if pincer:
        style.shape(axes, place(_pincer_rim(rim)), style.VERMILLION, zorder=4, hatch="\\\\")
    if clip is not None:
        for artist in [*axes.patches]:
            if artist.get_zorder() < 10:
                artist.set_clip_path(clip)


def _base(
    labels: Mapping[str, str], title: str, caption: str, *, cam: bool, pincer: bool
) -> tuple[Figure, Axes, _Place]:
    figure, axes = style.new_canvas(style.SQUARE)
    style.title(axes, labels[title])
    style.note(axes, 54, 96, labels["hip_view"])
    place = _Place(CENTRE[0] - 5, CENTRE[1] + 11, 10.0)
    clip = Circle(CENTRE, RADIUS, transform=axes.transData)
    _draw_hip(axes, place, cam=cam, pincer=pincer, clip=clip)
    axes.add_patch(Circle(CENTRE, RADIUS, facecolor="none", edgecolor=style.MUTED, lw=2, zorder=9))
    style.text(axes, 54, 12, labels[caption], fontweight="bold")
    note = "hip_note" if caption == "hip_note" else "shape_note"
    if note != caption:
        style.note(axes, 54, 5, labels[note])
    ball_x, ball_y = place.point(0, 0)
    style.text(axes, ball_x, ball_y, labels["ball"], zorder=20)  # written in the ball
    style.label(axes, labels["thigh_bone"], place.point(1.9, -3.4), (80, 30))
    style.label(axes, labels["pelvis"], place.point(-1.6, 2.0), (4, 90))
    return figure, axes, place


def normal(labels: Mapping[str, str]) -> bytes:
    figure, axes, place = _base(labels, "hip_title", "hip_note", cam=False, pincer=False)
    style.label(axes, labels["socket"], place.point(0.45, 1.35), (86, 84))
    style.label(axes, labels["lining"], place.point(-1.07, -0.35), (4, 36))
    style.label(axes, labels["neck"], place.point(1.45, -1.0), (86, 46))
    return style.png_bytes(figure)


def cam(labels: Mapping[str, str]) -> bytes:
    figure, axes, place = _base(labels, "cam_title", "cam_caption", cam=True, pincer=False)
    style.label(axes, labels["bump"], place.point(1.3, -0.05), (86, 80), color=style.VERMILLION)
    return style.png_bytes(figure)


def _deep_socket(axes: Axes, labels: Mapping[str, str]) -> None:
    """A small second drawing: a socket that is deep all round."""
    x, y, r = 25.0, 31.0, 4.0

    def band(start: float, stop: float) -> np.ndarray:
        return np.vstack(
            [
                style.arc((x, y), r * 1.6, start, stop, 40),
                style.arc((x, y), r * 1.15, stop, start, 40),
            ]
        )

    neck = [(x + 0.5 * r, y - 0.5 * r), (x + 1.9 * r, y - 1.9 * r)]
    style.limb(axes, neck, 1.3 * r, style.BONE, zorder=12)
    style.shape(axes, style.arc((x, y), r, 0, 360, 80), style.BONE, zorder=13)
    style.shape(axes, band(-5, 235), style.BONE, zorder=14)
    for start, stop in ((-5, 40), (195, 235)):
        style.shape(axes, band(start, stop), style.VERMILLION, zorder=15, hatch="\\\\")
    style.note(
        axes,
        x,
        y + 12,
        labels["deep_socket"],
        color=style.INK,
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"},
    )


def pincer(labels: Mapping[str, str]) -> bytes:
    figure, axes, place = _base(labels, "pincer_title", "pincer_caption", cam=False, pincer=True)
    style.label(axes, labels["rim"], place.point(1.15, 0.95), (86, 84), color=style.VERMILLION)
    _deep_socket(axes, labels)
    return style.png_bytes(figure)


def both(labels: Mapping[str, str]) -> bytes:
    figure, axes, place = _base(labels, "both_title", "both_caption", cam=True, pincer=True)
    style.label(axes, labels["rim"], place.point(1.2, 1.0), (86, 84), color=style.VERMILLION)
    style.label(axes, labels["bump"], place.point(1.55, -0.3), (86, 46), color=style.VERMILLION)
    return style.png_bytes(figure)
