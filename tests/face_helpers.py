"""Landmarks computed the way controlnet_aux does (FaceMesh on the whole image), in our stored JSON shape.

Keeps the engine tests independent of transform.faces (another module's job).
"""

from functools import lru_cache

import mediapipe as mp
import numpy as np
from PIL import Image
from skimage import data


@lru_cache(maxsize=1)
def astronaut():
    return Image.fromarray(data.astronaut()).convert("RGB")


def landmark_json(image):
    """{"version": 1, "image_size": [w, h], "faces": [...]} for the faces FaceMesh finds in an RGB image."""
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5
    ) as mesh:
        found = mesh.process(np.asarray(image)).multi_face_landmarks or []
    width, height = image.size
    faces = []
    for face in found:
        points = [[p.x, p.y, p.z] for p in face.landmark]
        xs, ys = [p[0] * width for p in points], [p[1] * height for p in points]
        faces.append({"box": [min(xs), min(ys), max(xs), max(ys)], "landmarks": points})
    return {"version": 1, "image_size": [width, height], "faces": faces}
