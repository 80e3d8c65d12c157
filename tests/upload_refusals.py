"""What each hostile sample file (tests.sample_images.hostile_files) is refused with: (code, sentence),
under the limits the upload tests use (50 megapixels, 20 MB, 64 px)."""

UNSUPPORTED = ("unsupported", "This file is not a supported image; please upload a JPEG, PNG, WebP or HEIC photo.")
TOO_MANY_PIXELS = ("too_many_pixels", "This photo has more than 50 megapixels; please upload a smaller one.")
EXPECTED_REFUSALS = {
    "empty": ("empty", "The file is empty."),
    "text": UNSUPPORTED,
    "truncated_jpeg": ("corrupt", "This image is damaged or incomplete, so it cannot be read."),
    "svg": UNSUPPORTED,
    "png_header_30000": TOO_MANY_PIXELS,
    "png_12000": TOO_MANY_PIXELS,
    "30_mb": ("too_big", "This file is larger than 20 MB; please upload a smaller photo."),
    "animated_gif": UNSUPPORTED,
    "bmp": UNSUPPORTED,
    "tiff": UNSUPPORTED,
    "tiny_jpeg": ("too_small", "This photo is too small; it must be at least 64 pixels on each side."),
}
