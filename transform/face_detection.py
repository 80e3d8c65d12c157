"""Finds face boxes in a photo of any size: MediaPipe's full-range detector over a scale pyramid of
tiles, then dlib's CNN detector where a group's other members would be but MediaPipe found nobody.

The full-range detector sees its input at 192x192 and finds faces down to about 1/12 of what it is
shown, so small faces in a large photo vanish when the whole photo is shown at once. The pyramid
shows it the whole photo, then overlapping square tiles of shrinking sides down to the side where a
face of MIN_FACE_PIXELS is 1/12 of a tile. Big photos would need hundreds of such tiles: the
smallest tile side grows until the pyramid fits MAX_DETECTOR_CALLS, so the smallest face found
grows with the photo (smallest_findable_face()).

The fallback, dlib's MMOD CNN (trained on dlib's own data set, with more turned and lowered faces
than MediaPipe's), costs ~100x more per pixel, so it only searches the gaps of the row(s) where a
group's faces were found, at the scale of those faces. Both detectors' boxes are only candidates:
transform.faces keeps those on which FaceMesh finds a face.
"""

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHOLE_PHOTO_SIDE = 640
TILE_INPUT_SIDE = 384  # at most; a tile shrinks by a whole factor
# Measured: the full-range detector finds faces down to ~1/12 of the side it is shown.
FACE_PER_SIDE = 1 / 12
MIN_FACE_PIXELS = 40
# Tile sides shrink by at most this factor from one pyramid level to the next.
LEVEL_RATIO = 3.0
TILE_OVERLAP = 0.25
# ~12 ms a call: 30 calls keep a 12 MP photo's detection near 350 ms (docs/BENCHMARKS.md).
MAX_DETECTOR_CALLS = 30
DUPLICATE_IOU = 0.3
DUPLICATE_COVERAGE = 0.6

# dlib's CNN finds faces from its 80 px window up, surely from ~1.5x that: the row's faces are shown at this side.
FALLBACK_FACE_SIDE = 120
FALLBACK_MIN_FACES = 2  # a row of people: one face alone says nothing about where others are
FALLBACK_MAX_PIXELS = 150_000  # ~1-3 s of the CNN on this project's shared 2-core CPU (BENCHMARKS.md)
# The row searched: from half a face above the highest face to a face below the lowest (heads bent down).
ROW_ABOVE, ROW_BELOW = 0.5, 1.0
CNN_MODEL_FILE = ("face_recognition_models", "models/mmod_human_face_detector.dat")


@dataclass(frozen=True)
class Detection:
    box: tuple  # x0, y0, x1, y1 in the photo's pixels (floats)
    score: float | None  # MediaPipe's confidence; None for the fallback detector's candidates


