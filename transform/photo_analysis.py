"""Everything the app stores about an uploaded photo's faces: the landmark JSON (docs/API.md) with breed suggestions."""

import numpy as np

from .face_features import face_features, landmark_features
from .face_frame import FaceFrame
from .faces import analyze_faces, landmark_views
from .suggest import suggestions_with_coats


def analyze_photo(image):
    """Faces with landmarks and pose (transform.faces), plus each face's hair colour and suggested breeds."""
    analysis = analyze_faces(image)
    for face in analysis["faces"]:
        features, views = measured_views(image, face)
        face["hair"] = features.get("hair_colour")
        face["suggested_breeds"] = suggestions_with_coats(features, views=views)
    return analysis


def steady_features(image, face):
    """The face's measurements, each geometric one averaged over the stored landmarks and the extra
    FaceMesh views of landmark_views(), so a re-saved, mirrored or re-scaled photo gets the same dog."""
    return measured_views(image, face)[0]


def measured_views(image, face):
    """(steady_features(), [the geometric measurements of each view, the stored landmarks' first]):
    how much the views disagree tells how close a call the face's ranking is (suggest_breeds)."""
    features = face_features(face["landmarks"], image.size, image)
    views = [landmark_features(FaceFrame(landmarks, image.size).points) for landmarks in landmark_views(image, face)]
    views.insert(0, {name: features[name] for name in views[0]} if views else {})
    for name in views[0]:
        features[name] = float(np.mean([view[name] for view in views]))
    return features, views if len(views) > 1 else []
