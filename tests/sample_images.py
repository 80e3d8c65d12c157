"""Test photos built from scikit-image's samples and tests/data, as encoded bytes.

Shared by the upload, face and web tests. Friendly samples are plain functions returning bytes;
`hostile_files()` returns every file an upload must refuse, as name -> (bytes, filename).
"""

import io
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps
from skimage import data

pillow_heif.register_heif_opener()

# Where small_face_photo() puts the astronaut, and how wide: the whole 512 px portrait scaled down to
# this width, so the face itself is about a fifth of it (~80 px).
SMALL_FACE_PHOTO_SIZE = (3000, 2000)
SMALL_FACE_PORTRAIT_WIDTH = 400
SMALL_FACE_PORTRAIT_AT = (1900, 1100)
DATA = Path(__file__).with_name("data")
# The astronaut's face in the 512 px sample, as the face detector boxes it.
ASTRONAUT_FACE_BOX = (174, 68, 278, 172)


def astronaut():
    """The 512x512 RGB portrait, as a PIL image."""
    return Image.fromarray(data.astronaut())


def grace_hopper():
    """A second real face (512x600 RGB): tests/data/grace_hopper.jpg, public domain (see tests/data/README.md)."""
    return Image.open(DATA / "grace_hopper.jpg").convert("RGB")


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def portrait_jpeg():
    return encode(astronaut(), "JPEG", quality=92)


def large_portrait_jpeg():
    """The portrait at 4000x4000, about 4 MB: a large upload, which Django spools to a temporary file."""
    return encode(astronaut().resize((4000, 4000), Image.LANCZOS), "JPEG", quality=97, subsampling=0)


def upright_portrait():
    """A 384x512 (portrait orientation) crop of the astronaut, to tell rotated from upright."""
    return astronaut().crop((64, 0, 448, 512))


def exif_rotated_jpeg():
    """upright_portrait() stored lying on its side (512x384) with EXIF orientation 6 ("rotate 90°
    clockwise to display"), plus GPS position, camera make, an XMP packet and a JPEG comment."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "Sample Camera Co."  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (37.0, 33.0, 59.0)  # GPSLatitude
    gps[3] = "E"
    gps[4] = (126.0, 58.0, 41.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    stored = upright_portrait().transpose(Image.Transpose.ROTATE_90)
    return encode(stored, "JPEG", quality=92, exif=exif, xmp=xmp, comment=b"secret comment")


def cmyk_jpeg():
    return encode(astronaut().convert("CMYK"), "JPEG", quality=92)


def srgb_profiled_jpeg():
    """The portrait with an embedded sRGB ICC profile (must not survive re-encoding)."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(astronaut(), "JPEG", quality=92, icc_profile=profile)


