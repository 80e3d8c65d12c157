"""Seeded synthetic faces: real FaceMesh landmarks moved so that each measurement shifts by a random
amount of its spread. Used to check that the breed ranking spreads people over the catalogue.

Each real face's landmarks are moved along the least landmark change that shifts the measurements
(the pseudo-inverse of their numerical Jacobian), two Newton steps, so the synthetic landmarks are
a plausible face whose measurements are the real ones plus N(0, spread) each.
"""

import numpy as np

from transform.face_features import landmark_features
from transform.face_frame import FaceFrame
from transform.hair import HAIR_PALETTE
from transform.suggest import scoring_table

STEP = 1e-4
NEWTON_STEPS = 2


def feature_vector(points):
    features = landmark_features(points)
    return np.array([features[name] for name in scoring_table()["features"]])


def jacobian(points):
    """d(feature vector) / d(landmark u, v), numerically: (features, 478 * 2)."""
    base = feature_vector(points)
    columns = []
    for index in range(points.size):
        moved = points.copy().ravel()
        moved[index] += STEP
        columns.append((feature_vector(moved.reshape(points.shape)) - base) / STEP)
    return np.column_stack(columns)


def synthetic_faces(landmark_sets, count, seed):
    """`count` feature dicts (geometry plus a hair colour) from the given real faces' landmark lists,
    taken in turn. Hair colour is drawn uniformly from the palette: the real faces have too few."""
    rng = np.random.default_rng(seed)
    spreads = np.array([norm["spread"] for norm in scoring_table()["features"].values()])
    names = list(scoring_table()["features"])
    bases = []
    for landmarks in landmark_sets:
        points = FaceFrame(landmarks, (1, 1)).points
        bases.append((points, np.linalg.pinv(jacobian(points))))
    faces = []
    for number in range(count):
        points, inverse = bases[number % len(bases)]
        target = feature_vector(points) + rng.normal(0, 1, len(spreads)) * spreads
        moved = points.copy()
        for _ in range(NEWTON_STEPS):
            moved = moved + (inverse @ (target - feature_vector(moved))).reshape(points.shape)
        features = dict(zip(names, feature_vector(moved)))
        features["hair_colour"] = str(rng.choice(sorted(HAIR_PALETTE)))
        faces.append(features)
    return faces
