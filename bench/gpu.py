"""The GPU check: correctness on CUDA and speed against plain diffusers, in one run and one table.

    bench/gpu_check.sh [--tiny] [--out FILE]        (or: python -m bench.gpu ...)

Builds the exact SD 1.5 + ControlNet architecture with random weights in memory (tests.full_size_pipeline: same
FLOPs as the real weights), or with --tiny the tiny test pipeline through the loader, on the CPU. No Django:
only transform's engine modules, diffusers and compel. A pre-flight (bench.gpu_preflight) runs first; the
compiled rows compile in processes of their own under a deadline (bench.gpu_compiled). Exit status 1 when a
correctness check failed. docs/BENCHMARKS.md explains the rows.
"""

import argparse
import dataclasses
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import StableDiffusionControlNetPipeline
from PIL import Image

from bench import gpu_compiled, gpu_preflight
from bench.gpu_measure import (
    INPUTS,
    PROMPT,
    control_image,
    engine_call,
    make_pipeline,
    measure,
    pixel_difference,
    recipe_params,
)
from transform.params import CONTROL_MODES, SAMPLER_NAMES
from transform.pipeline import LoadOptions, denoising_models, fuse_qkv_projections, prepare_pipeline
from transform.renderer import GenerationCancelled, Renderer, RenderRequest
from transform.samplers import make_scheduler

