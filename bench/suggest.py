"""Time breed suggestion per face (landmarks already found): `python bench/suggest.py [--runs N]`.

Prints one row per stage with the median and 95th percentile in milliseconds. FaceMesh itself is
not timed; it runs once to get the astronaut's landmarks.
"""

import argparse
import sys
import time
from pathlib import Path

import mediapipe as mp
import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transform.face_features import face_features  # noqa: E402
from transform.suggest import suggest_breeds, suggest_for_face  # noqa: E402


def timings_ms(call, runs):
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return np.median(times), np.percentile(times, 95)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    runs = parser.parse_args().runs
    image = Image.fromarray(data.astronaut())
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as mesh:
        found = mesh.process(np.asarray(image))
    landmarks = [[p.x, p.y, p.z] for p in found.multi_face_landmarks[0].landmark]
    features = face_features(landmarks, image.size, image)
    stages = {
        "landmark measurements": lambda: face_features(landmarks, image.size),
        "measurements + hair": lambda: face_features(landmarks, image.size, image),
        "ranking (suggest_breeds)": lambda: suggest_breeds(features),
        "whole face (suggest_for_face)": lambda: suggest_for_face(image, {"landmarks": landmarks}),
    }
    print(f"{'stage':<32}{'median ms':>10}{'p95 ms':>10}   ({runs} runs, 512x512 astronaut)")
    for name, call in stages.items():
        median, p95 = timings_ms(call, runs)
        print(f"{name:<32}{median:>10.3f}{p95:>10.3f}")


if __name__ == "__main__":
    main()
