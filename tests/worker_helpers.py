"""Helpers for the tests that run real workers: queue generations, start workers, read outcomes."""

from contextlib import contextmanager

from rq import SimpleWorker

from gallery.generations import readiness, service
from gallery.generations.queue import get_queue
from gallery.models import Generation
from transform.params import GenerationParams

from .processes import start_worker, stop, wait_until

FINAL = {"succeeded", "failed", "cancelled"}


def queue_generations(photo, count, steps, size=256):
    params = GenerationParams.from_dict({"width": size, "height": size, "steps": steps, "seed": 7})
    return service.make_dogs(photo.owner, photo, 0, "pug", params, count=count, workers=readiness.Fleet()).generations


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


@contextmanager
def one_dog_being_drawn(tmp_path, photo, env, steps=30):
    """A worker started with env, and one dog of the photo queued and past its first step (its photo
    read); yields the dog's row as a queryset. The worker is stopped afterwards."""
    (worker,) = workers(tmp_path, 1, env)
    try:
        (generation,) = queue_generations(photo, 1, steps=steps)
        row = Generation.objects.filter(pk=generation.pk)
        wait_until(lambda: row.get().step > 0, timeout=120, what="the dog being drawn")
        yield row
    finally:
        stop(worker)
