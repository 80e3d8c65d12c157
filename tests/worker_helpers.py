"""Helpers for the tests that run real workers: queue generations, start workers, read outcomes."""

from rq import SimpleWorker

from gallery.generations.queue import get_queue
from gallery.models import Generation
from transform.params import GenerationParams

from .processes import start_worker, wait_until

FINAL = {"succeeded", "failed", "cancelled"}


def queue_generations(photo, count, steps, size=256):
    params = GenerationParams.from_dict({"width": size, "height": size, "steps": steps, "seed": 7})
    return Generation.create_and_enqueue(photo, 0, "pug", params, count=count)


def statuses(generations):
    return dict(Generation.objects.filter(pk__in=[g.pk for g in generations]).values_list("pk", "status"))


def workers(tmp_path, count, env, options=()):
    processes = [start_worker(tmp_path / f"worker{i}.log", options, **env) for i in range(count)]
    connection = get_queue().connection
    wait_until(lambda: len(connection.keys("fta:worker-alive:*")) == count, timeout=180, what="workers starting")
    return processes


def work():
    """An RQ worker in this process, until the queue is empty (the engine: the worker_engine fixture)."""
    SimpleWorker([get_queue()], connection=get_queue().connection).work(burst=True)
