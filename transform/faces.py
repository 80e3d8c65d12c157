"""Face analysis for the landmark JSON (docs/API.md): boxes, 478 landmarks and head pose.

Candidates come from face_detection: MediaPipe's detector over a pyramid of tiles, then dlib's CNN
in the gaps of a group's row. FaceMesh then runs on a square crop around each candidate (on a whole
photo it only finds a single, large face) and confirms it: a candidate where FaceMesh finds no face,
or one whose nose lies outside the candidate's box, is dropped. If nothing is found, FaceMesh still
gets a try on the whole (downscaled) photo. Faces not found by MediaPipe's detector have
`"score": null`.

Landmarks: x and y are normalised to the full photo; z is in the unit of x (the photo's width),
smaller is closer to the camera, as MediaPipe gives it. Pose: see head_pose.py for the signs.
"""

import threading

import numpy as np
from PIL import Image

from transform.face_detection import (
    detect_faces,
    fallback_candidates,
    load_cnn_detector,
    same_face,
    shrink_factor,
    without_duplicates,
)
from transform.head_pose import head_pose, is_strong_profile

__all__ = ["analyze_faces", "is_strong_profile", "landmark_views"]

LANDMARK_JSON_VERSION = 1
MESH_CROP_PER_BOX = 2.0
MESH_INPUT_SIDE = 256
WHOLE_PHOTO_MESH_SIDE = 640
DECIMALS = 5
# Extra FaceMesh runs whose measurements are averaged with the stored landmarks' (see landmark_views):
# (crop side per landmark box side, mirrored). FaceMesh's landmarks wobble by about 1 % of the face
# between a photo and its re-save, mirror or re-scale; averaging these views halves that wobble.
LANDMARK_VIEWS = ((2.0, True), (1.7, False), (2.4, False))


class MediapipeGraphs:
    """The detectors and FaceMesh, built on first use. MediaPipe graphs are not thread-safe, so
    every use, building included, happens under `lock`."""

    def __init__(self):
        self.lock = threading.Lock()
        self._graphs = None

    def get(self):
        if self._graphs is None:
            import mediapipe as mp  # ~3 s; only processes that analyse faces pay for it

            self._graphs = (
                mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5),
                mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1),
                load_cnn_detector(),
            )
        return self._graphs


GRAPHS = MediapipeGraphs()


def analyze_faces(image):
    """The landmark JSON (a dict) for a PIL RGB image, faces sorted left to right."""
    with GRAPHS.lock:
        detector, mesh, cnn = GRAPHS.get()
        faces = confirmed(mesh, image, detect_faces(detector, image))
        boxes = [face["box"] for face in faces]
        missed = [c for c in fallback_candidates(cnn, image, boxes) if not any(same_face(c.box, box) for box in boxes)]
        faces = without_duplicates(faces + confirmed(mesh, image, missed), box=face_box, score=face_score)
        if not faces:
            faces = [face for face in [mesh_on_whole(mesh, image)] if face]
    faces.sort(key=lambda face: face["box"][0])
    return {"version": LANDMARK_JSON_VERSION, "image_size": list(image.size), "faces": faces}


def landmark_views(image, face, views=LANDMARK_VIEWS):
    """More landmark sets (478 normalised [x, y]) of one face of analyze_faces(): FaceMesh again on
    square crops around its landmarks, some mirrored. A mirrored view's landmarks are flipped back into
    the photo, so left and right swap labels: use them only for left/right-symmetric measurements."""
    landmarks = np.asarray(face["landmarks"])[:, :2] * image.size
    centre = (landmarks.min(axis=0) + landmarks.max(axis=0)) / 2
    extent = (landmarks.max(axis=0) - landmarks.min(axis=0)).max()
    found = []
    with GRAPHS.lock:
        _, mesh, _ = GRAPHS.get()
        for crop_per_box, mirrored in views:
            side = round(crop_per_box * extent)
            left, top = np.round(centre - side / 2).astype(int)
            crop = image.crop((left, top, left + side, top + side))
            crop = crop.resize((MESH_INPUT_SIDE, MESH_INPUT_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
            if mirrored:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            points = mesh_points(mesh, crop)
            if points is None:
                continue
            if mirrored:
                points[:, 0] = 1 - points[:, 0]
            pixels = points[:, :2] * side + (left, top)
            found.append((pixels / image.size).tolist())
    return found


def confirmed(mesh, image, detections):
    """The faces FaceMesh finds on the detections' candidates, without duplicates."""
    faces = [face for detection in detections if (face := mesh_in_box(mesh, image, detection))]
    return without_duplicates(faces, box=face_box, score=face_score)


def face_box(face):
    return face["box"]


def face_score(face):
    return face["score"] or 0


def mesh_in_box(mesh, image, detection):
    """The face in a square crop around the detection, or None where the mesh lies elsewhere."""
    x0, y0, x1, y1 = detection.box
    side = round(MESH_CROP_PER_BOX * max(x1 - x0, y1 - y0))
    left, top = round((x0 + x1 - side) / 2), round((y0 + y1 - side) / 2)
    # crop() pads with black where the square goes past the photo's edges.
    crop = image.crop((left, top, left + side, top + side))
    crop = crop.resize((MESH_INPUT_SIDE, MESH_INPUT_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    points = mesh_points(mesh, crop)
    if points is None:
        return None
    points = points * side + (left, top, 0)
    nose_x, nose_y = points[1, :2]
    if not (x0 <= nose_x <= x1 and y0 <= nose_y <= y1):
        return None
    return face_entry(points, image.size, None if detection.score is None else round(detection.score, 4))


def mesh_on_whole(mesh, image):
    small = image.reduce(shrink_factor(max(image.size), WHOLE_PHOTO_MESH_SIDE))
    points = mesh_points(mesh, small)
    if points is None:
        return None
    return face_entry(points * (image.width, image.height, image.width), image.size, None)


def mesh_points(mesh, image):
    """(478, 3) landmarks of the one face in `image`, normalised to its width (x, z) and height (y)."""
    result = mesh.process(np.asarray(image))
    if not result.multi_face_landmarks:
        return None
    return np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark])


def face_entry(points, image_size, score):
    """One face of the JSON from landmarks in the photo's pixels (z in the same unit)."""
    width, height = image_size
    x0, y0 = np.clip(points[:, :2].min(axis=0), 0, image_size)
    x1, y1 = np.clip(points[:, :2].max(axis=0), 0, image_size)
    normalised = np.round(points / (width, height, width), DECIMALS)
    return {
        "box": [int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))],
        "landmarks": normalised.tolist(),
        "pose": {name: round(angle, 1) for name, angle in head_pose(points).items()},
        "score": score,
    }
