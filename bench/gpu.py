"""The GPU check: correctness on CUDA and speed against plain diffusers, in one run and one table.

    bench/gpu_check.sh [--tiny] [--out FILE]        (or: python -m bench.gpu ...)

Builds the exact SD 1.5 + ControlNet architecture with random weights in memory (transform.full_size: same
FLOPs as the real weights), or with --tiny the tiny test pipeline through the loader, on the CPU. No Django:
only transform's engine modules, diffusers and compel. docs/BENCHMARKS.md explains the rows.
"""

import argparse
import dataclasses
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from diffusers import StableDiffusionControlNetPipeline
from PIL import Image

from transform.full_size import build_pipeline
from transform.params import CONTROL_MODES, SAMPLER_NAMES, GenerationParams
from transform.pipeline import (
    LoadOptions,
    compile_models,
    denoising_models,
    fuse_qkv_projections,
    load_pipeline,
    prepare_pipeline,
)
from transform.renderer import GenerationCancelled, Renderer, RenderRequest
from transform.samplers import make_scheduler
from transform.tiny_pipeline import write_tiny_pipeline

INPUTS = Path(__file__).parent / "gpu_inputs"
PROMPT = GenerationParams().prompt_for("golden retriever")


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="the tiny pipeline on the CPU: proves the script end to end")
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) to this file")
    parser.add_argument("--size", type=int, help="width = height (default 512; 64 with --tiny)")
    parser.add_argument("--steps", type=int, help="denoising steps of the speed rows (default 20)")
    parser.add_argument("--check-steps", type=int, default=4, help="steps of the correctness renders")
    parser.add_argument("--runs", type=int, help="timed runs per row after one warm-up (default 3; 2 with --tiny)")
    parser.add_argument("--batches", default="1,4,8", help="batch sizes of the batch rows")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, help="torch.compile rows (default: on CUDA)")
    parser.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=True, help="compile with CUDA graphs")
    parser.add_argument(
        "--compile-budget", type=float, default=150, help="skip compiling more once this many seconds have passed"
    )
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads (default 1 with --tiny: on a shared CPU, more is much slower)"
    )
    args = parser.parse_args(argv)
    args.size = args.size or (64 if args.tiny else 512)
    args.steps = args.steps or 20
    args.runs = args.runs or (2 if args.tiny else 3)
    args.batches = [int(b) for b in args.batches.split(",")]
    args.threads = args.threads or (1 if args.tiny else 0)
    return args


class Report:
    """The table, printed row by row and rewritten to --out after each row, so a cut-short run keeps its rows."""

    def __init__(self, out, header):
        self.out, self.header, self.lines = out, header, []

    def title(self, text):
        self._add(f"\n{text}\n")

    def row(self, *cells):
        self._add("| " + " | ".join(str(cell) for cell in cells) + " |")

    def _add(self, line):
        self.lines.append(line)
        print(line, flush=True)
        if self.out:
            self.out.write_text("\n".join([*self.header, *self.lines]) + "\n", encoding="utf-8")


def main(argv=None):
    args = arguments(argv)
    started = time.perf_counter()
    device = "cpu" if args.tiny else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("No CUDA device: run with --tiny on a CPU.")
    if args.threads:
        torch.set_num_threads(args.threads)
    report = Report(args.out, header=machine_lines(args, device))
    print("\n".join(report.header), flush=True)

    built = time.perf_counter()
    pipeline = make_pipeline(args.tiny, device)
    report.title(f"Built the pipeline in {time.perf_counter() - built:.1f} s.")
    params = GenerationParams(width=args.size, height=args.size, steps=args.steps, seed=1)
    control = Image.open(INPUTS / "control.png").convert("RGB")
    face = Image.open(INPUTS / "face.jpg").convert("RGB")

    report.title("### Speed (the recipe: txt2img, CFG 7, ControlNet 1.25, ControlNet is more important, DPM++ 2S a)")
    report.row("row", "batch", "s/image", "images/s", "it/s", "peak GPU memory", "warm-up", "syncs/image")
    report.row(*["---"] * 8)
    speed_row(
        report, "anchor: plain diffusers StableDiffusionControlNetPipeline, SDPA", args, anchor_call(pipeline, params, control)
    )

    renderer = Renderer(pipeline)
    options = LoadOptions(precision="fp32" if args.tiny else "fp16", channels_last=False, fuse_qkv=False)
    prepare_pipeline(pipeline, device, options)
    speed_row(report, "engine: own loop, prompt cache, SDPA", args, engine_call(renderer, params, control))
    for model in denoising_models(pipeline):
        model.to(memory_format=torch.channels_last)
    speed_row(report, "+ channels-last", args, engine_call(renderer, params, control))
    for model in denoising_models(pipeline):
        fuse_qkv_projections(model)
    speed_row(report, "+ fused QKV projections", args, engine_call(renderer, params, control))
    for batch in args.batches[1:]:
        speed_row(report, "same, batched", args, engine_call(renderer, params, control, batch), batch)

    report.title("### Correctness")
    report.row("check", "result")
    report.row("---", "---")
    for name, check in correctness_checks(renderer, params, control, face, args):
        report.row(name, run_check(check))

    if args.compile if args.compile is not None else not args.tiny:
        compiled_rows(report, renderer, params, control, args, started)
    report.title(f"Whole check: {time.perf_counter() - started:.0f} s.")


