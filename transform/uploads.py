"""Checks an uploaded photo and turns it into clean 8-bit sRGB with no metadata.

Refusals are `UploadRejected` with a code (the web layer words and translates it). The cheap checks come
first: the byte size, then the type from magic bytes, then the dimensions from the header; only
then is anything decoded. Animated WebP and PNG are accepted: their first frame is used.
"""

import io
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageOps
from PIL.JpegImagePlugin import JpegImageFile
from PIL.PngImagePlugin import PngImageFile
from PIL.WebPImagePlugin import WebPImageFile
from pillow_heif.as_plugin import HeifImageFile

from transform import image_structure
from transform.colour import to_srgb_rgb
from transform.encoding import jpeg_bytes, make_thumbnail

__all__ = ["CleanedPhoto", "UploadRejected", "clean_upload", "make_thumbnail"]

DISPLAY_NAME_MAX = 100
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


class UploadRejected(ValueError):
    """An upload that is not accepted: `code` says why, `limit` the limit it broke (bytes, pixels or side)."""

    def __init__(self, code, limit=None):
        super().__init__(code if limit is None else f"{code} (limit {limit})")
        self.code = code
        self.limit = limit


@dataclass(frozen=True)
class CleanedPhoto:
    image: Image.Image
    jpeg: bytes
    width: int
    height: int
    display_name: str


def clean_upload(fileobj, name="", *, max_bytes, max_pixels, min_side):
    """The photo in `fileobj` (a file object, e.g. Django's UploadedFile) as a CleanedPhoto, or
    UploadRejected. `name` is the uploaded file's name, kept only as display text."""
    data = read_limited(fileobj, max_bytes)
    if not data:
        raise UploadRejected("empty")
    image = open_by_magic(data)
    check_dimensions(image.size, max_pixels, min_side)
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        image = to_srgb_rgb(image)
    except Exception as error:
        # Decoders raise many types (OSError, SyntaxError, ValueError, struct.error, ...) for bad data.
        raise corrupt() from error
    return CleanedPhoto(image, jpeg_bytes(image), image.width, image.height, display_name(name))


def read_limited(fileobj, max_bytes):
    """The whole file, refusing it before reading when its declared size is already too big."""
    declared = getattr(fileobj, "size", None)
    if declared is not None and declared > max_bytes:
        raise too_big(max_bytes)
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    data = fileobj.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_big(max_bytes)
    return data


def open_by_magic(data):
    """The image opened lazily (header only) by the one decoder its magic bytes name.

    The plugin classes are used directly because Image.open() runs PIL's own decompression-bomb
    check, which warns or raises (DecompressionBombWarning/Error) before our own pixel limit applies.
    A PNG loses its text chunks first (no text of an upload is kept, so none is read or inflated), and
    a PNG or JPEG made of more blocks than any encoder writes is refused before PIL walks them.
    """
    decoder = decoder_for(data[:16])
    if decoder is None:
        raise UploadRejected("unsupported")
    try:
        if decoder is PngImageFile:
            data = image_structure.png_without_text(data)
        elif decoder is JpegImageFile:
            image_structure.check_jpeg_segments(data)
    except image_structure.TooManyParts:
        raise UploadRejected("too_many_parts") from None
    try:
        return decoder(io.BytesIO(data))
    except Exception as error:
        raise corrupt() from error


def decoder_for(head):
    if head.startswith(b"\xff\xd8\xff"):
        return JpegImageFile
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PngImageFile
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WebPImageFile
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HeifImageFile
    return None


# The JPEG encoder (libjpeg) refuses sides over 65,500 pixels, and every photo is stored as JPEG.
MAX_SIDE = 65_500


def check_dimensions(size, max_pixels, min_side):
    width, height = size
    if max(width, height) > MAX_SIDE:
        raise UploadRejected("side_too_long", MAX_SIDE)
    if width * height > max_pixels:
        raise UploadRejected("too_many_pixels", max_pixels)
    if min(width, height) < min_side:
        raise UploadRejected("too_small", min_side)


def too_big(max_bytes):
    return UploadRejected("too_big", max_bytes)


def corrupt():
    return UploadRejected("corrupt")


def display_name(name):
    """The uploaded file's base name, fit for display only: no path, no control characters."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    return printable.strip()[:DISPLAY_NAME_MAX]
