"""The real worker (`manage.py rqworker gpu`) on the tiny pipeline, against a real Redis.

These tests start worker subprocesses, so the database rows they share must be committed:
they use transactional database access rather than one rolled-back transaction.
"""

import io
import os
import re
import signal
import time
from types import SimpleNamespace

import pytest
from django.urls import reverse
from PIL import Image
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from gallery.generations import service
from gallery.generations.preview_store import load_preview
from gallery.generations.queue import QUEUE_NAME
from gallery.models import Generation

from .factories import stored_names
from .processes import stop, wait_until
from .worker_helpers import FINAL, queue_generations, statuses, workers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_makes_dogs_and_keeps_the_pipeline_between_jobs(photo, redis_connection, worker_env, tmp_path):
    (worker,) = workers(tmp_path, 1, worker_env)
    try:
        generations = queue_generations(photo, 2, steps=3)
        wait_until(lambda: set(statuses(generations).values()) <= FINAL, timeout=180, what="generations finishing")
    finally:
        stop(worker)
    for generation in generations:
        generation.refresh_from_db()
        assert generation.status == "succeeded", (generation.error, generation.traceback)
        assert (generation.step, generation.steps, generation.attempts) == (3, 3, 1)
        with generation.result.open("rb") as handle:
            assert handle.read(4) == b"\x89PNG"
        assert generation.thumbnail and generation.control_image and generation.face_crop
        with generation.display.open("rb") as handle:
            assert handle.read(12)[8:12] == b"WEBP"  # what the result page shows
        assert "Steps: 3" in generation.infotext and "Seed: " in generation.infotext
        assert {"queue_wait", "model_load", "inference", "saving"} <= set(generation.timings)
    # Preloaded at start, so neither job paid for loading the pipeline.
    assert [g.timings["model_load"] for g in generations] == [0, 0]


def test_cancel_and_timeout_stop_a_running_generation(photo, redis_connection, worker_env, tmp_path, settings):
    (worker,) = workers(tmp_path, 1, worker_env)
    try:
        (generation,) = queue_generations(photo, 1, steps=100)
        wait_until(lambda: Generation.objects.get(pk=generation.pk).step > 0, timeout=120, what="generation starting")
        # While it runs, the live preview (latents projected to RGB, no VAE) is there to show.
        wait_until(lambda: load_preview(generation.pk), timeout=10, what="a live preview")
        assert Image.open(io.BytesIO(load_preview(generation.pk))).format == "WEBP"
        service.cancel(generation)
        wait_until(lambda: Generation.objects.get(pk=generation.pk).status == "cancelled", timeout=30, what="cancel")
        # The worker is free again: the next generation runs.
        (after,) = queue_generations(photo, 1, steps=2)
        wait_until(lambda: Generation.objects.get(pk=after.pk).status == "succeeded", timeout=60, what="next job")
        # A generation that outlives its job timeout is stopped and fails with a sentence for its owner.
        settings.FTA_JOB_TIMEOUT = 2
        (slow,) = queue_generations(photo, 1, steps=100)
        wait_until(lambda: Generation.objects.get(pk=slow.pk).status == "failed", timeout=60, what="the timeout")
    finally:
        stop(worker)
    generation.refresh_from_db()
    assert 0 < generation.step < 100
    assert not generation.result
    slow.refresh_from_db()
    assert slow.error == "This dog took too long to make, so we stopped it. Retry, perhaps with fewer steps."
    assert "JobTimeoutException" in slow.traceback and not slow.result


