"""What a dog is charged for: only what the dog itself can cause. Our own outages (a lost worker, the
database or storage away, a stop) send it back to the queue without spending its attempts, at most
FTA_MAX_REQUEUES times, counted in /metrics; a photo that no longer decodes is the dog's, and fails it."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from gallery.generations import lifecycle
from gallery.generations.reconcile import alive_key, reconcile
from gallery.models import Generation

from . import s3
from .factories import make_uploaded_photo, make_user
from .processes import free_port
from .worker_helpers import queue_generations, work

pytestmark = pytest.mark.django_db(transaction=True)
TOO_MANY_OUTAGES = "Our service was interrupted too many times while making this dog. That is ours to fix: please retry later."


def metrics(client):
    client.force_login(make_user("ops", is_staff=True))
    text = client.get(reverse("metrics")).content.decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_dog_our_outages_keep_losing_is_made_again_each_time_then_fails_with_a_sentence(
    photo, redis_connection, settings, client
):
    settings.FTA_WORKER_HEARTBEAT_TTL = 0  # Redis is not "just emptied" for these passes
    settings.FTA_MAX_REQUEUES = 3
    (generation,) = queue_generations(photo, 1, steps=2)
    for lost in range(1, 4):
        generation.refresh_from_db()
        assert lifecycle.claim(generation.pk, generation.job_id, "host:1")  # its worker then dies
        assert reconcile() == (1, 0)
        generation.refresh_from_db()
        assert (generation.status, generation.attempts, generation.requeues) == ("queued", 0, lost)
    assert lifecycle.claim(generation.pk, generation.job_id, "host:1")
    assert reconcile() == (0, 1)
    generation.refresh_from_db()
    assert (generation.status, generation.error) == ("failed", TOO_MANY_OUTAGES)
    values = metrics(client)
    assert values[("fta_requeues_total", frozenset({("cause", "worker_lost")}))] == 3
    assert values[("fta_generation_requeues", frozenset({("status", "failed")}))] == 3
    assert values[("fta_requeue_limit", frozenset())] == 3


def test_a_worker_alive_but_done_with_the_job_counts_a_database_requeue(photo, redis_connection, settings, client):
    settings.FTA_WORKER_HEARTBEAT_TTL = 0
    (generation,) = queue_generations(photo, 1, steps=2)
    assert lifecycle.claim(generation.pk, generation.job_id, "host:1")
    redis_connection.set(alive_key("host:1"), "another-job", ex=60)
    assert reconcile() == (1, 0)
    assert metrics(client)[("fta_requeues_total", frozenset({("cause", "database")}))] == 1


def test_retrying_a_failed_dog_gives_it_a_fresh_budget_of_requeues(photo, redis_connection):
    (generation,) = queue_generations(photo, 1, steps=2)
    Generation.objects.filter(pk=generation.pk).update(status="failed", attempts=1, requeues=5, error=TOO_MANY_OUTAGES)
    generation.refresh_from_db()
    assert lifecycle.retry(generation)
    generation.refresh_from_db()
    assert (generation.status, generation.attempts, generation.requeues, generation.error) == ("queued", 0, 0, "")


def test_a_photo_that_no_longer_decodes_fails_the_dog_with_a_sentence_instead_of_waiting(worker_engine, settings):
    settings.FTA_MAX_BATCH = 1
    photo = make_uploaded_photo()
    name = photo.image.name
    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(b"not a photo any more")) == name
    (generation,) = queue_generations(photo, 1, steps=2)
    work()
    generation.refresh_from_db()
    assert (generation.status, generation.requeues) == ("failed", 0)
    assert generation.error == "Your photo can no longer be read, so no dog can be made from it. Please upload it again."
    assert "UnidentifiedImageError" in generation.traceback


def test_a_storage_outage_sends_a_dog_back_without_spending_its_attempt_until_the_limit(worker_engine, settings, s3_bucket):
    settings.FTA_MAX_REQUEUES = 1
    photo = make_uploaded_photo()
    # The endpoint stops answering (nothing listens there any more).
    s3.use_bucket(settings, s3_bucket, f"http://127.0.0.1:{free_port()}")
    (generation,) = queue_generations(photo, 1, steps=2)
    work()
    generation.refresh_from_db()
    assert (generation.status, generation.attempts, generation.requeues) == ("queued", 0, 1)
    lifecycle.queue(generation)  # what the reconcile pass does for it
    work()
    generation.refresh_from_db()
    assert (generation.status, generation.requeues, generation.error) == ("failed", 1, TOO_MANY_OUTAGES)
    assert "EndpointConnectionError" in generation.traceback
