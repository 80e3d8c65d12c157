import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.face_helpers import astronaut, landmark_json
from transform.head_crop import (
    InvalidFace,
    crop,
    face_crop_box,
    face_landmarks,
)


@pytest.fixture(scope="module")
def astronaut_face():
    return landmark_json(astronaut())["faces"][0]


def test_control_image_equals_controlnet_aux_annotator_pixel_for_pixel(astronaut_face):
    from controlnet_aux import MediapipeFaceDetector

    from transform.control import draw_face_mesh

    # Same landmarks as the annotator computes (FaceMesh on the whole 512x512 image), so no tolerance.
    theirs = np.asarray(MediapipeFaceDetector()(astronaut(), detect_resolution=512, image_resolution=512))
    ours = np.asarray(draw_face_mesh(face_landmarks(astronaut_face), (512, 512)))
    assert theirs.any()
    assert np.array_equal(ours, theirs)


def test_crop_box_is_square_around_the_face_and_inside_the_image(astronaut_face):
    x0, y0, x1, y1 = face_crop_box(astronaut_face, (512, 512))
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert 0 <= x0 and 0 <= y0 and x1 <= 512 and y1 <= 512
    face_x0, face_y0, face_x1, face_y1 = astronaut_face["box"]
    assert x0 < face_x0 and y0 < face_y0 and face_x1 < x1 and face_y1 < y1


def test_box_larger_than_the_image_is_centred_and_padded(astronaut_face):
    x0, y0, x1, y1 = face_crop_box(astronaut_face, (512, 512), scale=5)
    assert x0 < 0 and y0 < 0 and x0 + x1 == pytest.approx(512) and y0 + y1 == pytest.approx(512)
    framed = crop(astronaut(), (x0, y0, x1, y1), (64, 64))
    assert framed.size == (64, 64) and framed.getpixel((0, 0)) == (0, 0, 0)


def test_wide_output_gets_a_wide_box(astronaut_face):
    x0, y0, x1, y1 = face_crop_box(astronaut_face, (512, 512), aspect=1.5)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(1.5)


def share_within(pixels, others, radius):
    """The share of the mesh pixels `pixels` that have a pixel of `others` within `radius` pixels."""
    grown = Image.fromarray(others.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * radius + 1))
    return (pixels & (np.asarray(grown) > 0)).sum() / pixels.sum()


@pytest.mark.parametrize("size", [512, 256])
def test_framed_control_image_matches_the_annotator_on_the_framed_photo(size):
    """The app's own path: its landmarks (detector + FaceMesh on a crop), moved into the head crop and
    resized, drawn where the annotator draws the mesh it finds on that cropped, resized photo."""
    from controlnet_aux import MediapipeFaceDetector

    from transform.control import control_image
    from transform.faces import analyze_faces

    photo = astronaut()
    (face,) = analyze_faces(photo)["faces"]
    box = face_crop_box(face, photo.size)
    framed_photo = crop(photo, box, (size, size))
    annotator = MediapipeFaceDetector()(framed_photo, detect_resolution=size, image_resolution=size)
    theirs = np.asarray(annotator).any(axis=2)
    ours = np.asarray(control_image(face, photo.size, box, (size, size))).any(axis=2)
    assert theirs.sum() > size * 5
    # Two FaceMesh runs on different crops agree to a pixel or two; a crop 20 px off scores about 0.2.
    assert share_within(theirs, ours, radius=2) > 0.97
    assert share_within(ours, theirs, radius=2) > 0.97


@pytest.mark.parametrize(
    "face",
    [
        {},
        {"landmarks": []},
        {"landmarks": [[0.5, 0.5, 0]] * 10},
        {"landmarks": [[0.5, 0.5, 0]] * 478},
        {"landmarks": [["x", 0, 0]] * 478},
        {"landmarks": [[float("nan"), 0, 0]] * 478},
    ],
)
def test_unusable_faces_are_refused(face):
    with pytest.raises(InvalidFace):
        face_crop_box(face, (512, 512))


def test_crop_keeps_the_photo_pixels(astronaut_face):
    photo = astronaut()
    framed = crop(photo, (100, 50, 300, 250), (200, 200))
    assert np.abs(np.asarray(framed, dtype=int) - np.asarray(photo.crop((100, 50, 300, 250)), dtype=int)).max() <= 1
    assert isinstance(framed, Image.Image)