def detect_faces(detector, photo):
    """Face boxes in `photo` (PIL RGB) found by MediaPipe's detector, best first, without duplicates."""
    width, height = photo.size
    found = detect_in(detector, shrunk(photo, WHOLE_PHOTO_SIDE), (0, 0, width, height))
    for side in pyramid_sides(photo.size):
        # Shrinking the whole photo once per level is several times faster than shrinking every tile.
        factor = shrink_factor(side, TILE_INPUT_SIDE)
        small = photo.reduce(factor) if factor > 1 else photo
        for tile in tiles(small.size, side // factor):
            found += detect_in(detector, small.crop(tile), tuple(v * factor for v in tile))
    return without_duplicates(found, box=lambda d: d.box, score=lambda d: d.score)


def pyramid_sides(size, min_face=MIN_FACE_PIXELS, max_calls=MAX_DETECTOR_CALLS):
    """Tile sides of the pyramid's levels below the whole photo, largest first (none for small photos)."""
    smallest = min_face / FACE_PER_SIDE
    while True:
        sides = level_sides(max(size), smallest)
        if 1 + sum(len(tiles(size, side)) for side in sides) <= max_calls:
            return sides
        smallest *= 1.1


def level_sides(longest, smallest):
    if longest <= smallest * 1.25:
        return []  # the whole-photo pass already sees (nearly) the smallest face looked for
    levels = math.ceil(math.log(longest / smallest) / math.log(LEVEL_RATIO))
    ratio = (longest / smallest) ** (1 / levels)
    return [round(longest / ratio**level) for level in range(1, levels + 1)]


def smallest_findable_face(size):
    """The side, in pixels, of the smallest face the pyramid looks for in a photo of `size`."""
    sides = pyramid_sides(size)
    return round((min(sides) if sides else max(size)) * FACE_PER_SIDE)


def shrunk(image, max_side):
    # Shown whole at full size, the detector's own resizing aliases small faces away.
    factor = shrink_factor(max(image.size), max_side)
    return image.reduce(factor) if factor > 1 else image


def shrink_factor(side, max_side):
    """The whole factor that brings `side` to at most `max_side`: reduce() by a whole factor is
    several times faster than resize() on a 12 MP photo."""
    return -(-side // max_side)


def detect_in(detector, region_image, region):
    """Detections in one region (x0, y0, x1, y1) of the photo; region_image shows it at any scale."""
    result = detector.process(np.asarray(region_image))
    x, y, right, bottom = region
    width, height = right - x, bottom - y
    detections = []
    for detection in result.detections or []:
        box = detection.location_data.relative_bounding_box
        x0, y0 = x + box.xmin * width, y + box.ymin * height
        detections.append(Detection((x0, y0, x0 + box.width * width, y0 + box.height * height), detection.score[0]))
    return detections


def tiles(size, side):
    """Square tiles (x0, y0, x1, y1) covering `size`, overlapping by TILE_OVERLAP of a side."""
    stride = round(side * (1 - TILE_OVERLAP))
    return [(x, y, x + side, y + side) for y in starts(size[1], side, stride) for x in starts(size[0], side, stride)]


def starts(length, side, stride):
    if length <= side:
        return [0]
    return list(range(0, length - side, stride)) + [length - side]


def load_cnn_detector():
    """dlib's MMOD CNN face detector, from the model file the face_recognition_models package ships (CC0).

    The package's own __init__ needs pkg_resources, which current setuptools no longer has, so only
    its folder is looked up.
    """
    import dlib  # type: ignore[import-untyped]  # ~0.1 s; only processes that analyse faces pay for it

    package, relative = CNN_MODEL_FILE
    folder = importlib.util.find_spec(package).submodule_search_locations[0]  # type: ignore[union-attr,index]
    return dlib.cnn_face_detection_model_v1(str(Path(folder) / relative))


def fallback_candidates(cnn_detector, photo, found_boxes):
    """Boxes dlib's CNN finds in the gaps between a group's faces, in the photo's pixels: the widest
    gaps first, each cut to the part next to the group once FALLBACK_MAX_PIXELS would be passed."""
    if len(found_boxes) < FALLBACK_MIN_FACES:
        return []
    budget = FALLBACK_MAX_PIXELS
    candidates = []
    gaps, scale = row_gaps(photo.size, found_boxes)
    for x0, y0, x1, y1 in sorted(gaps, key=lambda gap: gap[0] - gap[2]):
        height = round((y1 - y0) * scale)
        width = min(round((x1 - x0) * scale), budget // height)
        if width < FALLBACK_FACE_SIDE:
            break
        budget -= width * height
        if x0 == 0:  # the photo's left edge: the group is on the right
            x0 = x1 - width / scale
        x1 = x0 + width / scale
        image = photo.crop((round(x0), y0, round(x1), y1)).resize((width, height))
        for found in cnn_detector(np.asarray(image), 0):
            rect = found.rect
            box = (rect.left(), rect.top(), rect.right(), rect.bottom())
            candidates.append(
                Detection((x0 + box[0] / scale, y0 + box[1] / scale, x0 + box[2] / scale, y0 + box[3] / scale), None)
            )
    return candidates


def row_gaps(size, boxes):
    """The stretches of the faces' row wide enough for another face, and the scale that shows the
    row's faces at FALLBACK_FACE_SIDE."""
    width, height = size
    face = float(np.median([max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes]))
    top = max(0, round(min(box[1] for box in boxes) - ROW_ABOVE * face))
    bottom = min(height, round(max(box[3] for box in boxes) + ROW_BELOW * face))
    gaps, start = [], 0.0
    for left, right in [*merged_spans(sorted((box[0], box[2]) for box in boxes)), (width, width)]:
        if left - start >= face:
            gaps.append((max(0, round(start - face / 2)), top, min(width, round(left + face / 2)), bottom))
        start = max(start, right)
    return gaps, FALLBACK_FACE_SIDE / face


def merged_spans(spans):
    """Sorted (start, end) spans with the overlapping ones joined."""
    merged: list[tuple[float, float]] = []
    for left, right in spans:
        if merged and left <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], right))
        else:
            merged.append((left, right))
    return merged


def without_duplicates(items, box, score):
    """The best-scoring item of each group showing the same face; box and score read an item."""
    kept: list = []
    for item in sorted(items, key=score, reverse=True):
        if not any(same_face(box(item), box(other)) for other in kept):
            kept.append(item)
    return kept


def same_face(a, b):
    """Overlapping a lot, or one mostly inside the other (a face cut by a tile's edge)."""
    inter = area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    if inter == 0:
        return False
    return inter / (area(a) + area(b) - inter) > DUPLICATE_IOU or inter / min(area(a), area(b)) > DUPLICATE_COVERAGE


def area(box):
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
