"""The same face gets the same dog: every test photo's top breed survives ordinary re-uploads."""

import io
from collections import Counter

import pytest
from PIL import Image

from tests import sample_images as samples
from tests.upload_variants import analysed_upload, upload_variants

# Every face photo the tests and benches use (the astronaut in its crops and sizes, and Grace Hopper),
# with the face to follow when the photo has several.
FACE_PHOTOS = {
    "astronaut": (samples.astronaut, 0),
    "astronaut upright crop": (samples.upright_portrait, 0),
    "astronaut small in a large photo": (samples.small_face_photo, 0),
    "astronaut twice, right face": (lambda: Image.open(io.BytesIO(samples.two_faces_jpeg())).convert("RGB"), 1),
    "grace hopper": (samples.grace_hopper, 0),
}


@pytest.mark.parametrize("name", FACE_PHOTOS)
def test_top_breed_is_the_same_in_at_least_ten_of_eleven_re_uploads(name):
    make_photo, face = FACE_PHOTOS[name]
    tops = {}
    for variant, data in upload_variants(make_photo()).items():
        faces = analysed_upload(data)["faces"]
        # A mirror swaps left and right, so the face to follow is at the other end.
        faces = faces[::-1] if variant == "mirror" else faces
        tops[variant] = faces[face]["suggested_breeds"][0]["slug"]
    print(f"\n{name}: {tops}")
    assert len(tops) == 11
    assert Counter(tops.values()).most_common(1)[0][1] >= 10
