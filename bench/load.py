"""Load test: signed-in users browse galleries and poll status while others upload and generate,
against gunicorn (2 processes) and one worker on the tiny pipeline, for a fixed time; with
--storage local,s3 once on local disk and once on S3 (a moto server on this machine).

Run from the repository root: python -m bench.load [--users 20] [--uploaders 4] [--seconds 60] [--storage local,s3]
Traffic goes to 127.0.0.1 only, and every loop stops at the deadline.
"""

import argparse
import contextlib
import http.cookiejar
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict

# The bench set-up (environment, django.setup(), migrations) must run before any app import.
from bench import setup  # noqa: F401
from bench.setup import WORK, WORKER_ENV, percentile

# isort: split

from django.conf import settings  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from gallery.generations import service  # noqa: E402
from gallery.generations.queue import get_queue  # noqa: E402
from gallery.models import Generation  # noqa: E402
from tests import s3, sample_images  # noqa: E402
from tests.factories import make_uploaded_photo, signed_in_session_key, stored_names  # noqa: E402
from tests.processes import free_port, gunicorn, start_worker, stop, wait_until  # noqa: E402
from transform.params import GenerationParams  # noqa: E402

# What the pages do: progress.js polls once a second; people pause between uploads.
POLL_INTERVAL = 1.0
POLLS_PER_PAGE = 5
UPLOAD_THINK_TIME = 2.0
WARM_UP_SECONDS = 5
measure_from = 0.0
latencies = defaultdict(list)
errors = defaultdict(int)
lock = threading.Lock()


def signed_in_opener(user):
    session_key = signed_in_session_key(user)
    jar = http.cookiejar.CookieJar()
    jar.set_cookie(
        http.cookiejar.Cookie(
            0,
            settings.SESSION_COOKIE_NAME,
            session_key,
            None,
            False,
            "127.0.0.1",
            False,
            False,
            "/",
            True,
            False,
            None,
            False,
            None,
            None,
            {},
        )
    )
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    return opener, jar


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def timed(kind, opener, request):
    start = time.perf_counter()
    try:
        with opener.open(request, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 599
    elapsed = (time.perf_counter() - start) * 1000
    if time.monotonic() < measure_from:
        return status  # warm-up: the first requests of each gunicorn process load code and templates
    with lock:
        latencies[kind].append(elapsed)
        if status >= 500:
            errors[kind] += 1
    return status


def browser(url, photo, generation_ids, deadline):
    """Opens the gallery and a photo's thumbnail (read from storage), then watches a generation page,
    which polls its status once a second."""
    opener, _ = signed_in_opener(photo.owner)
    time.sleep(random.uniform(0, POLL_INTERVAL))  # people don't all arrive in the same millisecond
    while time.monotonic() < deadline:
        timed("gallery", opener, url + "/gallery/")
        timed("image", opener, f"{url}/photos/{photo.pk}/thumb.webp")
        for pk in generation_ids:
            for _ in range(POLLS_PER_PAGE):
                if time.monotonic() >= deadline:
                    return
                timed("status", opener, f"{url}/generations/{pk}/status.json")
                time.sleep(POLL_INTERVAL)


def uploader(url, user, deadline, uploaded):
    opener, jar = signed_in_opener(user)
    opener.open(url + "/photos/new/").read()  # sets the CSRF cookie
    token = next(c.value for c in jar if c.name == settings.CSRF_COOKIE_NAME)
    photo = sample_images.portrait_jpeg()
    while time.monotonic() < deadline:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="me.jpg"\r\n'
                f"Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + photo
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            url + "/photos/new/",
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRFToken": token, "Referer": url + "/"},
        )
        if timed("upload", opener, request) == 302:
            uploaded.append(1)
        time.sleep(UPLOAD_THINK_TIME)


def storage_run(storage):
    """Settings and subprocess environment for one storage: local disk, or a bucket on a moto server
    started here (S3 over HTTP on this machine: the round trips, not a network's distance)."""
    if storage == "local":
        return contextlib.nullcontext(), {}, None
    port = free_port()
    moto = s3.start_moto(port, WORK / "load-moto.log")
    endpoint = f"http://127.0.0.1:{port}"
    wait_until(lambda: urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).status == 200, timeout=60, what="moto")
    bucket = s3.new_bucket(endpoint)
    return override_settings(**s3.s3_settings(bucket, endpoint)), s3.s3_env(bucket, endpoint), moto


