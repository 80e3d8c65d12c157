"""/healthz, /readyz and /metrics (the storage side of /readyz is in test_object_storage.py)."""

import pytest
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from gallery.generations.queue import get_queue

from .factories import make_generation, make_photo, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(make_user("ops", is_staff=True))
    return client


def samples(response):
    """{(name, frozenset(labels)): value} of a Prometheus text answer."""
    text = response.content.decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_answers_without_touching_the_database_or_redis(client, settings, django_assert_num_queries):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz"))
    assert (response.status_code, response.content) == (200, b"ok")


def test_readyz_is_ok_when_database_redis_and_storage_answer(client, redis_connection):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "failing": [], "checks": {"database": "ok", "redis": "ok", "storage": "ok"}}


def test_readyz_answers_503_naming_redis_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]


def test_metrics_are_refused_to_anonymous_visitors_from_other_addresses(client, settings):
    settings.FTA_METRICS_ALLOWED = ["10.0.0.0/8"]
    assert client.get(reverse("metrics")).status_code == 403


def test_metrics_are_refused_to_signed_in_users_who_are_not_staff(client):
    client.force_login(make_user())
    assert client.get(reverse("metrics")).status_code == 403


def test_metrics_answer_an_allowed_address_without_a_login(client, settings, redis_connection):
    settings.FTA_METRICS_ALLOWED = ["127.0.0.0/8"]
    response = client.get(reverse("metrics"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")


def test_metrics_show_queue_depth_live_workers_and_jobs_by_final_status(staff_client, redis_connection):
    photo = make_photo(make_user())
    for status in ("succeeded", "succeeded", "failed", "queued"):
        make_generation(photo, status=status)
    get_queue().enqueue("gallery.generations.jobs.run_generation", "x")
    redis_connection.set("fta:worker-alive:gpu1:42", 1)
    values = samples(staff_client.get(reverse("metrics")))
    assert values[("fta_queue_depth", frozenset())] == 1
    assert values[("fta_workers_live", frozenset())] == 1
    assert values[("fta_jobs_finished", frozenset({("status", "succeeded")}))] == 2
    assert values[("fta_jobs_finished", frozenset({("status", "failed")}))] == 1
    assert values[("fta_jobs_finished", frozenset({("status", "cancelled")}))] == 0


def test_metrics_histogram_counts_each_phase_of_finished_jobs(staff_client, redis_connection):
    photo = make_photo(make_user())
    for inference in (0.3, 4.0, 50.0):
        make_generation(photo, status="succeeded", timings={"queue_wait": 1.0, "inference": inference, "saving": 0.05})
    values = samples(staff_client.get(reverse("metrics")))
    bucket = "fta_job_duration_seconds_bucket"
    assert values[(bucket, frozenset({("phase", "inference"), ("le", "0.5")}))] == 1
    assert values[(bucket, frozenset({("phase", "inference"), ("le", "5.0")}))] == 2
    assert values[(bucket, frozenset({("phase", "inference"), ("le", "+Inf")}))] == 3
    assert values[("fta_job_duration_seconds_sum", frozenset({("phase", "inference")}))] == pytest.approx(54.3)
    assert values[(bucket, frozenset({("phase", "saving"), ("le", "0.1")}))] == 3


def test_metrics_count_upload_refusals_by_reason(staff_client, redis_connection):
    staff_client.post(reverse("gallery:upload"), {})
    staff_client.post(reverse("gallery:upload"), {})
    values = samples(staff_client.get(reverse("metrics")))
    assert values[("fta_upload_refusals_total", frozenset({("reason", "missing")}))] == 2


def test_metrics_still_answer_with_redis_down_and_say_so(staff_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    values = samples(staff_client.get(reverse("metrics")))
    assert values[("fta_redis_up", frozenset())] == 0
    assert ("fta_jobs_finished", frozenset({("status", "failed")})) in values
