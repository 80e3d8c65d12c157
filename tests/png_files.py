"""PNG files built chunk by chunk, for the tests of the readers of uploaded PNGs."""

import io
import struct
import zlib

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADER_END = len(SIGNATURE) + 25  # the signature and the IHDR chunk


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def small_png(size=(64, 64)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def png_with_chunks(chunks, size=(64, 64)):
    """A real PNG of `size` with `chunks` (whole chunks, as chunk() makes them) right after its header."""
    png = small_png(size)
    return png[:HEADER_END] + b"".join(chunks) + png[HEADER_END:]


def text_chunk(kind, keyword, text):
    """A tEXt, zTXt, iTXt or compressed iTXt ("iTXt-zip") chunk carrying `text` under `keyword`."""
    key = keyword.encode("latin-1") + b"\0"
    if kind == "tEXt":
        return chunk(b"tEXt", key + text.encode("latin-1"))
    if kind == "zTXt":
        return chunk(b"zTXt", key + b"\0" + zlib.compress(text.encode("latin-1")))
    compressed = kind == "iTXt-zip"
    body = text.encode("utf-8")
    return chunk(b"iTXt", key + bytes([compressed, 0]) + b"\0\0" + (zlib.compress(body) if compressed else body))


def png_with_parameters(text, kind="tEXt"):
    return png_with_chunks([text_chunk(kind, "parameters", text)], size=(8, 8))