def run(storage, args):
    """One timed run on one storage; returns its table rows and summary."""
    latencies.clear()
    errors.clear()
    in_process, env, moto = storage_run(storage)
    try:
        with in_process:
            return measure(storage, args, env)
    finally:
        if moto:
            stop(moto)


def measure(storage, args, env):
    get_queue().connection.flushdb()
    params = GenerationParams.from_dict({"steps": 2, "width": 256, "height": 256})
    people = []
    for i in range(args.users):
        photo = make_uploaded_photo(f"{storage}-user{i}")
        queued = service.make_dogs(photo.owner, photo, 0, "pug", params, count=3).generations if i >= args.uploaders else []
        people.append((photo, [g.pk for g in queued]))
    worker = start_worker(WORK / f"load-worker-{storage}.log", FTA_TORCH_THREADS=1, **WORKER_ENV, **env)
    uploaded = []
    try:
        wait_until(lambda: get_queue().connection.keys("fta:worker-alive:*"), timeout=300, what="the worker")
        with gunicorn(WORK / f"load-gunicorn-{storage}.log", workers=2, **WORKER_ENV, **env) as url:
            global measure_from
            measure_from = time.monotonic() + WARM_UP_SECONDS
            deadline = measure_from + args.seconds
            threads = [
                threading.Thread(target=uploader, args=(url, photo.owner, deadline, uploaded))
                for photo, _ in people[: args.uploaders]
            ]
            threads += [
                threading.Thread(target=browser, args=(url, photo, ids, deadline)) for photo, ids in people[args.uploaders :]
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        all_ids = [pk for _, ids in people for pk in ids]
        done = Generation.objects.filter(pk__in=all_ids, status__in=Generation.FINAL_STATUSES)
        wait_until(lambda: done.count() == len(all_ids), timeout=600, what="the queued generations finishing")
    finally:
        stop(worker)

    rows = Generation.objects.filter(pk__in=all_ids)
    table = []
    for kind in ("gallery", "image", "status", "upload"):
        values = latencies[kind]
        if values:
            table.append(
                (storage, kind, len(values), errors[kind], statistics.median(values), percentile(values, 95), max(values))
            )
    finished = rows.filter(status="succeeded")
    saving = [g.timings["saving"] * 1000 for g in finished]
    overhead = [
        ((g.finished_at - g.started_at).total_seconds() - g.timings["inference"] - g.timings.get("model_load", 0)) * 1000
        for g in finished
    ]
    dogs = sum(1 for name in stored_names() if name.startswith("dogs/") and name.endswith(".png"))
    summary = (
        f"{storage}: uploads stored {len(uploaded)}; generations {rows.count()} queued, {finished.count()} succeeded, "
        f"{dogs} result files; per job: saving p50 {statistics.median(saving):.1f} ms / p95 {percentile(saving, 95):.1f} ms, "
        f"overhead beyond inference p50 {statistics.median(overhead):.1f} ms / p95 {percentile(overhead, 95):.1f} ms"
    )
    return table, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20, help="concurrent users in all")
    parser.add_argument("--uploaders", type=int, default=4, help="how many of them upload")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--storage", default="local", help="comma-separated: local, s3 (one run each, in turn)")
    args = parser.parse_args()

    results = [run(storage, args) for storage in args.storage.split(",")]
    print(
        f"\nLoad: {args.users} users ({args.uploaders} uploading) for {args.seconds} s after a {WARM_UP_SECONDS} s warm-up, "
        "gunicorn 2 processes x 4 threads, one worker, all on this machine"
    )
    print(f"{'storage':<8}{'endpoint':<10}{'requests':>10}{'5xx':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for table, _ in results:
        for storage, kind, count, failed, p50, p95, worst in table:
            print(f"{storage:<8}{kind:<10}{count:>10}{failed:>6}{p50:>10.1f}{p95:>10.1f}{worst:>10.1f}")
    for _, summary in results:
        print(summary)


if __name__ == "__main__":
    main()
