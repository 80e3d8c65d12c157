"""Compatible queued generations are made in one batched call by the worker (in-process RQ worker, real Redis)."""

import io

import numpy as np
import pytest
from PIL import Image

from gallery.generations import service
from gallery.generations.batching import claim, claim_companions
from gallery.generations.queue import get_queue
from gallery.generations.reconcile import JobsInHand
from gallery.models import Generation
from transform.params import GenerationParams

from .factories import make_uploaded_photo
from .worker_helpers import work

pytestmark = pytest.mark.django_db(transaction=True)


def queue(photo, breeds, **params):
    params = GenerationParams.from_dict({"width": 256, "height": 256, "steps": 2, "seed": 7, **params})
    return [service.make_dogs(photo.owner, photo, 0, breed, params).generations[0] for breed in breeds]


def image(generation):
    with generation.result.open("rb") as handle:
        return np.asarray(Image.open(io.BytesIO(handle.read())).convert("RGB")).astype(int)


def test_a_lineup_is_made_in_one_batch_with_the_images_each_makes_alone(worker_engine):
    photo = make_uploaded_photo()
    lineup = queue(photo, ["pug", "golden-retriever", "shiba-inu"])
    work()
    for generation in lineup:
        generation.refresh_from_db()
        assert generation.status == "succeeded", generation.traceback
        assert generation.timings["batch_size"] == 3 and generation.step == generation.steps == 2
        params = GenerationParams.from_dict(generation.params)
        with photo.image.open("rb") as handle:
            alone = worker_engine.generate(Image.open(handle).convert("RGB"), photo.faces[0], params, generation.breed)
        assert np.abs(image(generation) - np.asarray(alone.image)).max() <= 1


def test_only_generations_with_the_same_batch_parameters_share_a_batch(worker_engine):
    photo = make_uploaded_photo()
    first, other_size, second = (
        *queue(photo, ["pug"]),
        *queue(photo, ["pug"], width=320),
        *queue(photo, ["beagle"]),
    )
    work()
    sizes = {g.pk: g.timings["batch_size"] for g in Generation.objects.all()}
    assert sizes == {first.pk: 2, second.pk: 2, other_size.pk: 1}
    assert set(Generation.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_generation_that_fails_in_a_batch_fails_alone(worker_engine):
    photo = make_uploaded_photo()
    good, broken = queue(photo, ["pug", "beagle"])
    # A breed the catalogue no longer has: the engine refuses it inside the batch's call.
    Generation.objects.filter(pk=broken.pk).update(breed="no-such-breed")
    work()
    good.refresh_from_db(), broken.refresh_from_db()
    assert (good.status, broken.status) == ("succeeded", "failed")
    assert good.timings["batch_size"] == broken.timings["batch_size"] == 2
    assert "KeyError: 'no-such-breed'" in broken.traceback


def test_claimed_companions_leave_the_queue_and_cannot_be_claimed_twice(worker_engine):
    first, second, third = queue(make_uploaded_photo(), ["pug", "beagle", "pug"])
    key = GenerationParams.from_dict(first.params).batch_key()
    in_hand = JobsInHand(get_queue().connection, "test:1")
    (claimed,) = claim_companions(first, key, 1, in_hand)
    assert claimed.pk == second.pk and claimed.status == "running"
    assert get_queue().job_ids == [first.job_id, third.job_id]
    assert not claim(claimed)