def rgba_png():
    """The portrait whose left half is fully transparent (black underneath)."""
    rgba = astronaut().convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, rgba.width // 2, rgba.height))
    rgba.putalpha(alpha)
    rgba.paste((0, 0, 0, 0), (0, 0, rgba.width // 2, rgba.height))
    return encode(rgba, "PNG")


def grey16_png():
    """The portrait as 16-bit greyscale (mode I;16), using the full 0..65535 range."""
    grey = np.asarray(astronaut().convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(grey), "PNG")


def rgb16_png():
    """The portrait as 16-bit RGB (Pillow cannot write that; OpenCV can)."""
    bgr16 = np.asarray(astronaut(), dtype=np.uint16)[:, :, ::-1] * 257
    return cv2.imencode(".png", bgr16)[1].tobytes()


def palette_png():
    """The portrait in 64 colours, palette index 0 marked transparent."""
    palette = astronaut().quantize(64)
    return encode(palette, "PNG", transparency=0)


def webp():
    return encode(astronaut(), "WEBP", quality=90)


def animated_webp():
    """Two frames: the portrait, then a black frame."""
    frames = [astronaut(), Image.new("RGB", (512, 512))]
    return encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)


def heic():
    return encode(astronaut(), "HEIF", quality=90)


def two_faces_jpeg():
    """The portrait twice, side by side (1024x512)."""
    image = Image.new("RGB", (1024, 512))
    image.paste(astronaut(), (0, 0))
    image.paste(astronaut(), (512, 0))
    return encode(image, "JPEG", quality=92)


def photo_with_face(size, portrait_width, at):
    """The coffee sample enlarged to `size`, with the portrait pasted at `at`, portrait_width wide."""
    photo = Image.fromarray(data.coffee()).resize(size)
    photo.paste(astronaut().resize((portrait_width, portrait_width)), at)
    return photo


def small_face_photo():
    """A 3000x2000 photo with the portrait pasted in 400 px wide."""
    return photo_with_face(SMALL_FACE_PHOTO_SIZE, SMALL_FACE_PORTRAIT_WIDTH, SMALL_FACE_PORTRAIT_AT)


def small_face_box():
    """Where small_face_photo()'s face is, in its pixels: ASTRONAUT_FACE_BOX moved and scaled."""
    scale = SMALL_FACE_PORTRAIT_WIDTH / 512
    x, y = SMALL_FACE_PORTRAIT_AT
    x0, y0, x1, y1 = ASTRONAUT_FACE_BOX
    return (x + x0 * scale, y + y0 * scale, x + x1 * scale, y + y1 * scale)


def small_face_jpeg():
    return encode(small_face_photo(), "JPEG", quality=90)


def no_face_jpeg():
    return encode(Image.fromarray(data.coffee()), "JPEG", quality=90)


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width, height):
    """A PNG signature and a valid IHDR declaring width x height 8-bit RGB, then an empty IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"") + png_chunk(b"IEND", b"")


@lru_cache(maxsize=1)
def huge_png():
    """A real, fully decodable 12000x12000 black PNG (1-bit, so it compresses to a few kB)."""
    return encode(Image.new("1", (12000, 12000)), "PNG")


def animated_gif():
    frames = [astronaut().convert("P"), Image.new("P", (512, 512))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def hostile_files():
    """name -> (bytes, uploaded file name) for every upload that must be refused."""
    jpeg = portrait_jpeg()
    return {
        "empty": (b"", "empty.jpg"),
        "text": (b"Hello, this is not a photo at all.\n" * 20, "notes.jpg"),
        "truncated_jpeg": (jpeg[: len(jpeg) // 2], "cut.jpg"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512"/>', "face.svg"),
        "png_header_30000": (png_header_only(30000, 30000), "bomb.png"),
        "png_12000": (huge_png(), "huge.png"),
        "30_mb": (jpeg + bytes(30 * 1024 * 1024 - len(jpeg)), "big.jpg"),
        "animated_gif": (animated_gif(), "dance.gif"),
        "bmp": (encode(astronaut(), "BMP"), "face.bmp"),
        "tiff": (encode(astronaut(), "TIFF"), "face.tiff"),
        "tiny_jpeg": (encode(astronaut().resize((32, 32)), "JPEG"), "tiny.jpg"),
    }


# Real faces for group photos. No installable package ships a photo of several people, so group
# photos are composed from these single portraits:
# - astronaut(): Eileen Collins, NASA (scikit-image's data.astronaut; public domain).
# - grace_hopper(): Grace Hopper, U.S. Navy photo (tests/data/grace_hopper.jpg; public domain).
# - cameraman(): a man filming, head turned ~60° and lowered (scikit-image's data.camera; CC0, Lav Varshney).
def cameraman():
    return Image.fromarray(data.camera()).convert("RGB")


# (portrait, width it is pasted at, where) for group_photo(); the faces' widths are ~1/5 of the portraits'.
GROUP_PHOTO_SIZE = (1600, 800)


def group_members():
    """(name, portrait, position): faces from ~95 px down to ~40 px, one turned ~60°, two bent forward.

    Squashing a portrait vertically stands in for a head bent forward (its face foreshortened)."""
    return [
        ("grace_hopper", grace_hopper().resize((260, 305)), (40, 300)),
        ("astronaut", astronaut().resize((380, 380)), (330, 260)),
        ("cameraman", cameraman().resize((300, 300)), (730, 300)),
        ("astronaut_small", astronaut().resize((200, 200)), (1050, 360)),
        ("astronaut_looking_down", astronaut().resize((240, 150)), (1260, 380)),
    ]


WALL = (196, 188, 172)


def group_photo():
    """The group_members() pasted side by side on a plain wall."""
    photo = Image.new("RGB", GROUP_PHOTO_SIZE, WALL)
    for _name, portrait, at in group_members():
        photo.paste(portrait, at)
    return photo


# Where bent_head_beside_two_people() puts the cameraman's face (turned ~60°, bent further forward).
BENT_HEAD_BOX = (955, 100, 1045, 170)


def bent_head_beside_two_people():
    """Two astronauts and, in the gap to their right, the cameraman mirrored and squashed: his head
    turned ~60° and bent forward."""
    photo = Image.new("RGB", (1260, 512), WALL)
    photo.paste(astronaut(), (0, 0))
    photo.paste(astronaut(), (400, 0))
    photo.paste(ImageOps.mirror(cameraman()).resize((560, 360)), (700, 20))
    return photo


def two_sizes_photo():
    """The astronaut twice side by side, 512 and 256 px wide (faces ~100 and ~50 px): 768x512."""
    photo = Image.new("RGB", (768, 512), WALL)
    photo.paste(astronaut(), (0, 0))
    photo.paste(astronaut().resize((256, 256)), (512, 128))
    return photo
