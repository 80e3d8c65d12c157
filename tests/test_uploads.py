import io
import warnings

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gallery.forms import upload_refusal_message
from tests import sample_images as samples
from tests.upload_refusals import EXPECTED_REFUSALS
from transform.faces import analyze_faces
from transform.uploads import CleanedPhoto, UploadRejected, clean_upload, make_thumbnail

LIMITS = {"max_bytes": 20 * 2**20, "max_pixels": 50_000_000, "min_side": 64}

ACCEPTED = [
    samples.portrait_jpeg,
    samples.exif_rotated_jpeg,
    samples.cmyk_jpeg,
    samples.srgb_profiled_jpeg,
    samples.rgba_png,
    samples.grey16_png,
    samples.rgb16_png,
    samples.palette_png,
    samples.webp,
    samples.animated_webp,
    samples.heic,
]


def clean(data, name="photo.jpg", **limits):
    return clean_upload(io.BytesIO(data), name, **{**LIMITS, **limits})


def pixels(image):
    return np.asarray(image, dtype=np.float64)


def mean_difference(a, b):
    return np.abs(pixels(a) - pixels(b)).mean()


def test_every_hostile_sample_has_an_expected_refusal():
    assert set(samples.hostile_files()) == set(EXPECTED_REFUSALS)


@pytest.mark.parametrize("name", sorted(EXPECTED_REFUSALS))
def test_hostile_file_is_refused_with_its_message(name):
    data, filename = samples.hostile_files()[name]
    with pytest.raises(UploadRejected) as refusal:
        clean(data, filename)
    assert (refusal.value.code, upload_refusal_message(refusal.value)) == EXPECTED_REFUSALS[name]