def test_nothing_is_lost_when_a_worker_is_killed_and_redis_is_flushed(photo, redis_connection, worker_env, tmp_path, settings):
    processes = workers(tmp_path, 2, worker_env)
    try:
        generations = queue_generations(photo, 6, steps=40)
        wait_until(lambda: "running" in statuses(generations).values(), timeout=120, what="a generation running")
        victim_generation, victim_name = Generation.objects.filter(status="running").values_list("pk", "worker_name")[0]
        victim = next(p for p in processes if victim_name.endswith(f":{p.pid}"))
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        time.sleep(1)
        redis_connection.flushdb()  # Redis restarted empty: queued jobs and the registries are gone
        wait_until(lambda: set(statuses(generations).values()) <= FINAL, timeout=300, what="every generation finishing")
    finally:
        for process in processes:
            stop(process)
    rows = Generation.objects.filter(pk__in=[g.pk for g in generations])
    # None may fail: the killed worker's generation is lost once, so it runs again, and the queued ones
    # whose jobs the flush lost are queued again by the reconcile pass.
    for generation in rows:
        assert generation.status == "succeeded", (generation.status, generation.error, generation.traceback)
    lost = rows.get(pk=victim_generation)
    assert (lost.attempts, lost.requeues) == (1, 1), "run again, and the kill (ours) spent no attempt of the dog's"
    # Exactly once: each success was recorded by one worker, and one result file exists per success.
    logs = "".join(p.read_text() for p in tmp_path.glob("worker*.log"))
    successes = re.findall(r"Generation (\S+) succeeded", logs)
    assert len(successes) == len(set(successes)) == rows.filter(status="succeeded").count()
    dogs = [name for name in stored_names() if name.startswith("dogs/") and name.endswith(".png")]
    assert len(dogs) == rows.filter(status="succeeded").count()


def made_by_generations():
    return [name for name in stored_names() if not name.startswith("photos/")]


def delete_while_running(what, generation, client):
    client.force_login(generation.owner)
    if what == "generation":
        response = client.post(reverse("gallery:generation-delete", args=[generation.pk]))
    elif what == "photo":
        response = client.post(reverse("gallery:photo-delete", args=[generation.photo_id]))
    else:
        response = client.post(reverse("account-delete"), {"password": "dog-portrait-42"})
    assert response.status_code == 302


@pytest.mark.parametrize("what", ["generation", "photo", "account"])
def test_nothing_of_a_generation_deleted_mid_job_remains_once_the_worker_is_done(
    what, photo, redis_connection, worker_env, tmp_path, client
):
    (worker,) = workers(tmp_path, 1, worker_env)
    try:
        (generation,) = queue_generations(photo, 1, steps=60)
        wait_until(lambda: Generation.objects.get(pk=generation.pk).step > 0, timeout=120, what="generation starting")
        wait_until(lambda: load_preview(generation.pk), timeout=10, what="a live preview")
        delete_while_running(what, generation, client)
        job = Job.fetch(generation.job_id, connection=redis_connection)
        wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout=120, what="the job ending")
    finally:
        stop(worker)
    assert not Generation.objects.filter(pk=generation.pk).exists()
    assert load_preview(generation.pk) is None
    assert made_by_generations() == [], "the dog, control image and face crop of a deleted generation stay deleted"
    if what != "generation":
        assert stored_names() == []


def test_a_generation_deleted_as_it_is_saved_leaves_no_files(photo):
    """The worker's final write loses the race: what it wrote for the vanished row is deleted at once."""
    from gallery.generations import job_steps, lifecycle

    (generation,) = queue_generations(photo, 1, steps=2)
    assert lifecycle.claim(generation.pk, generation.job_id, "test")
    generation = Generation.objects.select_related("photo").get(pk=generation.pk)
    Generation.objects.filter(pk=generation.pk).delete()
    image = Image.new("RGB", (64, 64))
    result = SimpleNamespace(png=b"\x89PNG not really", image=image, control_image=image, face_crop=image, seed=7, infotext="")
    assert job_steps.save_result(generation, result, {}) == "lost"
    assert made_by_generations() == []


def test_a_failed_generation_is_a_failed_rq_job_with_its_traceback_and_a_readable_row(
    photo, redis_connection, worker_env, tmp_path
):
    # A model folder with nothing in it: loading fails on the first job.
    env = {**worker_env, "FTA_SD_MODEL": tmp_path / "missing", "FTA_PRELOAD_PIPELINE": 0}
    (worker,) = workers(tmp_path, 1, env)
    try:
        (generation,) = queue_generations(photo, 1, steps=2)
        job = Job.fetch(generation.job_id, connection=redis_connection)
        wait_until(lambda: job.get_status(refresh=True) == JobStatus.FAILED, timeout=120, what="the job failing")
    finally:
        stop(worker)
    assert job.id in FailedJobRegistry(QUEUE_NAME, connection=redis_connection).get_job_ids()
    assert "ModelNotAvailable" in job.latest_result().exc_string
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert generation.error == "The dog generator has no model weights yet, so no dog can be made right now."
    assert "ModelNotAvailable" in generation.traceback
