"""Status polling against the queue's length: p50 and p95 of status.json for 50 watchers, each polling
its own queued generation once a second (as static/js/progress.js does), through gunicorn (2 processes
x 4 threads, as the Procfile), with 10 and with 50,000 other generations queued ahead of theirs.

The watched generations are the last ones queued, the most rows ahead of them: where a place that is
counted row by row costs most. "alone" is the median of 200 requests one after the other, in this
process (Django's test client, no HTTP): the request's own cost, without the crowd's.

Run from the repository root: python -m bench.status [--watchers 50] [--seconds 30] [--queued 10,50000]
PostgreSQL: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/EMPTY_DATABASE python -m bench.status
"""

import argparse
import random
import statistics
import threading
import time
from datetime import timedelta

# The bench set-up (environment, django.setup(), migrations) must run before any app import.
from bench import setup  # noqa: F401
from bench.load import signed_in_opener
from bench.setup import WORK, percentile

# isort: split

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import load  # noqa: E402
from gallery.models import Generation  # noqa: E402
from tests.factories import make_photo, make_user  # noqa: E402
from tests.processes import gunicorn  # noqa: E402

WARM_UP_SECONDS = 5


def fill_queue(queued, photo):
    """`queued` generations waiting, enqueued a second apart, all before the watchers' own."""
    start = timezone.now() - timedelta(seconds=queued + 60)
    Generation.objects.filter(owner=photo.owner).delete()
    Generation.objects.bulk_create(
        (
            Generation(owner=photo.owner, photo=photo, breed="pug", steps=20, enqueued_at=start + timedelta(seconds=i))
            for i in range(queued)
        ),
        batch_size=2000,
    )


def watcher(url, generation, deadline):
    opener, _ = signed_in_opener(generation.owner)
    time.sleep(random.uniform(0, 1))  # watchers don't all arrive in the same millisecond
    while time.monotonic() < deadline:
        load.timed("status", opener, f"{url}/generations/{generation.pk}/status.json")
        time.sleep(1)


def measure(url, watched, seconds):
    load.latencies.clear()
    load.errors.clear()
    load.measure_from = time.monotonic() + WARM_UP_SECONDS
    deadline = load.measure_from + seconds
    threads = [threading.Thread(target=watcher, args=(url, generation, deadline)) for generation in watched]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    values = load.latencies["status"]
    return len(values), load.errors["status"], statistics.median(values), percentile(values, 95)


def alone(generation, requests=200):
    client = Client(HTTP_HOST="localhost")
    client.force_login(generation.owner)
    url = f"/generations/{generation.pk}/status.json"
    client.get(url)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30, help="measured, after a warm-up")
    parser.add_argument("--queued", default="10,50000", help="comma-separated: queued generations ahead, one run each")
    args = parser.parse_args()

    if Generation.objects.exists():
        raise SystemExit("bench.status needs an empty database (BENCH_DATABASE_URL)")
    crowd = make_photo(make_user("crowd"))
    watched = []
    for i in range(args.watchers):
        photo = make_photo(make_user(f"watcher{i}"))
        watched.append(Generation.objects.create(owner=photo.owner, photo=photo, breed="pug", steps=20))
    rows = []
    with gunicorn(WORK / "status-gunicorn.log", workers=2) as url:
        for queued in (int(n) for n in args.queued.split(",")):
            fill_queue(queued, crowd)
            now = timezone.now()  # the watchers' own come last, a millisecond apart
            for i, generation in enumerate(watched):
                Generation.objects.filter(pk=generation.pk).update(enqueued_at=now + timedelta(milliseconds=i))
            rows.append((queued + args.watchers, alone(watched[-1]), *measure(url, watched, args.seconds)))
    print(
        f"\nstatus.json: {args.watchers} watchers polling once a second for {args.seconds} s after a {WARM_UP_SECONDS} s "
        f"warm-up; gunicorn 2 processes x 4 threads; {connection.vendor}"
    )
    print(f"{'queued':>8}{'alone ms':>10}{'requests':>10}{'5xx':>6}{'p50 ms':>10}{'p95 ms':>10}")
    for queued, single, count, failed, p50, p95 in rows:
        print(f"{queued:>8}{single:>10.2f}{count:>10}{failed:>6}{p50:>10.1f}{p95:>10.1f}")


if __name__ == "__main__":
    main()
