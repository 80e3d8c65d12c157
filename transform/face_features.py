"""Measurements of a face from its 478 FaceMesh landmarks (and, for hair, its pixels).

Every length is in face widths (cheekbone to cheekbone), every left/right pair is averaged, and
nothing about skin tone, age or gender is measured. Safe to import in the web process.
"""

import numpy as np

from .face_frame import CHIN, FOREHEAD_TOP, FaceFrame
from .hair import hair_features

# Where a measurement has symmetric neighbours, several landmarks are averaged so that a small
# landmark wobble does not flip a face from one shape to another.
JAW = ((58, 288), (172, 397), (136, 365))
# Each eye's corner as the mean of the corner and its two lid neighbours; three upper/lower lid pairs.
EYE_CORNER_CLUSTERS = (
    ((33, 246, 7), (133, 173, 155)),
    ((263, 466, 249), (362, 398, 382)),
)
EYELIDS = (
    ((159, 145), (158, 153), (160, 144)),
    ((386, 374), (385, 380), (387, 373)),
)
# Upper and lower brow contours from the outer end to the inner end, subject-right brow first.
BROWS = (
    ((70, 63, 105, 66, 107), (46, 53, 52, 65, 55)),
    ((300, 293, 334, 296, 336), (276, 283, 282, 295, 285)),
)
NOSE_BRIDGE, NOSE_TIP = 168, 1
NOSE_WINGS = ((48, 278), (64, 294))
MOUTH_CORNERS = (61, 291)


def face_features(landmarks, image_size, image=None):
    """A dict of named measurements; with the PIL image, also `hair_colour` and `hair_amount`."""
    frame = FaceFrame(landmarks, image_size)
    features = landmark_features(frame.points)
    if image is not None:
        features.update(hair_features(image, frame))
    return features


def landmark_features(points):
    """The geometric measurements from landmarks already in face units (FaceFrame.points)."""
    eyes = [_eye(points, corners, lids) for corners, lids in zip(EYE_CORNER_CLUSTERS, EYELIDS)]
    inner_corners = [points[list(inner)].mean(axis=0) for _, inner in EYE_CORNER_CLUSTERS]
    return {
        "face_length": _distance(points, FOREHEAD_TOP, CHIN),
        "jaw_width": _mean_distance(points, JAW),
        "eye_tilt": float(np.mean([eye["tilt"] for eye in eyes])),
        "eye_openness": float(np.mean([eye["openness"] for eye in eyes])),
        "eye_size": float(np.mean([eye["width"] for eye in eyes])),
        "eye_spacing": float(np.linalg.norm(inner_corners[0] - inner_corners[1])),
        "brow_arch": float(np.mean([_arch(points[list(contour)]) for brow in BROWS for contour in brow])),
        "nose_width": _mean_distance(points, NOSE_WINGS),
        "nose_length": _distance(points, NOSE_BRIDGE, NOSE_TIP),
        "mouth_width": _distance(points, *MOUTH_CORNERS),
    }


def _distance(points, a, b):
    return float(np.linalg.norm(points[a] - points[b]))


def _mean_distance(points, pairs):
    return float(np.mean([_distance(points, a, b) for a, b in pairs]))


def _eye(points, corners, lids):
    """Canthal tilt in degrees (positive: outer corner higher, upturned), opening height / width, width."""
    (u_out, v_out), (u_in, v_in) = (points[list(cluster)].mean(axis=0) for cluster in corners)
    width = float(np.hypot(u_out - u_in, v_out - v_in))
    return {
        "tilt": float(np.degrees(np.arctan2(v_in - v_out, abs(u_out - u_in)))),
        "openness": _mean_distance(points, lids) / width,
        "width": width,
    }


def _arch(brow):
    """How far the brow's middle rises above the straight line joining its two ends (face widths)."""
    start, end = brow[0], brow[-1]
    chord = end - start
    along = (brow[1:-1] - start) @ chord / (chord @ chord)
    on_chord = start + along[:, None] * chord
    return float(np.mean(on_chord[:, 1] - brow[1:-1, 1]))
