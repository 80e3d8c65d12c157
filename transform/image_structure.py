"""The blocks a PNG (chunks) or JPEG (segments before the image data) is made of, walked without decoding.

PIL walks them one Python call at a time and reads every text chunk it meets, inflating each up to
1 MB: a 20 MB file of tiny blocks kept a web thread busy for seconds. These walks stop at MAX_PARTS,
far more blocks than any encoder writes, so what reads an uploaded file has a bound it can refuse at.
"""

import re
import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
# libpng writes 8 KB image chunks, so a 20 MB PNG has about 2,500 chunks; a JPEG a few dozen segments.
MAX_PARTS = 50_000
# JPEG markers that stand alone, with no length after them (TEM and the restart markers).
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_JPEG_START_OF_SCAN = 0xDA
_FILL = re.compile(rb"\xff+")


class TooManyParts(ValueError):
    pass


def png_chunks(data, max_parts=MAX_PARTS):
    """(kind, start, end) of each chunk, its body being data[start:end], up to IEND or where the data is cut
    short; TooManyParts past max_parts chunks. Assumes `data` starts with the PNG signature."""
    position = len(PNG_SIGNATURE)
    for _ in range(max_parts):
        if position + 8 > len(data):
            return
        length, kind = struct.unpack_from(">I4s", data, position)
        start = position + 8
        yield kind, start, min(start + length, len(data))
        if kind == b"IEND":
            return
        position = start + length + 4  # the body, then its CRC
    if position + 8 <= len(data):
        raise TooManyParts(f"more than {max_parts} chunks")


def png_without_text(data, max_parts=MAX_PARTS):
    """The PNG without its tEXt, zTXt and iTXt chunks, so that no decoder reads or inflates them."""
    kept, keep_from = [], 0
    for kind, start, end in png_chunks(data, max_parts):
        if kind in PNG_TEXT_CHUNKS:
            kept.append(data[keep_from : start - 8])
            keep_from = end + 4
    if not kept:
        return data
    return b"".join([*kept, data[keep_from:]])


def check_jpeg_segments(data, max_parts=MAX_PARTS):
    """TooManyParts if more than max_parts segments, fill bytes and stray bytes come before the first scan:
    PIL walks each of them with a Python call (the scan itself it hands to libjpeg)."""
    parts, position = 0, 2  # after SOI
    while parts <= max_parts:
        marker_at = data.find(b"\xff", position)
        if marker_at < 0:
            return
        after_fill = _FILL.match(data, marker_at).end()  # type: ignore[union-attr]  # matches the empty run too
        parts += after_fill - position
        if after_fill >= len(data) or data[after_fill] == _JPEG_START_OF_SCAN:
            return
        position = after_fill + 1
        if data[after_fill] not in _JPEG_STANDALONE:
            if position + 2 > len(data):
                return
            position += struct.unpack_from(">H", data, position)[0]
    raise TooManyParts(f"more than {max_parts} segments or bytes between them before the image data")
