"""Group photos ("make everyone a dog"): seconds per face, all faces in one batch against one face at
a time, in one run. From the repository root: python -m bench.group [--tiny] [flags]

Without --tiny it loads FTA_SD_MODEL / FTA_CONTROLNET_MODEL / FTA_SD_INPAINT_MODEL on FTA_DEVICE like
the worker, so the same command measures real weights on a CUDA machine.
"""

import argparse
import os
import platform
import tempfile
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

import torch  # noqa: E402
from django.conf import settings  # noqa: E402

from tests import sample_images as samples  # noqa: E402
from tests.tiny_pipeline import write_tiny_pipeline  # noqa: E402
from transform.engine import Engine  # noqa: E402
from transform.faces import analyze_faces  # noqa: E402
from transform.group import GroupChoice, GroupPainter  # noqa: E402
from transform.params import GenerationParams  # noqa: E402


def arguments():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="the random-weight test pipeline instead of FTA_* models")
    parser.add_argument("--device", default=None, help="default: FTA_DEVICE")
    parser.add_argument("--size", type=int, default=512, help="work size of each face's crop")
    parser.add_argument("--steps", type=int, default=20)
    return parser.parse_args()


def timed(painter, photo, faces, params, max_batch):
    choices = [GroupChoice(index, "pug") for index in range(len(faces))]
    if painter.engine.device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    result = painter.paint(photo, faces, choices, params, max_batch=max_batch)
    if painter.engine.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - started, result


def main():
    args = arguments()
    if args.tiny:
        sd_model, controlnet_model = write_tiny_pipeline(tempfile.mkdtemp(prefix="fta-bench-"))
        inpaint_model = None
    else:
        sd_model, controlnet_model = settings.FTA_SD_MODEL, settings.FTA_CONTROLNET_MODEL
        inpaint_model = settings.FTA_SD_INPAINT_MODEL or None
    engine = Engine(sd_model, controlnet_model, args.device or settings.FTA_DEVICE)
    painter = GroupPainter(engine, inpaint_model)
    photo = samples.group_photo()
    faces = analyze_faces(photo)["faces"]
    params = GenerationParams(width=args.size, height=args.size, steps=args.steps, seed=1)
    load = engine.load()
    timed(painter, photo, faces[:1], params, 1)  # warm-up: builds the inpainting pipeline, first-call costs

    batched, result = timed(painter, photo, faces, params, len(faces))
    sequential, _ = timed(painter, photo, faces, params, 1)
    device = torch.cuda.get_device_name() if engine.device.startswith("cuda") else f"CPU, {os.cpu_count()} cores"
    print(f"models: {engine.sd_model} + {engine.controlnet_model}; inpainting weights: {result.weights}")
    print(f"device: {device} ({platform.machine()}); torch {torch.__version__}; threads {torch.get_num_threads()}")
    print(
        f"photo: group_photo() {photo.size[0]}x{photo.size[1]}, {len(faces)} faces; {args.size}x{args.size} crops, {args.steps} steps"
    )
    print("| case | total s | s per face |\n| --- | --- | --- |")
    print(f"| model load | {load:.2f} | |")
    print(f"| {len(faces)} faces in one batch | {batched:.2f} | {batched / len(faces):.2f} |")
    print(f"| {len(faces)} faces one at a time | {sequential:.2f} | {sequential / len(faces):.2f} |")


if __name__ == "__main__":
    main()
