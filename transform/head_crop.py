"""Framing the chosen face: a crop box around it with a margin, and landmarks moved into that box.

Safe to import in the web process (numpy and PIL only). The same box crops the photo (face crop,
img2img input) and places the landmarks the control image is drawn from.
"""

import numpy as np
from PIL import Image

LANDMARK_COUNT = 478
# Crop side = the face's larger side x this: face, hair and a little neck, like "close up, face portrait".
FACE_SCALE = 1.7
MIN_FACE_PIXELS = 8


class InvalidFace(ValueError):
    """A face without usable landmarks (the annotator would silently draw nothing)."""


def face_landmarks(face):
    """The face's landmarks as a (478, 3) float array, x and y normalised to the image."""
    try:
        landmarks = np.asarray(face.get("landmarks") or [], dtype=np.float64)
    except (TypeError, ValueError, AttributeError):
        raise InvalidFace("The face's landmarks are not a list of [x, y, z] numbers.") from None
    if landmarks.shape != (LANDMARK_COUNT, 3):
        raise InvalidFace(f"The face needs {LANDMARK_COUNT} [x, y, z] landmarks; it has shape {landmarks.shape}.")
    if not np.isfinite(landmarks).all():
        raise InvalidFace("The face's landmarks contain non-finite numbers.")
    return landmarks


def face_crop_box(face, image_size, aspect=1.0, scale=FACE_SCALE):
    """(x0, y0, x1, y1) in pixels, width/height = aspect, around the face's landmarks.

    The box is shifted to stay inside the image where it fits; where it is larger than the image it is
    centred on it and the crop is padded.
    """
    width, height = image_size
    points = face_landmarks(face)[:, :2] * (width, height)
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    if min(right - left, bottom - top) < MIN_FACE_PIXELS:
        raise InvalidFace(f"The face is smaller than {MIN_FACE_PIXELS} pixels.")
    side = max(right - left, bottom - top) * scale
    box_width, box_height = (side * aspect, side) if aspect >= 1 else (side, side / aspect)
    x0 = _place(((left + right) - box_width) / 2, box_width, width)
    y0 = _place(((top + bottom) - box_height) / 2, box_height, height)
    return (x0, y0, x0 + box_width, y0 + box_height)


def _place(start, length, limit):
    if length >= limit:
        return (limit - length) / 2
    return min(max(start, 0.0), limit - length)


def crop(image, box, size):
    """The box of the image resampled to size (w, h); outside the image is black."""
    return image.transform(size, Image.Transform.EXTENT, box, resample=Image.Resampling.BICUBIC)


def landmarks_in_box(landmarks, image_size, box):
    """Landmarks normalised to the image, renormalised to the box (z is kept)."""
    width, height = image_size
    x0, y0, x1, y1 = box
    moved = landmarks.copy()
    moved[:, 0] = (landmarks[:, 0] * width - x0) / (x1 - x0)
    moved[:, 1] = (landmarks[:, 1] * height - y0) / (y1 - y0)
    return moved
