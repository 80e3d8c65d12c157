"""What the GPU check's processes share: the pipeline it builds, the calls it times and how it times them."""

import dataclasses
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tests.full_size_pipeline import build_pipeline
from tests.tiny_pipeline import write_tiny_pipeline
from transform.params import GenerationParams
from transform.pipeline import LoadOptions, load_pipeline
from transform.renderer import RenderRequest

INPUTS = Path(__file__).parent / "gpu_inputs"
PROMPT = GenerationParams().prompt_for("golden retriever")


def make_pipeline(tiny, device):
    if tiny:
        # Written and read back: the tiny pipeline goes through the one loader, as the worker's does.
        with tempfile.TemporaryDirectory(prefix="fta-gpu-check-") as directory:
            sd_dir, controlnet_dir = write_tiny_pipeline(directory)
            pipeline = load_pipeline(sd_dir, controlnet_dir, "cpu", LoadOptions(channels_last=False, fuse_qkv=False))
    else:
        pipeline = build_pipeline(device, torch.float16)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def recipe_params(size, steps):
    return GenerationParams(width=size, height=size, steps=steps, seed=1)


def control_image():
    return Image.open(INPUTS / "control.png").convert("RGB")


def engine_call(renderer, params, control, batch=1):
    def call(batch=batch):
        requests = [RenderRequest(PROMPT, dataclasses.replace(params, seed=params.seed + i), control) for i in range(batch)]
        outcomes = renderer.render_batch(requests)
        failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if failures:
            raise failures[0]
        return outcomes

    return call


def measure(call, batch, runs, on_cuda, warm_up=None):
    """One row's figures: a warm-up call (unless `warm_up` says how long an earlier one took), then the median of
    `runs` timed calls, peak GPU memory over them and host-device syncs per image."""
    if warm_up is None:
        warm_up = timed(call, batch, on_cuda)
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    seconds = statistics.median(timed(call, batch, on_cuda) for _ in range(runs))
    return {
        "seconds": seconds,
        "warm_up": warm_up,
        "peak": peak_memory() if on_cuda else "-",
        "syncs": count_syncs(call, batch) if on_cuda else "-",
    }


def timed(call, batch, on_cuda):
    if on_cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    call(batch)
    if on_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - started


def peak_memory():
    """Allocated and reserved: after a CUDA graph's capture its memory stays reserved in the graph's pool, not
    allocated, so the allocated peak alone understates what a compiled row holds."""
    return f"{torch.cuda.max_memory_allocated() / 2**30:.2f} / {torch.cuda.max_memory_reserved() / 2**30:.2f} GiB"


def count_syncs(call, batch):
    """Host-device synchronisations in one call per image, as torch's sync debug mode reports them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            call(batch)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return f"{sum('synchroniz' in str(w.message) for w in caught) / batch:g}"


def pixel_difference(first, second):
    """(largest, mean) absolute difference of two images, in levels of 255."""
    difference = np.abs(np.asarray(first).astype(int) - np.asarray(second).astype(int))
    return int(difference.max()), float(difference.mean())