def compiled_rows(report, renderer, params, control, args, started):
    """torch.compile of UNet, ControlNet and VAE decoder at the first and last batch size, and how far a
    compiled image is from the eager one."""
    cuda_graphs = args.cuda_graphs and not args.tiny
    eager = renderer.render(RenderRequest(PROMPT, params, control))
    report.title("### Compiled")
    report.row("row", "batch", "s/image", "images/s", "it/s", "peak GPU memory", "warm-up (compile)", "syncs/image")
    report.row(*["---"] * 8)
    compile_models(renderer.pipeline, cuda_graphs=cuda_graphs)
    label = "+ torch.compile" + (" with CUDA graphs" if cuda_graphs else "")
    for batch in [args.batches[0], args.batches[-1]]:
        if time.perf_counter() - started > args.compile_budget:
            report.row(f"{label}: skipped, --compile-budget spent", batch, *["-"] * 6)
            continue
        try:
            speed_row(report, label, args, engine_call(renderer, params, control, batch), batch)
        except Exception as exc:  # noqa: BLE001  the rows above are kept; the table says why this one is missing
            report.row(f"{label}: FAILED {type(exc).__name__}: {str(exc)[:200]}", batch, *["-"] * 6)
    compiled = renderer.render(RenderRequest(PROMPT, params, control))
    difference = np.abs(np.asarray(compiled).astype(int) - np.asarray(eager).astype(int))
    report.title(
        f"Compiled against eager, same request: largest pixel difference {difference.max()} of 255 (mean {difference.mean():.3f})."
    )


def machine_lines(args, device):
    if device == "cuda":
        card = torch.cuda.get_device_properties(0)
        where = f"{card.name}, {card.total_memory / 2**30:.0f} GiB"
    else:
        where = f"CPU ({platform.processor() or platform.machine()}), torch threads: {torch.get_num_threads()}"
    import diffusers

    model = "tiny random-weight pipeline (make_test_pipeline)" if args.tiny else "SD 1.5 + ControlNet, full size, random weights"
    return [
        f"## GPU check, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"{where}; torch {torch.__version__}, diffusers {diffusers.__version__}, Python {platform.python_version()}",
        f"{model}; {args.size}x{args.size}, {args.steps} steps, {args.runs} timed runs per row after one warm-up",
    ]


def make_pipeline(tiny, device):
    if tiny:
        # Written and read back: the tiny pipeline goes through the one loader, as the worker's does.
        sd_dir, controlnet_dir = write_tiny_pipeline(tempfile.mkdtemp(prefix="fta-gpu-check-"))
        pipeline = load_pipeline(sd_dir, controlnet_dir, "cpu", LoadOptions(channels_last=False, fuse_qkv=False))
    else:
        pipeline = build_pipeline(device, torch.float16)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def anchor_call(pipeline, params, control):
    """diffusers as its documentation shows it, with the recipe's settings; its own scheduler instance."""
    anchor = StableDiffusionControlNetPipeline(**pipeline.components)
    anchor.scheduler = make_scheduler(params.sampler, pipeline.scheduler.config)
    anchor.set_progress_bar_config(disable=True)

    def call(batch):
        return anchor(
            [PROMPT] * batch,
            negative_prompt=[params.negative_prompt] * batch,
            image=control,
            height=params.height,
            width=params.width,
            num_inference_steps=params.steps,
            guidance_scale=params.cfg_scale,
            controlnet_conditioning_scale=params.controlnet_scale,
            guess_mode=True,
            generator=torch.Generator("cpu").manual_seed(params.seed),
        ).images

    return call


def engine_call(renderer, params, control, batch=1):
    def call(batch=batch):
        requests = [RenderRequest(PROMPT, dataclasses.replace(params, seed=params.seed + i), control) for i in range(batch)]
        outcomes = renderer.render_batch(requests)
        failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if failures:
            raise failures[0]
        return outcomes

    return call


def speed_row(report, label, args, call, batch=1):
    on_cuda = torch.cuda.is_available() and not args.tiny
    warm_up = timed(call, batch, on_cuda)
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    seconds = statistics.median(timed(call, batch, on_cuda) for _ in range(args.runs))
    peak = f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB" if on_cuda else "-"
    syncs = count_syncs(call, batch) if on_cuda else "-"
    report.row(
        label,
        batch,
        f"{seconds / batch:.3f}",
        f"{batch / seconds:.2f}",
        f"{args.steps / seconds:.1f}",
        peak,
        f"{warm_up:.1f} s",
        syncs,
    )


