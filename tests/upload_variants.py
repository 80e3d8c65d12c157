"""The same photo as people re-upload it: mirrored, re-saved, re-scaled, cropped or slightly rotated.

Shared by the breed stability test and bench/suggest.py. Each variant is uploaded through the real
upload path: transform.uploads.clean_upload, then transform.photo_analysis.analyze_photo.
"""

import io
import math

from PIL import Image, ImageOps

from tests import sample_images as samples
from transform.photo_analysis import analyze_photo
from transform.uploads import clean_upload

LIMITS = {"max_bytes": 50 * 2**20, "max_pixels": 50_000_000, "min_side": 64}
# Every face photo the tests and benches use (the astronaut in its crops and sizes, and Grace
# Hopper): name -> (a function making the PIL image, the index of the face to follow).
FACE_PHOTOS = {
    "astronaut": (samples.astronaut, 0),
    "astronaut upright crop": (samples.upright_portrait, 0),
    "astronaut small in 3000x2000": (samples.small_face_photo, 0),
    "astronaut twice, right face": (lambda: Image.open(io.BytesIO(samples.two_faces_jpeg())).convert("RGB"), 1),
    "grace hopper": (samples.grace_hopper, 0),
}


def _png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(image, quality):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _scaled(image, factor):
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)


def _cropped(image, share):
    """`share` of the width and height cut from every border."""
    dx, dy = round(image.width * share), round(image.height * share)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def upload_variants(image):
    """{variant name: uploaded file bytes}: the original (as PNG) and its ten ordinary changes."""
    return {
        "original": _png(image),
        "mirror": _png(ImageOps.mirror(image)),
        "jpeg 95": _jpeg(image, 95),
        "jpeg 85": _jpeg(image, 85),
        "jpeg 75": _jpeg(image, 75),
        "scale 0.9": _png(_scaled(image, 0.9)),
        "scale 0.75": _png(_scaled(image, 0.75)),
        "crop 3%": _png(_cropped(image, 0.03)),
        "crop 6%": _png(_cropped(image, 0.06)),
        "rotate +4°": _png(image.rotate(4, Image.Resampling.BICUBIC)),
        "rotate -4°": _png(image.rotate(-4, Image.Resampling.BICUBIC)),
    }


def variant_point(variant, point, size):
    """Where a point of the original (x, y in shares of its width and height) lies in a variant,
    in shares of the variant's width and height; `size` is the original's (width, height)."""
    width, height = size
    x, y = point[0] * width, point[1] * height
    if variant == "mirror":
        x = width - x
    elif variant.startswith("crop "):
        dx, dy = round(width * float(variant[5:-1]) / 100), round(height * float(variant[5:-1]) / 100)
        x, y, width, height = x - dx, y - dy, width - 2 * dx, height - 2 * dy
    elif variant.startswith("rotate "):
        # Image.rotate turns the picture counter-clockwise about its centre and keeps its size.
        angle = math.radians(float(variant[7:-1]))
        dx, dy = x - width / 2, y - height / 2
        x = width / 2 + dx * math.cos(angle) + dy * math.sin(angle)
        y = height / 2 - dx * math.sin(angle) + dy * math.cos(angle)
    return x / width, y / height


def cleaned_upload(data):
    """The cleaned PIL image of uploaded bytes, exactly as the upload form makes it."""
    return clean_upload(io.BytesIO(data), "photo", **LIMITS).image


def followed_face(analysis, variant, index):
    """The face to follow in a variant's landmark JSON: a mirror swaps which end it is at."""
    faces = analysis["faces"]
    return (faces[::-1] if variant == "mirror" else faces)[index]


def analysed_upload(data):
    """The landmark JSON of uploaded bytes, exactly as the upload form makes it."""
    return analyze_photo(cleaned_upload(data))
