"""The real worker through service faults: Redis restarted empty mid-job, the database connection
lost mid-job, a second stop mid-job. The faults are real where this machine can make them (a Redis of
the test's own, pg_terminate_backend) and injected at the lowest level otherwise (tests/faults.py).
A full disk, S3 hung or gone: tests/test_storage_faults.py; PostgreSQL restarted or hung: test_database_faults.py.
"""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection
from rq import Worker

from gallery.generations.queue import get_queue
from gallery.generations.reconcile import alive_key, job_is_waiting, reconcile
from gallery.models import Generation

from .processes import ROOT, stop, subprocess_env, wait_until
from .worker_helpers import FINAL, queue_generations, statuses, workers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
# The outage a worker must ride out, job in flight or not.
REDIS_OUTAGE_SECONDS = 60


def succeeded_in_logs(tmp_path):
    logs = "".join(p.read_text() for p in tmp_path.glob("worker*.log"))
    return re.findall(r"Generation (\S+) succeeded", logs)


def test_a_worker_rides_out_a_redis_restart_during_a_job_and_each_dog_is_made_once(photo, own_redis, worker_env, tmp_path):
    # One job in flight at a time (no batching), so the outage meets exactly one job mid-run.
    (worker,) = workers(tmp_path, 1, {**worker_env, "FTA_MAX_BATCH": 1})
    try:
        generations = queue_generations(photo, 3, steps=100)
        wait_until(lambda: Generation.objects.filter(status="running", step__gt=0).exists(), timeout=120, what="a job running")
        own_redis.stop()
        outage_began = time.monotonic()
        in_flight = Generation.objects.get(status="running")
        # The job finishes while Redis is away: RQ's bookkeeping after it fails, the worker must not.
        wait_until(
            lambda: Generation.objects.get(pk=in_flight.pk).status in FINAL, timeout=REDIS_OUTAGE_SECONDS, what="the job ending"
        )
        time.sleep(max(0, REDIS_OUTAGE_SECONDS - (time.monotonic() - outage_began)))
        assert worker.poll() is None, "the worker quit during the outage"
        own_redis.start()  # empty: the two waiting jobs are gone, and the reconcile pass queues them again
        wait_until(lambda: set(statuses(generations).values()) <= FINAL, timeout=180, what="every generation finishing")
        # An outage while idle, then a new job.
        own_redis.stop()
        time.sleep(10)
        own_redis.start()
        (after,) = queue_generations(photo, 1, steps=2)
        wait_until(lambda: Generation.objects.get(pk=after.pk).status in FINAL, timeout=120, what="a job after the outages")
        assert worker.poll() is None
        # Registered again in the emptied Redis, where /admin/rq/ looks for workers.
        assert len(Worker.all(connection=get_queue().connection)) == 1
    finally:
        stop(worker)
    rows = Generation.objects.filter(pk__in=[g.pk for g in [*generations, after]])
    assert list(rows.values_list("status", flat=True)) == ["succeeded"] * 4
    assert Generation.objects.get(pk=in_flight.pk).attempts == 1
    successes = succeeded_in_logs(tmp_path)
    assert sorted(successes) == sorted(str(g.pk) for g in rows)


def drop_database_connections(worker):
    """The worker's database connections die under it: a database restart, as far as it can tell."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    else:
        os.kill(worker.pid, signal.SIGUSR1)  # tests.faults.DatabaseDroppingWorker


def test_a_job_that_loses_its_database_connection_is_run_again_and_the_worker_goes_on(
    photo, redis_connection, worker_env, tmp_path
):
    # One job in flight at a time (no batching), so the dropped connection hits exactly one job.
    env = {**worker_env, "FTA_MAX_BATCH": 1}
    (worker,) = workers(tmp_path, 1, env, options=["--worker-class", "tests.faults.DatabaseDroppingWorker"])
    try:
        generations = queue_generations(photo, 2, steps=40)
        wait_until(lambda: Generation.objects.filter(status="running", step__gt=0).exists(), timeout=120, what="a job running")
        hit = Generation.objects.get(status="running")
        drop_database_connections(worker)
        wait_until(lambda: set(statuses(generations).values()) <= FINAL, timeout=180, what="every generation finishing")
        assert worker.poll() is None
    finally:
        stop(worker)
    for generation in Generation.objects.filter(pk__in=[g.pk for g in generations]):
        assert generation.status == "succeeded", (generation.error, generation.traceback)
        # The lost connection was ours: the run it cut short gave its attempt back.
        assert (generation.attempts, generation.requeues) == (1, 1 if generation.pk == hit.pk else 0)
    assert sorted(succeeded_in_logs(tmp_path)) == sorted(str(g.pk) for g in generations)


def test_the_reconcile_pass_re_queues_a_running_generation_whose_live_worker_has_moved_on(photo, redis_connection, settings):
    settings.FTA_WORKER_HEARTBEAT_TTL = 0  # Redis is not "just emptied" for this pass
    (generation,) = queue_generations(photo, 1, steps=2)
    Generation.objects.filter(pk=generation.pk).update(status="running", attempts=1, worker_name="host:1")
    redis_connection.set(alive_key("host:1"), "another-job", ex=60)
    lost_job_id = generation.job_id
    assert reconcile() == (1, 0)
    generation.refresh_from_db()
    assert (generation.status, generation.attempts, generation.requeues) == ("queued", 0, 1)
    assert generation.job_id != lost_job_id
    assert generation.job_id.encode() in redis_connection.lrange("rq:queue:gpu", 0, -1)


def test_a_second_stop_ends_the_worker_at_once_with_its_generation_back_in_the_queue(
    photo, redis_connection, worker_env, tmp_path
):
    # bin/run's worker as its Procfile starts it, with a shorter --stop-after: the second stop comes 1 s
    # after the first, and bin/supervise kills what still runs 1 s after that. The worker must be gone by then.
    command = [ROOT / "bin" / "supervise", "--stop-after", "1", sys.executable, "manage.py", "rqworker", "gpu"]
    log = open(tmp_path / "worker.log", "ab")
    supervised = subprocess.Popen(
        command, cwd=ROOT, env=subprocess_env(**worker_env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_until(lambda: redis_connection.keys("fta:worker-alive:*"), timeout=180, what="the worker starting")
        # Long enough on any machine to be still running 1 s after the stop.
        (generation,) = queue_generations(photo, 1, steps=100, size=512)
        wait_until(lambda: Generation.objects.get(pk=generation.pk).step > 0, timeout=120, what="the job running")
        supervised.send_signal(signal.SIGTERM)
        assert supervised.wait(10) == 0
    finally:
        stop(supervised)
    output = (tmp_path / "worker.log").read_text()
    assert "Stopped at once on a second SIGTERM" in output
    assert "killing it" not in output, "bin/supervise had to kill the worker"
    generation.refresh_from_db()
    # Back in the queue, the stop (ours) spending none of the dog's attempts.
    assert (generation.status, generation.step, generation.attempts, generation.requeues) == ("queued", 0, 0, 1)
    assert job_is_waiting(redis_connection, generation.job_id)
