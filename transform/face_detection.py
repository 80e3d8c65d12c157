"""Finds face boxes in a photo of any size with MediaPipe's full-range face detector.

The detector sees its input at 192x192, so small faces in a large photo vanish when the whole
photo is shown at once. One pass over the whole (downscaled) photo finds the large faces; large
photos also get a pass over overlapping tiles, each shown to the detector downscaled, which finds
faces down to about 1/12 of a tile's side. Overlapping boxes are then merged.
"""

from dataclasses import dataclass

import numpy as np

WHOLE_PHOTO_SIDE = 640
TILE_INPUT_SIDE = 384  # at most; a tile shrinks by a whole factor
# Measured here: a tile finds faces down to ~1/12 of its side, so 1000 px tiles find the ~80 px
# face of a 3000x2000 photo; the tiles grow with the photo to keep a 12 MP photo at 12 tiles.
MIN_TILE_SIDE = 1000
TILE_OVERLAP = 0.25
# Below this many tile sides on the longer side, the whole-photo pass already sees faces as small.
TILING_FROM_TILES = 1.5
DUPLICATE_IOU = 0.3
DUPLICATE_COVERAGE = 0.6


@dataclass(frozen=True)
class Detection:
    box: tuple  # x0, y0, x1, y1 in the photo's pixels (floats)
    score: float


def detect_faces(detector, photo):
    """Face boxes in `photo` (PIL RGB), best first, without duplicates."""
    tile_side = max(MIN_TILE_SIDE, min(photo.size) // 2)
    tiled = max(photo.size) > TILING_FROM_TILES * tile_side
    factor = shrink_factor(tile_side, TILE_INPUT_SIDE) if tiled else 1
    small = photo.reduce(factor) if factor > 1 else photo
    # Shown whole at full size, the detector's own resizing aliases small faces away.
    whole_factor = shrink_factor(max(small.size), WHOLE_PHOTO_SIDE)
    whole = small.reduce(whole_factor) if whole_factor > 1 else small
    found = detect_in(detector, whole, (0, 0, *photo.size))
    if tiled:
        for tile in tiles(small.size, tile_side // factor):
            found += detect_in(detector, small.crop(tile), tuple(v * factor for v in tile))
    return without_duplicates(found, box=lambda d: d.box, score=lambda d: d.score)


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


def without_duplicates(items, box, score):
    """The best-scoring item of each group showing the same face; box and score read an item."""
    kept = []
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
