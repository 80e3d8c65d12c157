"""Everything the app stores about an uploaded photo's faces: the landmark JSON (docs/API.md) with breed suggestions."""

from .face_features import face_features
from .faces import analyze_faces
from .suggest import suggestions_with_coats


def analyze_photo(image):
    """Faces with landmarks and pose (transform.faces), plus each face's hair colour and suggested breeds."""
    analysis = analyze_faces(image)
    for face in analysis["faces"]:
        features = face_features(face["landmarks"], image.size, image)
        face["hair"] = features.get("hair_colour")
        face["suggested_breeds"] = suggestions_with_coats(features)
    return analysis
