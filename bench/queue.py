"""Queue latency, throughput and per-job overhead with one and two workers on the tiny pipeline.

Run from the repository root: python -m bench.queue [--jobs 8] [--steps 2] [--size 256]
Uses Redis database 14 on 127.0.0.1 unless BENCH_REDIS_URL is set; flushes that database.
"""

import argparse
import os
import statistics
import time

# The bench set-up (environment, django.setup(), migrations) must run before any app import.
from bench import setup  # noqa: F401
from bench.setup import WORK, WORKER_ENV, percentile

# isort: split

from rq import Worker  # noqa: E402

from gallery.generations import service  # noqa: E402
from gallery.generations.queue import get_queue  # noqa: E402
from gallery.models import Generation  # noqa: E402
from tests.factories import make_uploaded_photo  # noqa: E402
from tests.processes import start_worker, stop, wait_until  # noqa: E402
from transform.params import GenerationParams  # noqa: E402


def run(workers, jobs, params, photo):
    connection = get_queue().connection
    connection.flushdb()
    threads = max(1, (os.cpu_count() or 1) // workers)
    processes = [start_worker(WORK / f"queue-{workers}-{i}.log", FTA_TORCH_THREADS=threads, **WORKER_ENV) for i in range(workers)]
    try:
        # RQ registers a worker once it starts taking jobs, after the pipeline is preloaded.
        wait_until(lambda: Worker.count(connection=connection) == workers, timeout=300, what="workers ready")
        began = time.perf_counter()
        generations = service.make_dogs(photo.owner, photo, 0, "pug", params, count=jobs).generations
        ids = [g.pk for g in generations]
        done = Generation.objects.filter(pk__in=ids, status__in=Generation.FINAL_STATUSES)
        wait_until(lambda: done.count() == jobs, timeout=60 * jobs, what="jobs finishing", interval=0.05)
        elapsed = time.perf_counter() - began
    finally:
        for process in processes:
            stop(process)
    rows = list(Generation.objects.filter(pk__in=ids))
    assert all(row.status == "succeeded" for row in rows), [row.error for row in rows]
    waits = [row.timings["queue_wait"] * 1000 for row in rows]
    # Everything the job did besides the pipeline call: claiming the row, reading the photo, saving files.
    overhead = [((row.finished_at - row.started_at).total_seconds() - row.timings["inference"]) * 1000 for row in rows]
    first_waits = sorted(waits)[:workers]  # jobs that found an idle worker
    return {
        "workers": workers,
        "jobs": jobs,
        "start latency idle worker ms (median)": statistics.median(first_waits),
        "queue wait ms median / p95": f"{statistics.median(waits):.0f} / {percentile(waits, 95):.0f}",
        "throughput jobs/min": jobs / elapsed * 60,
        "inference s (median)": statistics.median(row.timings["inference"] for row in rows),
        "overhead ms median / p95": f"{statistics.median(overhead):.0f} / {percentile(overhead, 95):.0f}",
        "saving ms (median)": statistics.median(row.timings["saving"] * 1000 for row in rows),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    params = GenerationParams.from_dict({"steps": args.steps, "width": args.size, "height": args.size, "seed": 1})
    photo = make_uploaded_photo("bench")
    results = [run(workers, args.jobs, params, photo) for workers in (1, 2)]
    print(
        f"\nQueue on the tiny pipeline: {args.jobs} jobs of {args.steps} steps at {args.size}px, "
        f"{os.cpu_count()} cores shared by the workers (FTA_TORCH_THREADS = cores / workers)"
    )
    for key in results[0]:
        values = [r[key] for r in results]
        print(f"{key:<42}" + "".join(f"{v:>16.1f}" if isinstance(v, float) else f"{v!s:>16}" for v in values))


if __name__ == "__main__":
    main()
