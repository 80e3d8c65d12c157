"""Turns any decoded photo into 8-bit sRGB RGB that looks like the original."""

import io

import numpy as np
from PIL import Image, ImageCms

SRGB = ImageCms.createProfile("sRGB")
WHITE = (255, 255, 255)
HIGH_BIT_DEPTH_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA", "P"}


def to_srgb_rgb(image):
    """8-bit sRGB RGB, with transparency composited on white and no metadata left in .info.
    An image that is already plain RGB is returned itself (copying 12 MP costs ~50 ms here),
    its .info emptied."""
    icc = image.info.get("icc_profile")
    if image.mode in HIGH_BIT_DEPTH_MODES:
        image = sixteen_bit_to_grey(image)
    elif image.mode == "F":
        image = image.convert("L")
    if image.mode in ALPHA_MODES:
        image = on_white(image)
    result = apply_icc(image, icc) if icc else None
    if result is None:
        result = image if image.mode == "RGB" else image.convert("RGB")
    result.info = {}
    return result


def sixteen_bit_to_grey(image):
    # A plain convert("L") clips at 255, so every pixel above 1/256 of full scale turns white.
    levels = np.asarray(image, dtype=np.uint32)
    return Image.fromarray((np.clip(levels, 0, 65535) // 257).astype(np.uint8), "L")


def on_white(image):
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, WHITE + (255,))
    return Image.alpha_composite(background, rgba).convert("RGB")


def apply_icc(image, icc):
    """The image moved from its embedded profile to sRGB, or None where the profile is unusable
    (then a plain conversion is the best remaining guess)."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, profile, SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
