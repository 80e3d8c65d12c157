"""The database restarting, hanging or locked: every wait for it is bounded, and what the web answers
then is a 503 with one sentence and Retry-After (JSON where a script asks), never a 500 or a hung thread.

A PostgreSQL cluster of this module's own (tests.processes.PostgresServer) is restarted and hung with
SIGSTOP; the machine's shared server is never touched. The lock test runs on the suite's own database.
"""

import json
import subprocess
import sys
import threading
import time
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.urls import reverse

from gallery.models import Generation

from .factories import make_generation, make_photo, make_user
from .processes import ROOT, PostgresServer, gunicorn, start_worker, stop, subprocess_env, upload_in_two_halves, wait_until
from .sample_images import large_portrait_jpeg

pytestmark = pytest.mark.slow
UNAVAILABLE = "The database is briefly unavailable. Please try again in a few seconds."
# Short bounds, so the hangs below stay short: connecting 2 s, a query 2 s, a silent server 2 + 2 s.
BOUNDS = {"FTA_DB_TIMEOUT": 2, "FTA_DB_CONNECT_TIMEOUT": 2}
HUNG_REQUEST_BOUND = 2 + 2 + 2  # a silent server on the kept connection, then a connection that never opens

SIGNED_IN_OWNER_WITH_A_DOG = """
import django
django.setup()
from tests.factories import make_generation, make_photo, make_user, signed_in_session_key
photo = make_photo(make_user())
print(signed_in_session_key(photo.owner), make_generation(photo, status="succeeded").pk)
"""


@pytest.fixture(scope="module")
def own_postgres():
    """A migrated database on a cluster of this module's own, and the session key of a user with one dog."""
    server = PostgresServer()
    try:
        server.create()
        env = subprocess_env(DATABASE_URL=server.url)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
        made = subprocess.run(
            [sys.executable, "-c", SIGNED_IN_OWNER_WITH_A_DOG], cwd=ROOT, env=env, check=True, capture_output=True
        )
        server.session_key, server.generation_id = made.stdout.split()[-2:]
        yield server
    finally:
        server.remove()


def get(server, url, accept=None, timeout=30):
    """(status, headers, body) of a signed-in GET."""
    request = Request(url)
    request.add_header("Cookie", f"{django_settings.SESSION_COOKIE_NAME}={server.session_key.decode()}")
    if accept:
        request.add_header("Accept", accept)
    try:
        with urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except HTTPError as error:
        return error.code, error.headers, error.read().decode()


def test_while_the_database_restarts_pages_answer_503_with_a_sentence_and_status_json_answers_json(own_postgres, tmp_path):
    status_url = f"/generations/{own_postgres.generation_id.decode()}/status.json"
    with gunicorn(tmp_path / "web.log", workers=1, DATABASE_URL=own_postgres.url, **BOUNDS) as url:
        assert get(own_postgres, url + "/gallery/")[0] == 200
        own_postgres.stop()
        try:
            page = get(own_postgres, url + "/gallery/")
            status = get(own_postgres, url + status_url, accept="application/json")
        finally:
            own_postgres.start()
        again = get(own_postgres, url + "/gallery/")
    code, headers, body = page
    assert (code, headers["Retry-After"]) == (503, "5")
    assert UNAVAILABLE in body
    code, headers, body = status
    assert (code, headers["Content-Type"], headers["Retry-After"]) == (503, "application/json", "5")
    assert json.loads(body) == {"error": UNAVAILABLE}
    assert again[0] == 200


def test_a_hung_database_costs_a_request_one_bounded_wait_and_a_503(own_postgres, tmp_path):
    with gunicorn(tmp_path / "web.log", workers=1, DATABASE_URL=own_postgres.url, **BOUNDS) as url:
        assert get(own_postgres, url + "/gallery/")[0] == 200  # a connection kept open, as in production
        own_postgres.pause()
        try:
            began = time.monotonic()
            code, headers, body = get(own_postgres, url + "/gallery/", timeout=4 * HUNG_REQUEST_BOUND)
            waited = time.monotonic() - began
        finally:
            own_postgres.resume()
        again = get(own_postgres, url + "/gallery/")
    assert (code, headers["Retry-After"]) == (503, "5")
    assert UNAVAILABLE in body
    assert waited < 2 * HUNG_REQUEST_BOUND
    assert again[0] == 200


