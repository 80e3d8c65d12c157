"""A group generation run by the job on the tiny pipeline, in this process."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gallery.generations import service
from gallery.models import Generation, Photo
from transform.params import GenerationParams

from . import sample_images as samples
from .factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def group_photo():
    from transform.photo_analysis import analyze_photo
    from transform.uploads import clean_upload

    upload = SimpleUploadedFile("us.jpg", samples.encode(samples.two_sizes_photo(), "JPEG", quality=92))
    cleaned = clean_upload(upload, upload.name, max_bytes=10**8, max_pixels=10**8, min_side=64)
    return Photo.create_from_upload(make_user(), cleaned, analyze_photo(cleaned.image))


def test_the_job_makes_the_whole_photo_with_every_face_a_dog(tiny_engine, monkeypatch, group_photo):
    from gallery.generations import jobs
    from gallery.generations.job_steps import ENGINE

    monkeypatch.setattr(ENGINE, "engine", tiny_engine)
    choices = [{"index": 0, "breed": "pug", "coat": ""}, {"index": 1, "breed": "beagle", "coat": ""}]
    params = GenerationParams.from_dict({"width": 256, "height": 256, "steps": 2, "seed": 3})
    (generation,) = service.make_group(group_photo.owner, group_photo, choices, params).generations
    # Run as the job it was queued as, outside a worker (no RQ job around it).
    Generation.objects.filter(pk=generation.pk).update(job_id="")

    assert jobs.run_generation(generation.pk) == "succeeded"
    generation.refresh_from_db()
    with generation.result.open("rb") as handle:
        assert Image.open(handle).size == (group_photo.width, group_photo.height)
    assert (generation.face, generation.faces, generation.step, generation.steps) == (2, 2, 2, 2)
    assert '\\"breed\\":\\"beagle\\",\\"seed\\":4' in generation.infotext
    assert generation.thumbnail and generation.display and not generation.control_image and not generation.face_crop
