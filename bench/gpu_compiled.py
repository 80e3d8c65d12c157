"""The GPU check's compiled rows: each batch size compiles in a process of its own, held to a deadline.

bench.gpu starts one process per compiled row before its eager rows, so compiling (mostly CPU work, on the
cores the eager rows leave free) overlaps them, and kills a process's group at the --compile-budget deadline:
the budget is a real deadline, and a compile that fails or runs late ends only its own row. The timed calls
wait until the eager rows are done, so no timing overlaps another.

Between the two sides: the settings as JSON in argv[1]; on the child's stdout one JSON object per line,
{"compiled": {...}} (or {"failed": "..."}), then, once bench.gpu writes "go" on its stdin, {"row": {...}}
and, for the reference row, {"difference": [largest, mean]}: compiled images against eager ones.
The compile cache (torch.compiler.save_cache_artifacts) is saved beside --out and loaded on a rerun.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

from bench.gpu_measure import control_image, engine_call, make_pipeline, measure, pixel_difference, recipe_params, timed
from transform.pipeline import LoadOptions, compile_models, prepare_pipeline
from transform.renderer import Renderer

ROOT = Path(__file__).resolve().parent.parent
RESULTS_SECONDS = 180  # for the timed calls after "go": a few calls of an already compiled pipeline
STOP_SECONDS = 10  # for a process the watchdog stopped to be seen ending


class RowMissing(Exception):
    """Why a compiled row has no figures: what the table says in their place."""


class CompiledRow:
    """One compiled row's process, seen from bench.gpu. A watchdog stops it at the deadline unless it has compiled by
    then, whatever bench.gpu is doing at that moment."""

    def __init__(self, settings, deadline, cores=None, compile_threads=1):
        self.batch, self.reference, self.deadline = settings["batch"], settings["reference"], deadline
        self.budget, self.expired = settings["budget"], False
        env = {**os.environ, "TORCHINDUCTOR_COMPILE_THREADS": str(compile_threads), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.gpu_compiled", json.dumps(settings)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: stop() ends Inductor's compile workers too
        )
        if cores:
            try:
                os.sched_setaffinity(self.process.pid, cores)
            except ProcessLookupError:
                pass  # it has ended already: its end arrives as a message
        self._messages, self._compiled = queue.Queue(), threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        self._watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def wait_compiled(self):
        """{"seconds", "cache"} once compiled; RowMissing when it failed or the deadline came first."""
        message = self._next(self.deadline + STOP_SECONDS)
        if message is None or self.expired:
            self.stop()
            raise RowMissing(self._late())
        return message["compiled"]

    def finish(self):
        """(row figures, difference or None): the timed calls, which start now."""
        try:
            self.process.stdin.write("go\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # it has ended: its last message says how
        row = self._next(time.monotonic() + RESULTS_SECONDS)
        if row is None:
            raise RowMissing(f"no figures {RESULTS_SECONDS} s after compiling")
        try:
            difference = self._next(time.monotonic() + RESULTS_SECONDS) if self.reference else None
        except RowMissing:
            difference = None  # the row stands; the table says the difference was not measured
        self.stop()
        return row["row"], difference and difference["difference"]

    def stop(self):
        self._watchdog.cancel()
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def _expire(self):
        if not self._compiled.is_set():
            self.expired = True
            self.stop()

    def _next(self, until):
        try:
            message = self._messages.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            self.stop()
            return None
        if "failed" in message:
            self.stop()
            raise RowMissing(self._late() if self.expired else f"FAILED {message['failed']}")
        return message

    def _late(self):
        return f"stopped at the --compile-budget deadline ({self.budget:g} s), still compiling"

    def _read(self):
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "compiled" in message:
                self._compiled.set()
            self._messages.put(message)
        self._messages.put({"failed": f"the compile process ended (exit status {self.process.wait()})"})


def start(settings, batches, budget):
    """One CompiledRow per batch size, compiling from now on, each to be compiled within `budget` seconds. The first
    core is left to bench.gpu's own eager rows."""
    cores = sorted(os.sched_getaffinity(0))
    spare = set(cores[1:]) if len(cores) > 1 else None
    threads = max(1, len(spare or ()) // len(batches))
    deadline = time.monotonic() + budget
    rows = []
    for batch in batches:
        row_settings = {**settings, "batch": batch, "budget": budget, "reference": batch == batches[0]}
        if settings["cache"]:
            row_settings["cache"] = str(Path(settings["cache"]) / f"batch-{batch}.bin")
        rows.append(CompiledRow(row_settings, deadline, spare, threads))
    return rows


def run(settings, send):
    """The child: build, compile, report; then, on "go", the timed calls."""
    tiny, batch = settings["tiny"], settings["batch"]
    device = "cpu" if tiny else "cuda"
    on_cuda = device == "cuda"
    if settings["threads"]:
        torch.set_num_threads(settings["threads"])
    cache = Path(settings["cache"]) if settings["cache"] else None
    cache_note = load_cache(cache)
    pipeline = make_pipeline(tiny, device)
    # As the last eager row: channels-last and fused QKV projections.
    prepare_pipeline(pipeline, device, LoadOptions(precision="fp32" if tiny else "fp16", channels_last=True, fuse_qkv=True))
    renderer = Renderer(pipeline)
    call = engine_call(renderer, recipe_params(settings["size"], settings["steps"]), control_image(), batch)
    eager = call() if settings["reference"] else None
    compile_models(pipeline, cuda_graphs=settings["cuda_graphs"])
    seconds = timed(call, batch, on_cuda)
    save_cache(cache)
    send(compiled={"seconds": seconds, "cache": cache_note})
    if sys.stdin.readline().strip() != "go":
        return
    send(row=measure(call, batch, settings["runs"], on_cuda, warm_up=seconds))
    if eager is not None:
        send(difference=pixel_difference(call(), eager))


def load_cache(path):
    if path is None:
        return "not kept (no --out)"
    if not path.is_file():
        return f"none yet, saved to {path}"
    try:
        torch.compiler.load_cache_artifacts(path.read_bytes())
    except Exception as exc:  # noqa: BLE001  a stale or damaged cache only costs a full compile
        return f"{path} not loaded ({type(exc).__name__}: {exc}), compiled from scratch"
    return f"loaded from {path}"


def save_cache(path):
    artifacts = torch.compiler.save_cache_artifacts() if path else None
    if artifacts:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(artifacts[0])
        partial.replace(path)


def describe(exc):
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    # Dynamo's advice on its own logs says nothing about this failure.
    return f"{type(exc).__name__}: {text.split(' Set TORCHDYNAMO_VERBOSE')[0][:300]}"


def message_channel():
    """A writer for the messages on the real stdout; whatever else writes to stdout (libraries, compilers) now
    goes to stderr, so bench.gpu reads only messages."""
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)

    def send(**message):
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    return send


if __name__ == "__main__":
    send = message_channel()
    try:
        run(json.loads(sys.argv[1]), send)
    except Exception as exc:
        send(failed=describe(exc))
        raise
