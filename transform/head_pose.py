"""Head pose (yaw, pitch, roll in degrees) from FaceMesh landmarks, by geometry alone.

The face's own axes are built from its 3D landmarks: "left" from pairs of mirrored points, "up"
from chin to forehead, "forward" perpendicular to both. All three angles are 0 for a face looking
straight at the camera, upright. Signs, always from the subject's point of view:
- yaw > 0: the face turns to its own left (the nose points towards the image's right edge);
- pitch > 0: the face looks up;
- roll > 0: the head tilts towards its own left shoulder (the image's right side goes down).
"""

import math

import numpy as np

from .face_frame import CHIN, FOREHEAD_TOP

# (subject's right, subject's left) landmark pairs: outer and inner eye corners, cheeks, mouth corners.
MIRRORED_PAIRS = [(33, 263), (133, 362), (234, 454), (61, 291)]
STRONG_PROFILE_YAW = 35.0


def head_pose(points):
    """points: (N, 3) landmarks in one unit on every axis (pixels), x right, y down, z away."""
    right, left = zip(*MIRRORED_PAIRS)
    leftward = unit((points[list(left)] - points[list(right)]).mean(axis=0))
    upward = points[FOREHEAD_TOP] - points[CHIN]
    upward = unit(upward - upward.dot(leftward) * leftward)
    # With y pointing down, left x up is the direction the face looks, towards the camera (z < 0).
    forward = np.cross(leftward, upward)
    return {
        "yaw": math.degrees(math.atan2(forward[0], -forward[2])),
        "pitch": math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2]))),
        "roll": math.degrees(math.atan2(leftward[1], math.hypot(leftward[0], leftward[2]))),
    }


def is_strong_profile(face, threshold=STRONG_PROFILE_YAW):
    """Whether a face of the landmark JSON is turned too far sideways for a good portrait."""
    return abs(face["pose"]["yaw"]) > threshold


def unit(vector):
    return vector / np.linalg.norm(vector)
