"""The masks of group photos ("make everyone a dog"): which pixels of a photo a face's dog may change.

Safe to import in the web process (numpy, OpenCV and PIL only): the photo page names faces too small
to make before anything is queued.
"""

import cv2
import numpy as np
from PIL import Image

from transform import head_crop

# Crop side = the face's larger side x this: the head with its hair and ears, and some of the scene
# around it, which the inpainting needs to blend the head in. It leaves 0.8 of the face above and
# beside the landmarks, more than the mask's HAIR_RISE or SIDE_SPREAD + GROW, so the mask meets the
# crop's edge only where the crop meets the photo's.
GROUP_CROP_SCALE = 2.6
# Faces whose larger side is under this many pixels of the photo are skipped: their crop would be
# upscaled more than ~7x to the 512 px work size, and the landmarks are too coarse for the mask.
MIN_GROUP_FACE_PIXELS = 32
# The mask, in units of the face's larger side: the hull is stretched this far up (hair) and this far
# to each side (ears, hair at the sides, the back of a turned head), then grown all round; the
# feathering fades over the inner FEATHER of its edge.
HAIR_RISE = 0.5
SIDE_SPREAD = 0.25
GROW = 0.12
FEATHER = 0.08


class FaceSkipped(ValueError):
    """A face that can't be inpainted well; the message says why."""


def face_mask(face, photo_size, box):
    """The feathered inpainting mask of `face` over the square crop `box`, as (side, side) float32 0..1.

    Zero outside the grown hull, so the mask's nonzero pixels are exactly the pixels a paste may change.
    """
    side = box[2] - box[0]
    points = head_crop.face_landmarks(face)[:, :2] * photo_size - box[:2]
    face_side = float(np.ptp(points, axis=0).max())
    stretched = [points + (dx * face_side, -dy * face_side) for dx, dy in ((0, HAIR_RISE), (-SIDE_SPREAD, 0), (SIDE_SPREAD, 0))]
    hull = cv2.convexHull(np.round(np.concatenate([points, *stretched])).astype(np.int32))
    mask = np.zeros((side, side), np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    grow, feather = max(1, round(GROW * face_side)), max(1, round(FEATHER * face_side))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    # Eroding by the blur's radius first keeps the blurred edge inside the grown hull.
    inner = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * feather + 1,) * 2))
    blurred = cv2.GaussianBlur(inner, (2 * feather + 1,) * 2, feather / 2, borderType=cv2.BORDER_CONSTANT)
    return np.where(mask > 0, blurred, 0).astype(np.float32) / 255


def crop_box(face, photo_size):
    """The square crop around a face, in whole pixels; FaceSkipped for faces too small to inpaint well."""
    width, height = photo_size
    points = head_crop.face_landmarks(face)[:, :2] * photo_size
    if np.ptp(points, axis=0).max() < MIN_GROUP_FACE_PIXELS:
        raise FaceSkipped(f"The face is smaller than {MIN_GROUP_FACE_PIXELS} pixels.")
    x0, y0, x1, y1 = head_crop.face_crop_box(face, photo_size, scale=GROUP_CROP_SCALE)
    side = round(x1 - x0)
    left, top = round(x0), round(y0)
    return (left, top, left + side, top + side)


def paste(photo_pixels, plan, image):
    """Blends one inpainted crop into the photo's pixels (H, W, 3 uint8, changed in place)."""
    x0, y0, x1, y1 = plan.box
    side = x1 - x0
    painted = np.asarray(image.resize((side, side), Image.Resampling.LANCZOS), dtype=np.float32)
    height, width = photo_pixels.shape[:2]
    # The part of the crop inside the photo.
    left, top, right, bottom = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    weight = plan.blend[top - y0 : bottom - y0, left - x0 : right - x0, None]
    region = photo_pixels[top:bottom, left:right]
    mixed = region * (1 - weight) + painted[top - y0 : bottom - y0, left - x0 : right - x0] * weight
    photo_pixels[top:bottom, left:right] = np.where(weight > 0, np.clip(np.round(mixed), 0, 255), region).astype(np.uint8)
