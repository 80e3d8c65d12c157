"""The same face gets the same dog: every test photo's top breed survives ordinary re-uploads."""

from collections import Counter

import pytest

from tests.upload_variants import FACE_PHOTOS, analysed_upload, followed_face, upload_variants


@pytest.mark.parametrize("name", FACE_PHOTOS)
def test_top_breed_is_the_same_in_at_least_ten_of_eleven_re_uploads(name):
    make_photo, face = FACE_PHOTOS[name]
    tops = {}
    for variant, data in upload_variants(make_photo()).items():
        tops[variant] = followed_face(analysed_upload(data), variant, face)["suggested_breeds"][0]["slug"]
    print(f"\n{name}: {tops}")
    assert len(tops) == 11
    assert Counter(tops.values()).most_common(1)[0][1] >= 10
