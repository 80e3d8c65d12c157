"""A Redis that hangs (SIGSTOP: the kernel still accepts connections, nothing answers) while people ask for dogs."""

import time

import pytest
from django.urls import reverse

from gallery.generations.queue import REDIS_WAIT_SECONDS, get_queue
from gallery.generations.reconcile import ENQUEUE_GRACE, job_is_waiting, reconcile
from gallery.models import Generation

from .factories import make_photo, make_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_hung_redis_costs_a_request_for_four_dogs_one_short_wait_and_every_dog_is_still_queued(own_redis, client):
    photo = make_photo(make_user())
    client.force_login(photo.owner)
    own_redis.pause()
    try:
        began = time.monotonic()
        response = client.post(reverse("gallery:generate", args=[photo.pk]), {"face": 0, "breed": "pug", "count": 4}, follow=True)
        waited = time.monotonic() - began
    finally:
        own_redis.resume()
    # One wait for the four jobs together, and none more to ask whether the queue answers: the old two
    # waits of 5 s each cannot fit, while a loaded machine's slowness around one short wait can.
    assert waited < 4 * REDIS_WAIT_SECONDS
    assert response.status_code == 200
    assert "The queue is busy right now: your dogs will start as soon as it is back." in response.content.decode()
    generations = list(Generation.objects.all())
    assert [g.status for g in generations] == ["queued"] * 4
    # Nothing is lost: once Redis answers, every dog has its job on the queue (the reconcile pass pushes
    # any that the hang swallowed), so a worker makes it.
    Generation.objects.update(created_at=generations[0].created_at - ENQUEUE_GRACE * 2)
    reconcile()
    connection = get_queue().connection
    for generation in Generation.objects.all():
        assert job_is_waiting(connection, generation.job_id), generation.pk
