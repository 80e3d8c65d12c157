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
        features = steady_features(image, face)
        face["hair"] = features.get("hair_colour")
        face["suggested_breeds"] = suggestions_with_coats(features)
    return analysis


def steady_features(image, face):
    """The face's measurements, each geometric one averaged over the stored landmarks and the extra
    FaceMesh views of landmark_views(), so a re-saved, mirrored or re-scaled photo gets the same dog."""
    features = face_features(face["landmarks"], image.size, image)
    views = [landmark_features(FaceFrame(landmarks, image.size).points) for landmarks in landmark_views(image, face)]
    for name in views[0] if views else ():
        features[name] = float(np.mean([features[name]] + [view[name] for view in views]))
    return features
