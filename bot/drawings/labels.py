"""Every word the pictures show, by key, so a translation is one more dict of the same keys.

Short labels in plain words (grade 6). Alt texts describe the picture for people who cannot
see it; they are sent with the picture (the flow step's ``alt:`` can reuse them).
"""

from __future__ import annotations

from collections.abc import Mapping

LABELS: Mapping[str, str] = {
    # the hip pictures
    "hip_title": "Your hip: a ball in a socket",
    "hip_view": "Left hip, seen from the front",
    "pelvis": "Pelvis",
    "socket": "Socket",
    "ball": "Ball",
    "neck": "Neck",
    "thigh_bone": "Thigh bone",
    "lining": "Smooth lining",
    "hip_note": "The round ball turns smoothly in the socket.",
    "cam_title": "Cam shape",
    "cam_caption": "A bump where the ball meets the neck",
    "bump": "Bump",
    "pincer_title": "Pincer shape",
    "pincer_caption": "The socket rim covers too much of the ball",
    "rim": "Extra rim",
    "deep_socket": "Or a deep socket",
    "both_title": "Cam and pincer together",
    "both_caption": "The bump and the rim can pinch",
    "shape_note": "Many people have this shape and no pain.",
    # where it hurts
    "pain_title": "Where it often hurts",
    "pain_front": "Front of\nthe hip",
    "pain_groin": "Groin",
    "c_grip_title": "The “C” grip",
    "c_thumb": "Thumb at\nthe back",
    "c_fingers": "Fingers at\nthe front",
    "c_note": "Many people show the pain\nwith a hand shaped like a C",
    # sitting
    "sit_title": "Sitting: hips above knees",
    "sit_good": "Firm, high chair",
    "sit_good_hips": "Hips a bit\nhigher than knees",
    "sit_bad": "Low, soft sofa",
    "sit_bad_hips": "Knees higher\nthan hips",
    # car
    "car_title": "Getting into a car",
    "car_step1": "1. Sit down first",
    "car_step2": "2. Swing both legs\nin together",
    "car_note": "Keep your knees together. Do not twist.",
    # sleep
    "sleep_title": "Sleeping: pillows help",
    "sleep_side": "On your side:\npillow between\nyour knees",
    "sleep_back": "On your back:\npillow under\nyour knees",
}

ALT_TEXTS: Mapping[str, str] = {
    "hip_normal": (
        "Drawing of a hip joint from the front. The round ball at the top of the thigh bone "
        "sits in a cup-shaped socket in the pelvis, with a smooth lining between them."
    ),
    "hip_cam": (
        "Drawing of a hip with a cam shape. The ball is not quite round: there is a bump of "
        "extra bone where the ball meets the neck of the thigh bone."
    ),
    "hip_pincer": (
        "Drawing of a hip with a pincer shape. The rim of the socket reaches too far and "
        "covers too much of the ball. A small drawing shows a socket that is deep all round."
    ),
    "hip_both": (
        "Drawing of a hip with both shapes: a bump where the ball meets the neck, and a socket "
        "rim that covers too much of the ball. The two can pinch when the hip bends."
    ),
    "pain_where": (
        "Left: a person standing, with the front of one hip and the groin marked as the "
        "places where it often hurts. Right: a hand on the side of the hip shaped like a C, "
        "thumb at the back and fingers at the front."
    ),
    "sitting": (
        "Two people sitting. Good: on a firm, high chair with the hips a bit higher than the "
        "knees. Not good: sunk in a low, soft sofa with the knees higher than the hips."
    ),
    "car": (
        "Getting into a car in two steps. First, sit down on the seat with your back to the "
        "car. Then swing both legs in together, knees together, without twisting."
    ),
    "sleeping": (
        "Two ways to sleep. On your side with a pillow between your knees. On your back with "
        "a pillow under your knees."
    ),
}
