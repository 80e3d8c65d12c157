"""Measurements of a face from its 478 FaceMesh landmarks (and, for hair, its pixels).

Every length is in face widths (cheekbone to cheekbone), every left/right pair is averaged, and
nothing about skin tone, age or gender is measured. Safe to import in the web process.
"""

import numpy as np

from .face_frame import EYE_CORNERS, FaceFrame
from .hair import hair_features

FOREHEAD_TOP, CHIN = 10, 152
JAW = (172, 397)
EYELIDS = ((159, 145), (386, 374))
# Upper brow contour from the outer end to the inner end, subject-right brow first.
BROWS = ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336))
NOSE_BRIDGE, NOSE_TIP = 168, 1
NOSE_WINGS = (48, 278)
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
    eyes = [_eye(points, outer, inner, lids) for (outer, inner), lids in zip(EYE_CORNERS, EYELIDS)]
    return {
        "face_length": _distance(points, FOREHEAD_TOP, CHIN),
        "jaw_width": _distance(points, *JAW),
        "eye_tilt": float(np.mean([eye["tilt"] for eye in eyes])),
        "eye_openness": float(np.mean([eye["openness"] for eye in eyes])),
        "eye_size": float(np.mean([eye["width"] for eye in eyes])),
        "eye_spacing": _distance(points, EYE_CORNERS[0][1], EYE_CORNERS[1][1]),
        "brow_arch": float(np.mean([_arch(points[list(brow)]) for brow in BROWS])),
        "nose_width": _distance(points, *NOSE_WINGS),
        "nose_length": _distance(points, NOSE_BRIDGE, NOSE_TIP),
        "mouth_width": _distance(points, *MOUTH_CORNERS),
    }


def _distance(points, a, b):
    return float(np.linalg.norm(points[a] - points[b]))


def _eye(points, outer, inner, lids):
    """Canthal tilt in degrees (positive: outer corner higher, upturned), opening height / width, width."""
    (u_out, v_out), (u_in, v_in) = points[outer], points[inner]
    width = _distance(points, outer, inner)
    return {
        "tilt": float(np.degrees(np.arctan2(v_in - v_out, abs(u_out - u_in)))),
        "openness": _distance(points, *lids) / width,
        "width": width,
    }


def _arch(brow):
    """How far the brow rises above the straight line joining its two ends (face widths)."""
    start, end = brow[0], brow[-1]
    chord = end - start
    along = (brow[1:-1] - start) @ chord / (chord @ chord)
    on_chord = start + along[:, None] * chord
    return float(np.max(on_chord[:, 1] - brow[1:-1, 1]))
