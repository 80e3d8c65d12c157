"""Encodes images for storage and display, carrying no metadata (no EXIF, ICC, XMP or comments)."""

import io

from PIL import Image


def jpeg_bytes(image, quality=90):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=b"", comment=b"")
    return buffer.getvalue()


# The result page's dog: at most ~360 CSS px wide in any layout, so 768 px covers screens at 2x.
DISPLAY_SIDE = 768


def make_thumbnail(image, max_side=320):
    """A small WebP of any RGB or RGBA image, at most max_side on its longer side, no metadata."""
    thumbnail = image.copy()
    thumbnail.info = {}
    thumbnail.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumbnail.save(buffer, "WEBP", quality=80)
    return buffer.getvalue()
