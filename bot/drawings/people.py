"""Everyday pictures with a simple, friendly person: where it hurts, sitting, the car, sleep.

A person is drawn from a few joint points with thick round strokes (``style.limb``), so every
pose is a short list of coordinates on the canvas grid (1 unit = 10 pixels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch

from bot.drawings import style
from bot.drawings.style import Point

SHOE = "#3E4C59"
CAR = "#CBD2D9"
MATTRESS = "#E4E7EB"
HEAD = 4.6
TORSO = 8.0
LEG = 5.4
ARM = 3.2


@dataclass(frozen=True)
class Pose:
    """Joint points of a person seen from the side, facing right."""

    head: Point
    shoulder: Point
    hip: Point
    knee: Point
    ankle: Point
    toe: Point
    elbow: Point
    wrist: Point
    back: tuple[Point, ...] = ()  # extra points between hip and shoulder (a slumped back)


def side_person(axes: Axes, pose: Pose, *, z: float = 5) -> None:
    style.limb(axes, [pose.hip, *pose.back, pose.shoulder], TORSO, style.SHIRT, zorder=z)
    style.limb(axes, [pose.ankle, pose.toe], 2.6, SHOE, zorder=z + 0.5)
    style.limb(axes, [pose.hip, pose.knee, pose.ankle], LEG, style.TROUSERS, zorder=z + 1)
    _head(axes, pose.head, z + 2)
    style.limb(axes, [pose.shoulder, pose.elbow, pose.wrist], ARM, style.SHIRT, zorder=z + 3)
    axes.add_patch(
        Circle(pose.wrist, 1.9, facecolor=style.SKIN, edgecolor=style.INK, lw=3, zorder=z + 3.5)
    )


def _head(axes: Axes, at: Point, z: float, radius: float = HEAD) -> None:
    axes.add_patch(
        Circle(at, radius, facecolor=style.SKIN, edgecolor=style.INK, lw=style.LINE_PT, zorder=z)
    )


def front_person(
    axes: Axes, x: float, floor: float, *, z: float = 5, arms: tuple[int, ...] = (-1, 1)
) -> dict[str, Point]:
    """A person standing, seen from the front; returns named points for labels."""
    hip_y = floor + 32
    for side in (-1, 1):
        foot = (x + side * 4.6, floor + 1.5)
        style.limb(
            axes,
            [(x + side * 3.6, hip_y), (x + side * 4.0, floor + 16), (x + side * 4.2, floor + 4)],
            LEG,
            style.TROUSERS,
            zorder=z,
        )
        style.limb(axes, [foot, (foot[0] + side * 2.2, foot[1])], 2.6, SHOE, zorder=z + 0.5)
    style.limb(
        axes, [(x - 3.6, hip_y + 1), (x + 3.6, hip_y + 1)], LEG + 1, style.TROUSERS, zorder=z + 1
    )
    style.limb(axes, [(x, hip_y + 5), (x, hip_y + 20)], TORSO + 3, style.SHIRT, zorder=z + 2)
    _head(axes, (x, hip_y + 31), z + 3)
    for side in arms:
        hand = (x + side * 9.5, hip_y - 2)
        style.limb(
            axes,
            [(x + side * 6.5, hip_y + 21), (x + side * 8.8, hip_y + 10), hand],
            ARM,
            style.SHIRT,
            zorder=z + 3,
        )
        axes.add_patch(
            Circle(hand, 1.9, facecolor=style.SKIN, edgecolor=style.INK, lw=3, zorder=z + 4)
        )
    return {
        "groin": (x + 1.6, hip_y - 1.5),
        "hip_front": (x + 4.2, hip_y + 1.5),
        "hip_side": (x + 7.4, hip_y + 1),
    }


def _glow(axes: Axes, at: Point, radius: float) -> None:
    for share, alpha in ((1.0, 0.18), (0.7, 0.3), (0.42, 0.55)):
        axes.add_patch(
            Circle(
                at, radius * share, facecolor=style.PAIN, edgecolor="none", alpha=alpha, zorder=12
            )
        )


def _floor(axes: Axes, x0: float, x1: float, y: float) -> None:
    axes.plot([x0, x1], [y, y], color=style.MUTED, lw=3, solid_capstyle="round", zorder=1)


def _panel_head(axes: Axes, x: float, y: float, words: str, good: bool | None) -> None:
    if good is None:
        style.text(axes, x, y, words, fontweight="bold")
        return
    style.badge(axes, x - 20, y, good)
    style.text(axes, x - 14, y, words, fontweight="bold", ha="left")


# --- where it hurts -------------------------------------------------------------------


def pain_where(labels: Mapping[str, str]) -> bytes:
    figure, axes = style.new_canvas(style.WIDE)
    style.title(axes, labels["pain_title"])
    axes.plot([64, 64], [8, 84], color=style.LINING, lw=3, zorder=0)
    points = front_person(axes, 26, 12)
    _glow(axes, points["hip_front"], 5.0)
    _glow(axes, points["groin"], 4.0)
    style.label(axes, labels["pain_front"], points["hip_front"], (42, 56))
    style.label(axes, labels["pain_groin"], points["groin"], (42, 32))
    _c_grip(axes, labels)
    return style.png_bytes(figure)


def _c_grip(axes: Axes, labels: Mapping[str, str]) -> None:
    """Seen from the side: a hand on the side of the hip, thumb back and fingers forward, so
    hand and hip make a C (the way many people show where it hurts)."""
    style.text(axes, 96, 84, labels["c_grip_title"], fontweight="bold")
    x, hip_y = 94.0, 44.0
    side_person(
        axes,
        Pose(
            head=(x + 0.5, hip_y + 29),
            shoulder=(x - 0.5, hip_y + 19),
            hip=(x, hip_y),
            knee=(x + 0.5, hip_y - 16),
            ankle=(x, hip_y - 30),
            toe=(x + 4.5, hip_y - 31),
            elbow=(x - 9, hip_y + 3.5),
            wrist=(x - 2, hip_y + 0.5),
        ),
    )
    palm = (x + 0.2, hip_y + 1.8)
    fingers = [(palm[0] + 1, palm[1] + dy) for dy in (1.5, 0.2, -1.1, -2.4)]
    for start in fingers:
        tip = (start[0] + 4.6, start[1] - 0.9)
        style.limb(axes, [start, tip], 1.25, style.SKIN, zorder=14)
    style.limb(
        axes,
        [(palm[0] - 1, palm[1] + 1.2), (palm[0] - 5.0, palm[1] + 3.8)],
        1.5,
        style.SKIN,
        zorder=14,
    )
    axes.add_patch(
        Ellipse(palm, 4.4, 5.4, facecolor=style.SKIN, edgecolor=style.INK, lw=3, zorder=15)
    )
    style.label(axes, labels["c_fingers"], (palm[0] + 5.6, palm[1] - 1.6), (104, 30))
    style.label(axes, labels["c_thumb"], (palm[0] - 5.2, palm[1] + 3.9), (67, 62))
    style.note(axes, 96, 6, labels["c_note"], color=style.INK)


# --- sitting --------------------------------------------------------------------------


def sitting(labels: Mapping[str, str]) -> bytes:
    figure, axes = style.new_canvas(style.WIDE)
    style.title(axes, labels["sit_title"])
    axes.plot([64, 64], [8, 84], color=style.LINING, lw=3, zorder=0)
    _good_chair(axes, 0.0, labels)
    _low_sofa(axes, 64.0, labels)
    return style.png_bytes(figure)


def _level_line(axes: Axes, hip: Point, knee: Point) -> None:
    """A dashed line at hip height out past the knee, so the two heights compare at a glance."""
    axes.plot(
        [hip[0], knee[0] + 7], [hip[1], hip[1]], color=style.INK, lw=3, ls=(0, (3, 2)), zorder=20
    )
    for point, face in ((hip, style.ORANGE), (knee, "white")):
        axes.add_patch(Circle(point, 1.5, facecolor=face, edgecolor=style.INK, lw=3, zorder=21))


def _good_chair(axes: Axes, ox: float, labels: Mapping[str, str]) -> None:
    floor = 12.0
    _floor(axes, ox + 4, ox + 60, floor)
    style.rounded_box(axes, ox + 12, 40, 22, 2.6, style.FURNITURE, pad=0.8)  # firm seat
    style.limb(axes, [(ox + 13, 41), (ox + 10.5, 70)], 2.4, style.FURNITURE, zorder=1.5)
    for leg_x in (ox + 14, ox + 32):
        style.limb(axes, [(leg_x, 40), (leg_x, floor + 0.5)], 1.8, style.FURNITURE, zorder=1.4)
    hip, knee = (ox + 19.5, 46.0), (ox + 37.0, 42.0)
    side_person(
        axes,
        Pose(
            head=(ox + 19.5, 71.5),
            shoulder=(ox + 18.5, 62),
            hip=hip,
            knee=knee,
            ankle=(ox + 38.5, 18),
            toe=(ox + 43.5, 16),
            elbow=(ox + 21, 53),
            wrist=(ox + 31, 47),
        ),
    )
    _level_line(axes, hip, knee)
    _panel_head(axes, ox + 32, 86 - 6, labels["sit_good"], True)
    style.text(axes, ox + 32, 5, labels["sit_good_hips"], size=style.NOTE_PT)


def _low_sofa(axes: Axes, ox: float, labels: Mapping[str, str]) -> None:
    floor = 12.0
    _floor(axes, ox + 4, ox + 60, floor)
    style.rounded_box(axes, ox + 6, floor + 1, 28, 16, style.FURNITURE, pad=2)  # base
    style.rounded_box(axes, ox + 4, floor + 1, 9, 44, style.SOFT, pad=3, zorder=1.6)  # back cushion
    style.rounded_box(axes, ox + 9, 27, 25, 7, style.SOFT, pad=3, zorder=2)  # soft seat cushion
    hip, knee = (ox + 19.0, 32.0), (ox + 36.5, 40.0)
    side_person(
        axes,
        Pose(
            head=(ox + 23, 62),
            shoulder=(ox + 17, 53),
            hip=hip,
            knee=knee,
            ankle=(ox + 39, 17),
            toe=(ox + 44, 15),
            elbow=(ox + 22, 43),
            wrist=(ox + 30, 40),
            back=((ox + 13.5, 42),),
        ),
    )
    _level_line(axes, hip, knee)
    _panel_head(axes, ox + 32, 80, labels["sit_bad"], False)
    style.text(axes, ox + 32, 5, labels["sit_bad_hips"], size=style.NOTE_PT)


# --- the car --------------------------------------------------------------------------


def _car(axes: Axes, ox: float, floor: float) -> None:
    body = style.smooth(
        [
            (ox + 2, floor + 6),
            (ox + 2, floor + 26),
            (ox + 12, floor + 30),
            (ox + 20, floor + 52),
            (ox + 48, floor + 52),
            (ox + 58, floor + 30),
            (ox + 62, floor + 26),
            (ox + 62, floor + 6),
        ],
        closed=True,
        steps=8,
    )
    style.shape(axes, body, CAR, zorder=1)
    style.rounded_box(
        axes, ox + 18, floor + 8, 30, 40, "#F5F7FA", pad=3, zorder=1.2
    )  # door opening
    style.rounded_box(
        axes, ox + 21, floor + 24, 24, 5, style.FURNITURE, pad=1.5, zorder=1.3
    )  # seat
    for wheel_x in (ox + 10, ox + 54):
        axes.add_patch(
            Circle((wheel_x, floor + 5), 5, facecolor=SHOE, edgecolor=style.INK, lw=3, zorder=1.1)
        )


def car(labels: Mapping[str, str]) -> bytes:
    figure, axes = style.new_canvas(style.WIDE)
    style.title(axes, labels["car_title"])
    floor = 14.0
    _floor(axes, 2, 126, floor)
    _car(axes, 0, floor)
    _car(axes, 64, floor)
    # 1: sitting on the seat, facing out of the door, feet on the ground
    x = 33.0
    seat = floor + 31
    for side in (-1, 1):
        style.limb(
            axes,
            [(x + side * 3.4, seat), (x + side * 3.6, seat - 4)],
            LEG,
            style.TROUSERS,
            zorder=5,
        )
        style.limb(
            axes,
            [(x + side * 3.6, seat - 4), (x + side * 3.8, floor + 2.5)],
            LEG,
            style.TROUSERS,
            zorder=5.2,
        )
        style.limb(
            axes,
            [(x + side * 3.8, floor + 1.5), (x + side * 6, floor + 1.5)],
            2.6,
            SHOE,
            zorder=5.3,
        )
    style.limb(axes, [(x, seat + 2), (x, seat + 15)], TORSO + 3, style.SHIRT, zorder=6)
    _head(axes, (x, seat + 25), 7)
    for side in (-1, 1):
        hand = (x + side * 7.5, seat)
        style.limb(
            axes,
            [(x + side * 6, seat + 16), (x + side * 7.8, seat + 8), hand],
            ARM,
            style.SHIRT,
            zorder=7,
        )
        axes.add_patch(Circle(hand, 1.9, facecolor=style.SKIN, edgecolor=style.INK, lw=3, zorder=8))
    style.text(axes, 32, 84, labels["car_step1"], fontweight="bold")
    # 2: turned to face the front of the car, both legs in
    ox = 64.0
    side_person(
        axes,
        Pose(
            head=(ox + 27, seat + 25),
            shoulder=(ox + 26, seat + 15),
            hip=(ox + 26, seat + 2),
            knee=(ox + 42, seat + 1),
            ankle=(ox + 43, floor + 10),
            toe=(ox + 47, floor + 9),
            elbow=(ox + 28, seat + 8),
            wrist=(ox + 37, seat + 4),
        ),
    )
    arrow = FancyArrowPatch(
        (ox + 44, floor + 2),
        (ox + 48, seat + 4),
        connectionstyle="arc3,rad=0.6",
        arrowstyle="-|>,head_length=1.6,head_width=1.0",
        lw=5,
        color=style.ORANGE,
        mutation_scale=12,
        zorder=20,
    )
    axes.add_patch(arrow)
    style.text(axes, 96, 82, labels["car_step2"], fontweight="bold")
    style.note(axes, 64, 6, labels["car_note"], color=style.INK)
    return style.png_bytes(figure)


# --- sleep ----------------------------------------------------------------------------


def sleeping(labels: Mapping[str, str]) -> bytes:
    figure, axes = style.new_canvas(style.WIDE)
    style.title(axes, labels["sleep_title"])
    _side_lying(axes, 50.0)
    style.text(axes, 107, 62, labels["sleep_side"])
    _back_lying(axes, 14.0)
    style.text(axes, 107, 26, labels["sleep_back"])
    axes.plot([4, 124], [45, 45], color=style.LINING, lw=3, zorder=0)
    return style.png_bytes(figure)


def _bed(axes: Axes, y: float) -> None:
    style.rounded_box(axes, 4, y, 84, 6, MATTRESS, pad=2.5, zorder=1)
    axes.add_patch(
        Ellipse((13, y + 8.5), 14, 5.5, facecolor=style.SOFT, edgecolor=style.INK, lw=3, zorder=2)
    )


def _side_lying(axes: Axes, y: float) -> None:
    """Lying on the side, seen from the side: the legs lie one on the other, a pillow between
    the knees keeps the top knee level with the hip."""
    _bed(axes, y)
    body = y + 10.5
    low_knee, pillow_top = y + 9.2, y + 17.4
    style.limb(axes, [(46, body - 1.5), (66, low_knee), (82, low_knee)], LEG, "#005A8C", zorder=4)
    style.limb(axes, [(82, low_knee), (85, low_knee + 2.5)], 2.6, SHOE, zorder=3.5)
    axes.add_patch(
        Ellipse(
            (66, (low_knee + pillow_top) / 2 + 0.3),
            14,
            6.2,
            facecolor=style.SOFT,
            edgecolor=style.INK,
            lw=3,
            zorder=5,
        )
    )
    style.limb(axes, [(20, body), (46, body)], TORSO, style.SHIRT, zorder=6)
    high_knee = pillow_top + 2.4
    style.limb(
        axes,
        [(46, body + 1.5), (66, high_knee), (82, high_knee - 3)],
        LEG,
        style.TROUSERS,
        zorder=7,
    )
    style.limb(axes, [(82, high_knee - 3), (85, high_knee - 0.5)], 2.6, SHOE, zorder=6.5)
    _head(axes, (12, body + 1.5), 8)
    style.limb(
        axes, [(22, body + 2), (32, body + 2.5), (41, body + 1.5)], ARM, style.SHIRT, zorder=8
    )


def _back_lying(axes: Axes, y: float) -> None:
    """Lying on the back, a pillow under the knees."""
    _bed(axes, y)
    body = y + 10.5
    knee = (62.0, body + 4.2)
    axes.add_patch(
        Ellipse(
            (62, body - 0.6), 14, 6.0, facecolor=style.SOFT, edgecolor=style.INK, lw=3, zorder=3
        )
    )
    style.limb(axes, [(20, body), (46, body)], TORSO, style.SHIRT, zorder=5)
    style.limb(axes, [(46, body), knee, (78, body - 1)], LEG, style.TROUSERS, zorder=6)
    style.limb(axes, [(79, body - 1), (80, body + 3)], 2.6, SHOE, zorder=5.5)
    _head(axes, (12, body + 1.5), 7)
    style.limb(
        axes, [(21, body + 1.5), (33, body + 1.8), (42, body + 2.6)], ARM, style.SHIRT, zorder=8
    )