@pytest.mark.parametrize("name", ["png_header_30000", "png_12000"])
def test_pixel_bombs_are_refused_from_the_header_without_pil_bomb_warnings(name):
    data, filename = samples.hostile_files()[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(UploadRejected):
            clean(data, filename)
    assert [w.category for w in caught] == []


class UnreadableUpload:
    """An upload declaring a size, like Django's UploadedFile, that must not be read."""

    size = 30 * 2**20

    def read(self, *args):
        raise AssertionError("read before checking the size")


def test_declared_size_is_refused_before_reading():
    with pytest.raises(UploadRejected) as refusal:
        clean_upload(UnreadableUpload(), **LIMITS)
    assert refusal.value.code == "too_big"


def test_django_uploaded_file_is_accepted():
    upload = SimpleUploadedFile("me.jpg", samples.portrait_jpeg(), content_type="image/jpeg")
    photo = clean_upload(upload, upload.name, **LIMITS)
    assert (photo.width, photo.height, photo.display_name) == (512, 512, "me.jpg")


@pytest.mark.parametrize("make", ACCEPTED, ids=lambda make: make.__name__)
def test_accepted_photo_is_8_bit_rgb_without_metadata(make):
    photo = clean(make())
    assert photo.image.mode == "RGB"
    assert photo.image.size == (photo.width, photo.height)
    reopened = Image.open(io.BytesIO(photo.jpeg))
    assert (reopened.format, reopened.mode, reopened.size) == ("JPEG", "RGB", photo.image.size)
    assert not set(reopened.info) & {"exif", "icc_profile", "xmp", "comment", "dpi"}
    assert dict(reopened.getexif()) == {}
    for marker in (b"Exif", b"ICC_PROFILE", b"xmpmeta", b"secret comment", b"Sample Camera"):
        assert marker not in photo.jpeg


def test_re_encoded_jpeg_looks_like_the_photo():
    photo = clean(samples.portrait_jpeg())
    assert mean_difference(Image.open(io.BytesIO(photo.jpeg)), photo.image) < 3


def test_exif_orientation_is_applied():
    photo = clean(samples.exif_rotated_jpeg())
    assert photo.image.size == (384, 512)
    assert mean_difference(photo.image, samples.upright_portrait()) < 6
    (face,) = analyze_faces(photo.image)["faces"]
    assert abs(face["pose"]["roll"]) < 10


@pytest.mark.parametrize(
    "make, tolerance",
    [
        (samples.portrait_jpeg, 3),
        (samples.srgb_profiled_jpeg, 3),
        (samples.cmyk_jpeg, 8),
        (samples.rgb16_png, 1),
        (samples.webp, 4),
        (samples.animated_webp, 1),  # its first frame; the second is black
        (samples.heic, 6),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_colour_photo_looks_like_the_original(make, tolerance):
    assert mean_difference(clean(make()).image, samples.astronaut()) < tolerance


def test_16_bit_grey_png_keeps_its_brightness():
    photo = clean(samples.grey16_png())
    grey = samples.astronaut().convert("L")
    assert abs(pixels(photo.image).mean() - pixels(grey).mean()) < 2
    assert mean_difference(photo.image.convert("L"), grey) < 2


def test_transparency_is_composited_on_white():
    image = clean(samples.rgba_png()).image
    left, right = pixels(image)[:, :256], pixels(image)[:, 256:]
    assert left.min() == 255
    assert np.abs(right - pixels(samples.astronaut())[:, 256:]).mean() < 1


def test_palette_transparency_is_composited_on_white():
    image = clean(samples.palette_png()).image
    palette = Image.open(io.BytesIO(samples.palette_png()))
    transparent = np.asarray(palette) == 0
    assert transparent.any()
    assert (pixels(image)[transparent] == 255).all()
    assert mean_difference(image, samples.astronaut()) < 12


@pytest.mark.parametrize(
    "name, shown",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\holiday photo.jpg", "holiday photo.jpg"),
        ("a\x00b\nc\u202e.jpg", "abc.jpg"),
        ("  me.png  ", "me.png"),
        ("x" * 300 + ".jpg", "x" * 100),
        ("", ""),
    ],
)
def test_display_name_is_a_clean_base_name(name, shown):
    assert clean(samples.portrait_jpeg(), name).display_name == shown


def test_thumbnail_is_a_small_webp_keeping_the_aspect_ratio():
    photo = clean(samples.two_faces_jpeg())
    thumbnail = Image.open(io.BytesIO(make_thumbnail(photo.image)))
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (320, 160))
    assert len(make_thumbnail(photo.image)) < 20_000
    assert Image.open(io.BytesIO(make_thumbnail(photo.image, max_side=100))).size == (100, 50)


def test_thumbnail_keeps_transparency():
    rgba = Image.open(io.BytesIO(samples.rgba_png()))
    thumbnail = Image.open(io.BytesIO(make_thumbnail(rgba)))
    assert thumbnail.mode == "RGBA"
    assert thumbnail.getpixel((10, 10))[3] == 0


def small_encodings():
    image = samples.astronaut().resize((64, 64))
    return [samples.encode(image, fmt) for fmt in ("JPEG", "PNG", "WEBP")]


def clean_or_refuse(data):
    try:
        assert isinstance(clean(data, min_side=1), CleanedPhoto)
    except UploadRejected:
        pass


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


MAGIC_PREFIXES = [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP", b"\0\0\0\x18ftypheic"]


@FUZZ
@given(st.sampled_from(MAGIC_PREFIXES), st.binary(max_size=2048))
def test_random_bytes_are_cleaned_or_refused(prefix, data):
    clean_or_refuse(prefix + data)


@FUZZ
@given(st.sampled_from(small_encodings()), st.data())
def test_mutated_photos_are_cleaned_or_refused(original, draw):
    data = bytearray(original)
    for _ in range(draw.draw(st.integers(1, 8))):
        position = draw.draw(st.integers(0, len(data) - 1))
        data[position] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(16, len(data)))
    clean_or_refuse(bytes(data[:cut]))
