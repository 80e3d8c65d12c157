"""The real worker (`manage.py rqworker gpu`) on the tiny pipeline, against a real Redis.

These tests start worker subprocesses, so the database rows they share must be committed:
they use transactional database access rather than one rolled-back transaction.
"""

import io
import os
import re
import signal
import time

import pytest
from PIL import Image

from gallery.generations.preview_store import load_preview
from gallery.generations.queue import get_queue
from gallery.models import Generation
from transform.params import GenerationParams

from .factories import make_uploaded_photo, stored_names
from .processes import start_worker, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
FINAL = {"succeeded", "failed", "cancelled"}


@pytest.fixture
def photo():
    return make_uploaded_photo()


def queue_generations(photo, count, steps):
    params = GenerationParams.from_dict({"width": 256, "height": 256, "steps": steps, "seed": 7})
    return Generation.create_and_enqueue(photo, 0, "pug", params, count=count)


def statuses(generations):
    return dict(Generation.objects.filter(pk__in=[g.pk for g in generations]).values_list("pk", "status"))


def workers(tmp_path, count, env):
    processes = [start_worker(tmp_path / f"worker{i}.log", **env) for i in range(count)]
    connection = get_queue().connection
    wait_until(lambda: len(connection.keys("fta:worker-alive:*")) == count, timeout=180, what="workers starting")
    return processes


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
        generation.cancel()
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
        victim_name = Generation.objects.filter(status="running").values_list("worker_name", flat=True).first()
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
    for generation in rows:
        assert generation.status in {"succeeded", "failed"}, generation.status
        if generation.status == "failed":
            assert generation.error
    assert rows.filter(attempts__gte=2).exists(), "the killed worker's generation was run again"
    # Exactly once: each success was recorded by one worker, and one result file exists per success.
    logs = "".join(p.read_text() for p in tmp_path.glob("worker*.log"))
    successes = re.findall(r"Generation (\S+) succeeded", logs)
    assert len(successes) == len(set(successes)) == rows.filter(status="succeeded").count()
    dogs = [name for name in stored_names() if name.startswith("dogs/") and name.endswith(".png")]
    assert len(dogs) == rows.filter(status="succeeded").count()
