"""Time to the first picture of the demo README offers without weights (the tiny random-weight pipeline):
a worker started as `bin/run` starts it (`manage.py rqworker gpu`, PyTorch's own thread count unless
--threads says otherwise), then a dog asked for as the photo page's top-five buttons ask (the breed
alone: the page's defaults), until its picture is saved. Beside it, the same dog at the recipe's 512 px,
the size every dog got by default before the worker announced its pipeline's own size.

Run from the repository root: python -m bench.first_picture [--runs 3] [--threads 0,1]
"""

import argparse
import os
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request

# The bench set-up (environment, django.setup(), migrations) must run before any app import.
from bench import setup  # noqa: F401
from bench.load import signed_in_opener
from bench.setup import WORK, WORKER_ENV

# isort: split

from django.conf import settings  # noqa: E402

from gallery.generations import readiness  # noqa: E402
from gallery.models import Generation  # noqa: E402
from tests.factories import make_uploaded_photo  # noqa: E402
from tests.processes import gunicorn, start_worker, stop, wait_until  # noqa: E402

SIZES = {"page defaults (256 px, 20 steps)": {}, "recipe's 512 px, 20 steps (the old default)": {"width": 512, "height": 512}}


def ask_for_a_dog(url, opener, token, photo, extra):
    """POST what the top-five button posts; returns seconds until the dog is saved."""
    data = urllib.parse.urlencode({"face": 0, "breed": "pug", **extra}).encode()
    request = urllib.request.Request(
        f"{url}/photos/{photo.pk}/generate/", data=data, method="POST", headers={"X-CSRFToken": token, "Referer": url + "/"}
    )
    began = time.perf_counter()
    try:
        opener.open(request, timeout=30).read()
    except urllib.error.HTTPError as redirect:  # 302 to the dog's page: the bench's opener does not follow
        assert redirect.code == 302, redirect.code
    generation = Generation.objects.filter(photo=photo).order_by("-created_at").first()
    wait_until(lambda: Generation.objects.get(pk=generation.pk).status == "succeeded", timeout=900, what="the dog", interval=0.05)
    return time.perf_counter() - began, Generation.objects.get(pk=generation.pk)


def measure(threads, runs):
    photo = make_uploaded_photo(f"first-picture-{threads}")
    env = {**WORKER_ENV, **({"FTA_TORCH_THREADS": threads} if threads else {})}
    started = time.perf_counter()
    worker = start_worker(WORK / f"first-picture-worker-{threads}.log", **env)
    try:
        wait_until(lambda: readiness.fleet().defaults, timeout=600, what="the pipeline being ready")
        ready = time.perf_counter() - started
        with gunicorn(WORK / f"first-picture-gunicorn-{threads}.log", **env) as url:
            opener, jar = signed_in_opener(photo.owner)
            opener.open(f"{url}/photos/{photo.pk}/").read()  # the page a person is on; sets the CSRF cookie
            token = next(c.value for c in jar if c.name == settings.CSRF_COOKIE_NAME)
            rows = {}
            for label, extra in SIZES.items():
                seconds, inference, size = [], [], None
                for _ in range(runs):
                    elapsed, dog = ask_for_a_dog(url, opener, token, photo, extra)
                    seconds.append(elapsed)
                    inference.append(dog.timings["inference"])
                    size = f"{dog.params['width']} px"
                rows[label] = (size, statistics.median(seconds), statistics.median(inference), min(seconds), max(seconds))
    finally:
        stop(worker)
    return ready, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", default="0,1", help="FTA_TORCH_THREADS values; 0 is PyTorch's default, as bin/run")
    args = parser.parse_args()
    load_before = os.getloadavg()
    print(f"{os.cpu_count()} cores; load average before: {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}")
    print(
        "| FTA_TORCH_THREADS | worker start → pipeline ready | dog asked with | size | ask → saved, median (min–max) | inference, median |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for threads in (int(value) for value in args.threads.split(",")):
        ready, rows = measure(threads, args.runs)
        for label, (size, median, inference, low, high) in rows.items():
            name = threads or "0 (PyTorch's default, as bin/run)"
            print(f"| {name} | {ready:.1f} s | {label} | {size} | {median:.1f} s ({low:.1f}–{high:.1f}) | {inference:.1f} s |")
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}")


if __name__ == "__main__":
    main()
