"""Whether the workers can make dogs: each says in Redis, with every heartbeat, how its pipeline is.

A worker's entry in the `fta:pipelines` hash is "loading" (not loaded yet: at start-up, or on its first job
without FTA_PRELOAD_PIPELINE), "ready" (with the size its pipeline draws by default: 512 px for SD 1.5,
256 px for the tiny test pipeline) or "missing" (its weights could not be loaded: the reason). Each entry
carries its own expiry, so a worker that died drops out after FTA_WORKER_HEARTBEAT_TTL seconds.

The web refuses new dogs while every worker it hears from is "missing": no dog could be made, and each would
only fail. With no worker heard at all (all restarting, or Redis silent) dogs are queued as before and wait.
"""

import json
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext_noop as _
from redis.exceptions import RedisError

from .queue import get_queue

HASH_KEY = "fta:pipelines"
LOADING, READY, MISSING = "loading", "ready", "missing"
# Stored untranslated on a generation that failed for it, shown translated (the photo page says it too).
NO_WEIGHTS = _("The dog generator has no model weights yet, so no dog can be made right now.")
log = logging.getLogger(__name__)


def announce(connection, worker_name, state, detail="", defaults=None):
    """Say how this worker's pipeline is, until FTA_WORKER_HEARTBEAT_TTL from now; drop expired entries."""
    now = time.time()
    entry = {"state": state, "detail": detail, "defaults": defaults or {}, "until": now + settings.FTA_WORKER_HEARTBEAT_TTL}
    connection.hset(HASH_KEY, worker_name, json.dumps(entry))
    expired = [name for name, found in _entries(connection).items() if found["until"] < now]
    if expired:
        connection.hdel(HASH_KEY, *expired)


def withdraw(connection, worker_name):
    """A worker that stops says so at once, rather than counting until its entry expires."""
    connection.hdel(HASH_KEY, worker_name)


@dataclass(frozen=True)
class Fleet:
    """What the live workers say about their pipelines."""

    workers: dict = field(default_factory=dict)  # worker name: {"state", "detail", "defaults"}

    @property
    def without_weights(self):
        """Workers are running and none of them has weights: no new dog can be made."""
        return bool(self.workers) and all(entry["state"] == MISSING for entry in self.workers.values())

    @property
    def defaults(self):
        """The parameters a ready worker's pipeline draws best by default ({} when none is ready)."""
        ready = [entry["defaults"] for _name, entry in sorted(self.workers.items()) if entry["state"] == READY]
        return ready[0] if ready else {}


def fleet():
    """The live workers' entries; an empty Fleet when Redis does not answer (queueing then says it is busy)."""
    try:
        entries = _entries(get_queue().connection)
    except RedisError:
        return Fleet()
    now = time.time()
    return Fleet({name: entry for name, entry in entries.items() if entry["until"] >= now})


def _entries(connection):
    entries = {}
    for name, value in connection.hgetall(HASH_KEY).items():
        try:
            entry = json.loads(value)
            defaults = entry.get("defaults")
            entries[name.decode()] = {
                "state": str(entry["state"]),
                "detail": str(entry.get("detail", "")),
                "defaults": defaults if isinstance(defaults, dict) else {},
                "until": float(entry["until"]),
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("Ignoring an unreadable pipeline entry for %r", name)
    return entries
