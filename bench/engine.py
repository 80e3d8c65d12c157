"""Generation speed and memory. Run from the repository root: python -m bench.engine [--tiny] [flags]

Without --tiny it uses FTA_SD_MODEL / FTA_CONTROLNET_MODEL / FTA_DEVICE like the worker does, so the
same command measures real weights on a CUDA machine.
"""

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

import torch  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from transform import head_crop  # noqa: E402
from transform.control import control_image  # noqa: E402
from transform.engine import Engine  # noqa: E402
from transform.faces import analyze_faces  # noqa: E402
from transform.params import GenerationParams  # noqa: E402
from transform.tiny_pipeline import write_tiny_pipeline  # noqa: E402


def arguments():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="the random-weight test pipeline instead of FTA_* models")
    parser.add_argument("--device", help="default: FTA_DEVICE")
    parser.add_argument("--size", type=int, default=512, help="width = height")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1, help="images per prompt")
    parser.add_argument("--runs", type=int, default=3, help="timed runs after one warm-up run")
    parser.add_argument("--sampler", default=GenerationParams.sampler)
    on_off = argparse.BooleanOptionalAction
    parser.add_argument("--fp16", action=on_off, help="default: on for CUDA")
    parser.add_argument("--sdpa", action=on_off, default=True, help="scaled-dot-product attention (default on)")
    parser.add_argument("--channels-last", action=on_off, help="default: on for CUDA")
    parser.add_argument("--compile", action=on_off, help="torch.compile UNet and ControlNet (default: FTA_TORCH_COMPILE)")
    return parser.parse_args()


def main():
    args = arguments()
    models = {}
    if args.tiny:
        models = dict(zip(("sd_model", "controlnet_model"), write_tiny_pipeline(tempfile.mkdtemp(prefix="fta-bench-"))))
    engine = Engine(
        device=args.device,
        fp16=args.fp16,
        sdpa=args.sdpa,
        channels_last=args.channels_last,
        compile_models=args.compile,
        **models,
    )
    on_cuda = engine.device.startswith("cuda")
    load_seconds = engine.load()

    photo = Image.fromarray(data.astronaut()).convert("RGB")
    face = analyze_faces(photo)["faces"][0]
    params = GenerationParams(width=args.size, height=args.size, steps=args.steps, sampler=args.sampler, seed=1)
    box = head_crop.face_crop_box(face, photo.size)
    control = control_image(face, photo.size, box, (args.size, args.size))
    prompt = params.prompt_for("golden retriever")

    runs = []
    for run in range(args.runs + 1):
        stamps = []
        if on_cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        engine.render(prompt, params, control, num_images=args.batch, on_step=lambda *_: stamps.append(time.perf_counter()))
        if on_cuda:
            torch.cuda.synchronize()
        total = time.perf_counter() - started
        # Step times between consecutive steps: the first includes prompt encoding, the last is followed by the VAE decode.
        steps = [b - a for a, b in zip(stamps, stamps[1:])]
        if run:  # run 0 warms up (and compiles, with --compile)
            runs.append((statistics.median(steps) if steps else total, total))

    peak = (
        f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB allocated (torch.cuda)"
        if on_cuda
        else f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB RSS (process peak)"
    )
    device = (
        torch.cuda.get_device_name() if on_cuda else f"CPU, {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    )
    print(f"models: {engine.sd_model} + {engine.controlnet_model}")
    print(f"device: {device}; torch {torch.__version__}; threads {torch.get_num_threads()}")
    print(
        f"options: {args.size}x{args.size}, {args.steps} steps, batch {args.batch}, {args.sampler}, "
        f"dtype {engine.pipeline.unet.dtype}, sdpa {args.sdpa}, channels_last {args.channels_last}, compile {args.compile}"
    )
    print("| measure | value |\n| --- | --- |")
    print(f"| model load | {load_seconds:.2f} s |")
    print(f"| time per denoising step (median of {args.runs} runs) | {statistics.median(r[0] for r in runs) * 1000:.1f} ms |")
    print(f"| total per generation (median) | {statistics.median(r[1] for r in runs):.2f} s |")
    print(f"| peak memory | {peak} |")


if __name__ == "__main__":
    main()
