"""Hair colour and amount from the pixels above the forehead and beside the temples.

Cheek pixels serve only as a "this is skin, not hair" reference; they are never reported.
"""

import cv2
import numpy as np

from .face_frame import FOREHEAD_TOP

CHEEKS = (205, 425)
# CIELAB prototypes of the hair-colour vocabulary; the nearest one names the hair.
HAIR_PALETTE = {
    "black": (14, 0, 2),
    "brown": (36, 9, 18),
    "blond": (66, 5, 30),
    "red": (42, 30, 38),
    "grey": (60, 0, 2),
    "white": (88, 0, 3),
}
# Colour differences (CIELAB ΔE) under which a pixel counts as the cheeks' skin or the background.
SAME_COLOUR = 16.0
# Below this share of hair-like pixels in the region there is too little hair to name a colour.
MIN_HAIR_AMOUNT = 0.2
# Skin always has some colour (CIELAB chroma 10-30): cheeks below this chroma mean a black-and-white
# photo, where brown, blond and red hair are all shades of grey and no hair colour can be named.
MIN_SKIN_CHROMA = 4.0
# How far (ΔE) a hair colour may be from a prototype and still partly count as it: the shades change
# smoothly between two prototypes, so hair halfway between brown and grey does not flip the coat
# term between two re-saves. Prototypes are 25-30 apart, so at a prototype it counts as that alone.
SHADE_SOFTNESS = 8.0


def hair_features(image, frame):
    """{"hair_colour": one of HAIR_PALETTE or None, "hair_amount": 0..1, "hair_shades": {colour: share}}
    for a face's FaceFrame. The shades (summing to 1, empty without a hair colour) say how much the
    hair is like each prototype; the colour is the likest."""
    references = (_cheek_patches(frame), _background_patches(frame))
    window = _Window(image, frame, np.vstack([_hair_region(frame), *references]))
    region = _lab(window.sample(_hair_region(frame)))
    if not len(region):
        return {"hair_colour": None, "hair_amount": 0.0, "hair_shades": {}}
    not_hair = np.zeros(len(region), dtype=bool)
    cheeks, background = (_lab(window.sample(reference)) for reference in references)
    for reference_lab in (cheeks, background):
        if len(reference_lab):
            not_hair |= _near(region, reference_lab)
    hair = region[~not_hair]
    amount = len(hair) / len(region)
    if amount < MIN_HAIR_AMOUNT or _without_colour(cheeks):
        return {"hair_colour": None, "hair_amount": amount, "hair_shades": {}}
    shades = hair_shades(np.median(hair, axis=0))
    return {"hair_colour": max(shades, key=shades.get), "hair_amount": amount, "hair_shades": shades}


def hair_shades(lab):
    """{colour: share} of a CIELAB hair colour, from its distances to the prototypes."""
    distances = {name: np.linalg.norm(lab - prototype) for name, prototype in HAIR_PALETTE.items()}
    nearest = min(distances.values())
    # Relative to the nearest prototype, so far-off colours do not underflow to all zeros.
    weights = {name: np.exp((nearest**2 - d**2) / (2 * SHADE_SOFTNESS**2)) for name, d in distances.items()}
    total = sum(weights.values())
    return {name: round(float(weight / total), 3) for name, weight in weights.items() if weight / total >= 0.001}


def _without_colour(cheeks):
    """Whether the cheeks are grey: a black-and-white photo (or no cheeks seen)."""
    return not len(cheeks) or float(np.median(np.hypot(cheeks[:, 1], cheeks[:, 2]))) < MIN_SKIN_CHROMA


def _grid(u_range, v_range, steps):
    (u_low, u_high), (v_low, v_high) = u_range, v_range
    u, v = np.meshgrid(np.linspace(u_low, u_high, steps[0]), np.linspace(v_low, v_high, steps[1]))
    return np.column_stack([u.ravel(), v.ravel()])


def _mirrored(grid):
    """The grid and its reflection across the midline, so both sides of the head weigh the same."""
    return np.vstack([grid, grid * (-1, 1)])


def _hair_region(frame):
    top = frame.points[FOREHEAD_TOP][1]
    above_forehead = _grid((-0.45, 0.45), (top - 0.4, top - 0.06), (19, 9))
    temples = _mirrored(_grid((0.52, 0.68), (top, -0.05), (5, 9)))
    return np.vstack([above_forehead, temples])


def _cheek_patches(frame):
    offsets = _grid((-0.04, 0.04), (-0.04, 0.04), (5, 5))
    return np.vstack([frame.points[cheek] + offsets for cheek in CHEEKS])


def _background_patches(frame):
    """Up and out beside the head, where a portrait usually shows the background."""
    top = frame.points[FOREHEAD_TOP][1]
    return _mirrored(_grid((0.95, 1.1), (top - 0.35, top - 0.15), (4, 4)))


class _Window:
    """The part of the image around the face that the samples need, as an RGB array: converting a
    whole 12 MP photo cost ~150 ms here, the window a few."""

    def __init__(self, image, frame, uv):
        self.frame = frame
        xy = np.floor(frame.to_pixels(uv)).astype(int)
        low = np.clip(xy.min(axis=0), 0, image.size)
        high = np.clip(xy.max(axis=0) + 1, low, image.size)
        self.offset = low
        self.pixels = np.asarray(image.crop((*low, *high)).convert("RGB"))

    def sample(self, uv):
        """The RGB pixels under face-unit points that fall inside the image."""
        xy = np.floor(self.frame.to_pixels(uv)).astype(int) - self.offset
        height, width = self.pixels.shape[:2]
        inside = (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
        return self.pixels[xy[inside, 1], xy[inside, 0]]


def _lab(rgb):
    if not len(rgb):
        return np.empty((0, 3))
    as_image = (rgb.astype(np.float32) / 255)[:, None, :]
    return cv2.cvtColor(as_image, cv2.COLOR_RGB2Lab)[:, 0, :].astype(float)


def _near(lab, reference):
    """Which Lab pixels are within SAME_COLOUR of the reference pixels' median colour."""
    return np.linalg.norm(lab - np.median(reference, axis=0), axis=1) < SAME_COLOUR