def test_a_database_that_stops_in_the_middle_of_a_large_upload_gets_a_503_and_leaves_nothing(own_postgres, tmp_path):
    media, temporary = tmp_path / "media", tmp_path / "tmp"
    media.mkdir(), temporary.mkdir()
    env = {**BOUNDS, "DATABASE_URL": own_postgres.url, "FTA_MEDIA_ROOT": media, "TMPDIR": temporary}
    with gunicorn(tmp_path / "web.log", workers=1, **env) as url:
        try:
            code, headers, body, _waited = upload_in_two_halves(
                url, own_postgres.session_key.decode(), large_portrait_jpeg(), between=own_postgres.stop
            )
        finally:
            own_postgres.start()
    assert (code, headers["Retry-After"]) == (503, "5")
    assert UNAVAILABLE in body
    with psycopg.connect(own_postgres.url) as database:
        assert database.execute("SELECT count(*) FROM gallery_photo").fetchone() == (1,), "only the photo made at the start"
    assert list(media.rglob("*.*")) == [] and list(temporary.iterdir()) == [], "no file of the upload is left"


def rows(server, pks):
    with psycopg.connect(server.url) as database:
        query = "SELECT id::text, status, step, attempts, requeues FROM gallery_generation WHERE id::text = ANY(%s)"
        return database.execute(query, [list(pks)]).fetchall()


QUEUE_TWO_DOGS = """
import django
django.setup()
from tests.factories import make_uploaded_photo
from tests.worker_helpers import queue_generations
for generation in queue_generations(make_uploaded_photo("ada"), 2, steps=60):
    print(generation.pk)
"""


def test_a_worker_rides_out_a_database_restart_and_a_hang_and_neither_costs_the_dog_an_attempt(
    own_postgres, redis_connection, worker_env, tmp_path
):
    env = {**worker_env, **BOUNDS, "DATABASE_URL": own_postgres.url, "FTA_MAX_BATCH": 1}
    worker = start_worker(tmp_path / "worker.log", **env)
    try:
        wait_until(lambda: redis_connection.keys("fta:worker-alive:*"), timeout=180, what="the worker starting")
        queued = subprocess.run(
            [sys.executable, "-c", QUEUE_TWO_DOGS], cwd=ROOT, env=subprocess_env(**env), check=True, capture_output=True
        )
        first, second = queued.stdout.decode().split()[-2:]

        def statuses(*pks):
            return {row[1] for row in rows(own_postgres, pks)}

        def running(pk):
            return [(status, step > 0) for _pk, status, step, *_ in rows(own_postgres, [pk])] == [("running", True)]

        wait_until(lambda: running(first), timeout=120, what="the first dog running")
        own_postgres.stop()  # a restart: the job's connection is gone
        own_postgres.start()
        wait_until(lambda: running(second), timeout=120, what="the second dog running")
        own_postgres.pause()
        time.sleep(3 * HUNG_REQUEST_BOUND)  # a hang well past every bound
        own_postgres.resume()
        wait_until(lambda: statuses(first, second) == {"succeeded"}, timeout=180, what="both dogs made")
        assert worker.poll() is None
    finally:
        stop(worker)
    outcomes = {pk: (attempts, requeues) for pk, _status, _step, attempts, requeues in rows(own_postgres, [first, second])}
    assert outcomes == {first: (1, 1), second: (1, 1)}, "each made again once, without spending the dog's attempt"


@pytest.mark.django_db(transaction=True)
def test_a_query_that_waits_for_a_lock_past_fta_db_timeout_answers_503(settings):
    photo = make_photo(make_user())
    generation = make_generation(photo, status="succeeded")
    client = Client(raise_request_exception=False)
    client.force_login(photo.owner)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        # Another connection writes to the table and keeps its transaction open past the bound.
        database = connections.create_connection("default")
        try:
            with database.cursor() as cursor:
                database.set_autocommit(False)
                if database.vendor == "postgresql":
                    cursor.execute("LOCK TABLE gallery_generation IN ACCESS EXCLUSIVE MODE")
                else:
                    cursor.execute("UPDATE gallery_generation SET starred = starred")
                locked.set()
                release.wait(3 * settings.FTA_DB_TIMEOUT)
                database.rollback()
        finally:
            database.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(10)
        response = client.post(
            reverse("gallery:generation-star", args=[generation.pk]), {"starred": "1"}, HTTP_ACCEPT="application/json"
        )
    finally:
        release.set()
        holder.join()
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json() == {"error": UNAVAILABLE}
    assert not Generation.objects.get(pk=generation.pk).starred