def timed(call, batch, on_cuda):
    if on_cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    call(batch)
    if on_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - started


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


def correctness_checks(renderer, params, control, face, args):
    short = dataclasses.replace(params, steps=args.check_steps)

    def render(**changes):
        return renderer.render(RenderRequest(PROMPT, dataclasses.replace(short, **changes), control, face))

    yield "an image, not black, flat or NaN", lambda: describe(render())
    yield "same seed, same pixels", lambda: same(render(), render()) and "identical"
    for sampler in SAMPLER_NAMES:
        yield f"sampler {sampler}", lambda sampler=sampler: describe(render(sampler=sampler))
    for mode in CONTROL_MODES:
        yield f"control mode {mode}", lambda mode=mode: describe(render(control_mode=mode))
    yield "img2img (strength 0.75)", lambda: describe(render(mode="img2img", steps=max(args.check_steps, 2)))
    yield "cancel after step 2", lambda: check_cancel(renderer, dataclasses.replace(short, steps=max(short.steps, 4)), control)
    yield "batched image = the same request alone", lambda: check_batch_equal(renderer, short, control)
    yield (
        "ControlNet skipped outside guidance 0.2-0.5 = run and multiplied by 0",
        lambda: check_skip_idle(renderer, short, control),
    )
    yield "out-of-memory retry with memory savers", lambda: check_out_of_memory(renderer, short, control, args.tiny)


def run_check(check):
    try:
        return f"ok: {check()}"
    except Exception as exc:  # noqa: BLE001  the table says what failed and the check goes on
        return f"FAILED: {type(exc).__name__}: {str(exc)[:200]}"


def describe(image):
    pixels = np.asarray(image).astype(np.float32)
    if pixels.std() < 1 or pixels.max() < 8:
        raise AssertionError(f"flat or black image (mean {pixels.mean():.1f}, std {pixels.std():.2f})")
    return f"{image.size[0]}x{image.size[1]}, mean {pixels.mean():.1f}, std {pixels.std():.1f}"


def same(first, second):
    difference = np.abs(np.asarray(first).astype(int) - np.asarray(second).astype(int)).max()
    if difference:
        raise AssertionError(f"pixels differ by up to {difference}")
    return True


def check_cancel(renderer, params, control):
    steps = []
    request = RenderRequest(
        PROMPT, params, control, on_step=lambda step, *_: steps.append(step), should_cancel=lambda: len(steps) >= 2
    )
    (outcome,) = renderer.render_batch([request])
    if not isinstance(outcome, GenerationCancelled) or steps != [1, 2]:
        raise AssertionError(f"outcome {outcome!r} after steps {steps}")
    return f"stopped after step 2 of {params.steps}"


def check_batch_equal(renderer, params, control):
    requests = [RenderRequest(PROMPT, dataclasses.replace(params, seed=params.seed + i), control) for i in range(3)]
    batched = renderer.render_batch(requests)
    alone = renderer.render(requests[2])
    difference = np.abs(np.asarray(batched[2]).astype(int) - np.asarray(alone).astype(int))
    return f"largest pixel difference {difference.max()} of 255 (mean {difference.mean():.3f})"


def check_skip_idle(renderer, params, control):
    request = RenderRequest(PROMPT, dataclasses.replace(params, guidance_start=0.2, guidance_end=0.5), control)
    skipped = renderer.render(request)
    renderer.skip_idle_controlnet = False
    try:
        same(skipped, renderer.render(request))
    finally:
        renderer.skip_idle_controlnet = True
    return "identical"


def check_out_of_memory(renderer, params, control, tiny):
    """Measures a batch's peak with and without the memory savers, caps the process between the two, and expects
    the batch to run out of memory once and then succeed with the savers."""
    if tiny:
        return "not applicable on the CPU (CUDA only)"
    call = engine_call(renderer, params, control, batch=8)
    peaks = []
    for savers in (False, True):
        if savers:
            renderer.enable_memory_savers()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        call()
        peaks.append(torch.cuda.max_memory_allocated())
    renderer.disable_memory_savers()
    plain, saving = peaks
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.empty_cache()
    retries = renderer.memory_retries
    torch.cuda.set_per_process_memory_fraction((plain + saving) / 2 / total)
    try:
        call()
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        renderer.disable_memory_savers()
    if renderer.memory_retries != retries + 1:
        raise AssertionError(f"no out-of-memory retry happened (peaks {plain / 2**30:.2f} / {saving / 2**30:.2f} GiB)")
    return f"batch 8 capped at {(plain + saving) / 2 / 2**30:.2f} GiB: ran out, retried with savers, succeeded (peaks {plain / 2**30:.2f} GiB plain, {saving / 2**30:.2f} GiB with savers)"


if __name__ == "__main__":
    main()
