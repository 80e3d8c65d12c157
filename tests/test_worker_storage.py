"""Workers on S3 storage: machines that share no disk, and an S3 endpoint that goes away mid-run.

Real processes (gunicorn, `manage.py rqworker gpu` on the tiny pipeline), a real Redis and moto's
standalone S3 server over HTTP; they share only the database, Redis and the bucket.
"""

import re
from urllib.request import Request, urlopen

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from gallery.generations import readiness, service
from gallery.models import Generation
from transform.params import GenerationParams

from . import s3
from .factories import make_uploaded_photo, make_user, signed_in_session_key
from .processes import gunicorn, start_worker, stop, wait_until
from .worker_helpers import one_dog_being_drawn

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
FINAL = {"succeeded", "failed", "cancelled"}


def own_disk(tmp_path, name):
    """An empty media root, temporary directory and var folder for one machine; the secret key comes
    from the environment, as in production (the test's own, so its session cookie holds)."""
    media, temp = tmp_path / name / "media", tmp_path / name / "tmp"
    media.mkdir(parents=True)
    temp.mkdir()
    env = {
        "FTA_MEDIA_ROOT": media,
        "TMPDIR": temp,
        "FTA_VAR_DIR": tmp_path / name / "var",
        "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
    }
    return env, (media, temp)


def queue_generations(photo, count, steps=2):
    params = GenerationParams.from_dict({"width": 256, "height": 256, "steps": steps, "seed": 3})
    return service.make_dogs(photo.owner, photo, 0, "pug", params, count=count, workers=readiness.Fleet()).generations


def rows(generations):
    return Generation.objects.filter(pk__in=[g.pk for g in generations])


def test_two_workers_sharing_no_disk_make_every_dog_exactly_once(redis_connection, worker_env, s3_bucket, settings, tmp_path):
    photo = make_uploaded_photo()
    shared = s3.s3_env(s3_bucket)
    machines = {name: own_disk(tmp_path, name) for name in ("web", "gpu1", "gpu2")}
    # One dog per RQ job (no batching), so RQ's job counters below count dogs.
    env = {**worker_env, **shared, "FTA_MAX_BATCH": 1}
    workers = [start_worker(tmp_path / f"{name}.log", **env, **machines[name][0]) for name in ("gpu1", "gpu2")]
    try:
        wait_until(lambda: len(redis_connection.keys("fta:worker-alive:*")) == 2, timeout=180, what="workers starting")
        generations = queue_generations(photo, 6)
        wait_until(lambda: set(rows(generations).values_list("status", flat=True)) <= FINAL, timeout=300, what="dogs")
        # No metrics port on a GPU machine either: RQ's own counters reach /metrics through Redis.
        metrics = Client()
        metrics.force_login(make_user("ops", is_staff=True))
        text = metrics.get(reverse("metrics")).content.decode()
    finally:
        for worker in workers:
            stop(worker)
    assert set(rows(generations).values_list("status", "attempts")) == {("succeeded", 1)}
    counted = re.findall(r'^fta_worker_jobs_successful_total\{worker="[^"]+"\} (\S+)$', text, re.MULTILINE)
    assert len(counted) == 2 and sum(float(n) for n in counted) == 6
    logs = "".join((tmp_path / f"{name}.log").read_text() for name in ("gpu1", "gpu2"))
    successes = re.findall(r"Generation (\S+) succeeded", logs)
    assert sorted(successes) == sorted({str(g.pk) for g in generations})
    dogs = [key for key in s3.keys(s3_bucket) if key.startswith("dogs/") and key.endswith(".png")]
    assert sorted(dogs) == sorted(rows(generations).values_list("result", flat=True))
    # The web, with a media root of its own, serves a dog that a worker stored.
    first = rows(generations).first()
    with gunicorn(tmp_path / "web.log", workers=1, **shared, **machines["web"][0]) as url:
        request = Request(url + reverse("gallery:generation-result", args=[first.pk]))
        request.add_header("Cookie", f"{django_settings.SESSION_COOKIE_NAME}={signed_in_session_key(photo.owner)}")
        served = urlopen(request, timeout=30).read()
    assert served == s3.client().get_object(Bucket=s3_bucket, Key=first.result.name)["Body"].read()
    for _env, (media, temp) in machines.values():
        assert list(media.iterdir()) == [] and list(temp.iterdir()) == [], "nothing was written to a local disk"


def test_a_dog_whose_s3_is_killed_mid_job_and_restarted_empty_waits_and_is_made_once_the_bucket_is_restored(
    redis_connection, worker_env, settings, tmp_path
):
    moto = s3.MotoServer(tmp_path / "moto.log")
    moto.start()
    bucket = s3.new_bucket(moto.endpoint)
    s3.use_bucket(settings, bucket, moto.endpoint)
    photo = make_uploaded_photo()
    backup = {
        key: s3.client(moto.endpoint).get_object(Bucket=bucket, Key=key)["Body"].read() for key in s3.keys(bucket, moto.endpoint)
    }
    env = {**worker_env, **s3.s3_env(bucket, moto.endpoint), "FTA_MAX_BATCH": 1, "FTA_MAX_REQUEUES": 100}
    try:
        with one_dog_being_drawn(tmp_path, photo, env) as row:
            moto.stop()  # killed mid-job: the dog's save finds nobody there
            wait_until(lambda: row.get().requeues >= 1, timeout=60, what="the save giving up")
            # Started again, empty: moto keeps its buckets in memory. The photo's key answers 404, as a
            # deleted file's would; the worker asks whether the bucket itself is gone, and waits.
            moto.start()
            tries = row.get().requeues
            wait_until(lambda: row.get().requeues > tries, timeout=60, what="a try on S3 without its bucket")
            assert row.get().status == "queued"
            s3.client(moto.endpoint).create_bucket(Bucket=bucket)  # restored from its backup
            for key, data in backup.items():
                s3.client(moto.endpoint).put_object(Bucket=bucket, Key=key, Body=data)
            wait_until(lambda: row.get().status in FINAL, timeout=120, what="the generation finishing")
    finally:
        moto.stop()
    generation = row.get()
    assert generation.status == "succeeded", (generation.error, generation.traceback)
    assert generation.attempts == 1, "the outages were ours: they spent none of the dog's attempts"
    assert "waits for the reconcile pass" in (tmp_path / "worker0.log").read_text()