SPEED_COLUMNS = ("row", "batch", "s/image", "images/s", "it/s", "peak GPU memory (allocated / reserved)")


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="the tiny pipeline on the CPU: proves the script end to end")
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) to this file; the compile cache goes beside it")
    parser.add_argument("--size", type=int, help="width = height (default 512; 64 with --tiny)")
    parser.add_argument("--steps", type=int, help="denoising steps of the speed rows (default 20)")
    parser.add_argument("--check-steps", type=int, default=4, help="steps of the correctness renders")
    parser.add_argument("--runs", type=int, help="timed runs per row after one warm-up (default 3; 2 with --tiny)")
    parser.add_argument("--batches", default="1,4,8", help="batch sizes of the batch rows; the first and last are compiled")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, help="torch.compile rows (default: on CUDA)")
    parser.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=True, help="compile with CUDA graphs")
    parser.add_argument(
        "--compile-budget",
        type=float,
        default=240,
        help="seconds the compiled rows may take to compile, from the start: a deadline (0: compile nothing)",
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
        self._add("| " + " | ".join(markdown_cell(cell) for cell in cells) + " |")

    def _add(self, line):
        self.lines.append(line)
        print(line, flush=True)
        if self.out:
            self.out.write_text("\n".join([*self.header, *self.lines]) + "\n", encoding="utf-8")


def markdown_cell(value):
    """A table cell that stays one cell: | escaped, line breaks as <br>."""
    lines = str(value).replace("|", "\\|").splitlines() or [""]
    return "<br>".join(line.strip() for line in lines)


def main(argv=None):
    """Runs the check; returns the exit status (1 when a correctness check failed)."""
    args = arguments(argv)
    started = time.perf_counter()
    device = "cpu" if args.tiny else "cuda"
    if problems := gpu_preflight.problems(device):
        sys.exit("Pre-flight: " + "; ".join(problems) + ".")
    if args.threads:
        torch.set_num_threads(args.threads)
    compiling = start_compiling(args, device)
    try:
        return run(args, device, compiling, started)
    finally:
        for row in compiling if isinstance(compiling, list) else ():
            row.stop()


def run(args, device, compiling, started):
    report = Report(args.out, header=machine_lines(args, device, compiling))
    print("\n".join(report.header), flush=True)

    built = time.perf_counter()
    pipeline = make_pipeline(args.tiny, device)
    report.title(f"Built the pipeline in {time.perf_counter() - built:.1f} s.")
    params = recipe_params(args.size, args.steps)
    control = control_image()
    face = Image.open(INPUTS / "face.jpg").convert("RGB")

    report.title("### Speed (the recipe: txt2img, CFG 7, ControlNet 1.25, ControlNet is more important, DPM++ 2S a)")
    report.row(*SPEED_COLUMNS, "warm-up", "syncs/image")
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
    failures = 0
    for name, check in correctness_checks(renderer, params, control, face, args):
        result = run_check(check)
        failures += result.startswith("FAILED")
        report.row(name, result)

    compiled_rows(report, compiling, args)
    report.title(f"Whole check: {time.perf_counter() - started:.0f} s.")
    return 1 if failures else 0


def compiled_batches(args):
    return sorted({args.batches[0], args.batches[-1]}, key=args.batches.index)


def start_compiling(args, device):
    """The compiled rows' processes, compiling from now on; or, when nothing is compiled, why not."""
    if args.compile is False or (args.compile is None and args.tiny):
        return "off with --tiny: --compile compiles on the CPU" if args.compile is None else "--no-compile"
    if args.compile_budget <= 0:
        return "--compile-budget 0"
    if blocker := gpu_preflight.compile_blocker(device):
        return blocker
    settings = {
        "tiny": args.tiny,
        "size": args.size,
        "steps": args.steps,
        "runs": args.runs,
        "threads": args.threads,
        "cuda_graphs": args.cuda_graphs and not args.tiny,
        "cache": str(args.out.with_suffix(".compile-cache")) if args.out else None,
    }
    return gpu_compiled.start(settings, compiled_batches(args), args.compile_budget)


def compiled_rows(report, compiling, args):
    """torch.compile of UNet, ControlNet and VAE decoder at the first and last batch size, and how far compiled
    images are from eager ones. Every row is written, with the reason where it has no figures."""
    cuda_graphs = args.cuda_graphs and not args.tiny
    label = "+ torch.compile" + (" with CUDA graphs" if cuda_graphs else "")
    report.title("### Compiled")
    report.row(*SPEED_COLUMNS, "warm-up (compile)", "syncs/image")
    report.row(*["---"] * 8)
    if isinstance(compiling, str):
        for batch in compiled_batches(args):
            report.row(f"{label}: not compiled ({compiling})", batch, *["-"] * 6)
        report.title("Compiled against eager: not measured (nothing compiled).")
        return
    compiled = {}
    for row in compiling:  # every row compiled (or not) before any timed call, so no timing overlaps a compile
        try:
            compiled[row] = row.wait_compiled()
        except gpu_compiled.RowMissing as why:
            compiled[row] = why
    difference = None
    for row in compiling:
        try:
            if isinstance(compiled[row], gpu_compiled.RowMissing):
                raise compiled[row]
            figures, row_difference = row.finish()
        except gpu_compiled.RowMissing as why:
            report.row(f"{label}: {why}", row.batch, *["-"] * 6)
            continue
        figure_row(report, label, args, figures, row.batch)
        difference = difference or row_difference
    if difference:
        largest, mean = difference
        report.title(f"Compiled against eager, same requests: largest pixel difference {largest} of 255 (mean {mean:.3f}).")
    else:
        report.title(f"Compiled against eager: not measured (batch {compiling[0].batch} has no compiled figures).")
    for note in sorted({outcome["cache"] for outcome in compiled.values() if isinstance(outcome, dict)}):
        report.title(f"Compile cache: {note}.")


def machine_lines(args, device, compiling):
    if device == "cuda":
        card = torch.cuda.get_device_properties(0)
        where = f"{card.name}, {card.total_memory / 2**30:.0f} GiB; {gpu_preflight.cuda_versions()}"
    else:
        where = f"CPU ({platform.processor() or platform.machine()}), torch threads: {torch.get_num_threads()}; no CUDA"
    model = "tiny random-weight pipeline (make_test_pipeline)" if args.tiny else "SD 1.5 + ControlNet, full size, random weights"
    if isinstance(compiling, str):
        compile_line = f"Compiling: no ({compiling})."
    else:
        compile_line = f"Compiling: batches {', '.join(str(row.batch) for row in compiling)}, each in its own process, deadline {args.compile_budget:g} s."
    return [
        f"## GPU check, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        where,
        f"Python {platform.python_version()}; torch {torch.__version__}, {gpu_preflight.versions()}",
        f"{model}; {args.size}x{args.size}, {args.steps} steps, {args.runs} timed runs per row after one warm-up",
        compile_line,
    ]


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


def speed_row(report, label, args, call, batch=1):
    on_cuda = torch.cuda.is_available() and not args.tiny
    figure_row(report, label, args, measure(call, batch, args.runs, on_cuda), batch)


def figure_row(report, label, args, figures, batch):
    seconds = figures["seconds"]
    report.row(
        label,
        batch,
        f"{seconds / batch:.3f}",
        f"{batch / seconds:.2f}",
        f"{args.steps / seconds:.1f}",
        figures["peak"],
        f"{figures['warm_up']:.1f} s",
        figures["syncs"],
    )


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
    largest, _ = pixel_difference(first, second)
    if largest:
        raise AssertionError(f"pixels differ by up to {largest}")
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
    largest, mean = pixel_difference(batched[2], renderer.render(requests[2]))
    return f"largest pixel difference {largest} of 255 (mean {mean:.3f})"


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
    sys.exit(main())
