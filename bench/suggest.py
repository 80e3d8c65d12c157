"""Breed suggestion: speed, stability under re-uploads, and variety. Run from the repository root:
`python -m bench.suggest [--runs N] [--synthetic N] [--chart PATH]`.

Prints four tables:
1. time per stage (FaceMesh excluded for the per-face stages; the upload analysis includes it);
2. the re-upload matrix: each test face photo uploaded as 11 variants through the real upload path
   (clean_upload + analyze_photo), the top breed of each and the share that kept the usual one;
3. each measurement's wobble over those variants, in spreads, from the stored landmarks alone and
   averaged over the extra FaceMesh views, as analyze_photo does;
4. how often each breed is the top suggestion over seeded synthetic faces, and over real faces.
"""

import argparse
import time
from collections import Counter

import numpy as np
from PIL import Image, ImageDraw
from skimage import data

from tests import sample_images as samples
from tests.synthetic_faces import synthetic_faces
from tests.upload_variants import FACE_PHOTOS, cleaned_upload, followed_face, upload_variants
from transform.breeds import all_breeds
from transform.face_features import face_features
from transform.faces import analyze_faces
from transform.photo_analysis import analyze_photo, steady_features
from transform.suggest import scoring_table, suggest_breeds, suggestions_with_coats

SEED = 20261126


def timings_ms(call, runs):
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return np.median(times), np.percentile(times, 95)


def print_timings(runs):
    image = samples.astronaut()
    face = analyze_faces(image)["faces"][0]
    features = face_features(face["landmarks"], image.size, image)
    stages = {
        "landmark measurements": (lambda: face_features(face["landmarks"], image.size), runs),
        "measurements + hair": (lambda: face_features(face["landmarks"], image.size, image), runs),
        "ranking (suggest_breeds)": (lambda: suggest_breeds(features), runs),
        "measurements + hair + ranking": (
            lambda: suggestions_with_coats(face_features(face["landmarks"], image.size, image)),
            runs,
        ),
        "extra FaceMesh views + averaging": (lambda: steady_features(image, face), 50),
        "analyze_faces (detector + FaceMesh)": (lambda: analyze_faces(image), 50),
        "analyze_photo (all of the above)": (lambda: analyze_photo(image), 50),
    }
    print("| stage, 512x512 astronaut | runs | median ms | p95 ms |\n| --- | --- | --- | --- |")
    for name, (call, count) in stages.items():
        median, p95 = timings_ms(call, count)
        print(f"| {name} | {count} | {median:.2f} | {p95:.2f} |")


def variant_analyses():
    """{photo name: {variant: (cleaned image, face dict)}} for every test face photo."""
    found = {}
    for name, (make_photo, index) in FACE_PHOTOS.items():
        found[name] = {}
        for variant, data_bytes in upload_variants(make_photo()).items():
            image = cleaned_upload(data_bytes)
            found[name][variant] = (image, followed_face(analyze_photo(image), variant, index))
    return found


def print_matrix(analyses):
    variants = list(next(iter(analyses.values())))
    print("\n| photo | " + " | ".join(variants) + " | kept |")
    print("| --- " * (len(variants) + 2) + "|")
    for name, by_variant in analyses.items():
        tops = [face["suggested_breeds"][0] for _, face in by_variant.values()]
        usual, kept = Counter(top["slug"] for top in tops).most_common(1)[0]
        cells = [top["slug"] + (" (tie)" if top["tied_with_next"] else "") for top in tops]
        print(f"| {name} | " + " | ".join(cells) + f" | {kept}/{len(tops)} |")


def print_wobble(analyses):
    spreads = {name: norm["spread"] for name, norm in scoring_table()["features"].items()}
    print("\n| measurement | " + " | ".join(f"{photo}: one view / averaged" for photo in analyses) + " |")
    print("| --- " * (len(analyses) + 1) + "|")
    rows = {name: [] for name in spreads}
    for by_variant in analyses.values():
        single = [face_features(face["landmarks"], image.size) for image, face in by_variant.values()]
        averaged = [steady_features(image, face) for image, face in by_variant.values()]
        for name, spread in spreads.items():
            one = np.std([features[name] for features in single]) / spread
            mean = np.std([features[name] for features in averaged]) / spread
            rows[name].append(f"{one:.3f} / {mean:.3f}")
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


def real_face_tops():
    """{source: Counter of top breeds} for the real faces at hand."""
    tops = {"astronaut + grace hopper": Counter()}
    for photo in (samples.astronaut(), samples.grace_hopper()):
        tops["astronaut + grace hopper"][analyze_photo(photo)["faces"][0]["suggested_breeds"][0]["slug"]] += 1
    # scikit-image's 200 Labeled Faces in the Wild crops: 25x25 grey, cut tight (forehead and chin
    # partly outside), so their measurements are rough; enlarged onto a grey 512x512 canvas.
    lfw = Counter()
    for face in data.lfw_subset():
        canvas = Image.new("RGB", (512, 512), (128, 128, 128))
        canvas.paste(Image.fromarray((face * 255).astype(np.uint8)).convert("RGB").resize((256, 256)), (128, 128))
        found = analyze_photo(canvas)["faces"]
        if found:
            lfw[found[0]["suggested_breeds"][0]["slug"]] += 1
    tops["scikit-image lfw_subset (200 tiny crops)"] = lfw
    return tops


def synthetic_tops(count):
    landmark_sets = []
    for photo in (samples.astronaut(), samples.grace_hopper()):
        face = analyze_faces(photo)["faces"][0]
        landmark_sets.append((np.array(face["landmarks"])[:, :2] * photo.size).tolist())
    return Counter(suggest_breeds(face, top=1)[0]["slug"] for face in synthetic_faces(landmark_sets, count, SEED))


def print_variety(synthetic, real):
    total = sum(synthetic.values())
    print(f"\nsynthetic faces: {total} (seed {SEED}); distinct top breeds: {len(synthetic)} of {len(all_breeds())}")
    slug, most = synthetic.most_common(1)[0]
    print(f"largest share: {slug} {most}/{total} ({most / total:.1%})")
    for source, tops in real.items():
        faces = sum(tops.values())
        slug, most = tops.most_common(1)[0]
        print(f"{source}: {faces} faces found, {len(tops)} distinct top breeds, largest {slug} {most}")
    print("\n| breed | synthetic top | share |\n| --- | --- | --- |")
    for breed in all_breeds():
        print(f"| {breed.slug} | {synthetic[breed.slug]} | {synthetic[breed.slug] / total:.1%} |")


def draw_chart(synthetic, path):
    """A bar per breed, most frequent first, with the 10 % ceiling drawn as a line."""
    counts = sorted(((synthetic[breed.slug], breed.slug) for breed in all_breeds()), reverse=True)
    total = sum(synthetic.values())
    bar, gap, left, top = 14, 4, 190, 30
    chart = Image.new("RGB", (left + 420, top + len(counts) * (bar + gap) + 20), "white")
    draw = ImageDraw.Draw(chart)
    scale = 400 / 0.12  # 12 % fills the width
    draw.text((left, 8), f"Top breed over {total} synthetic faces (share)", fill="black")
    for row, (count, slug) in enumerate(counts):
        y = top + row * (bar + gap)
        draw.text((8, y + 2), slug, fill="black")
        draw.rectangle((left, y, left + count / total * scale, y + bar), fill=(70, 110, 180))
        draw.text((left + count / total * scale + 4, y + 2), f"{count / total:.1%}", fill="black")
    ceiling = left + 0.10 * scale
    draw.line((ceiling, top - 4, ceiling, top + len(counts) * (bar + gap)), fill=(200, 40, 40), width=1)
    draw.text((ceiling + 3, top - 16), "10 %", fill=(200, 40, 40))
    chart.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--synthetic", type=int, default=400)
    parser.add_argument("--chart", help="also draw the synthetic distribution as a PNG here")
    args = parser.parse_args()
    print_timings(args.runs)
    analyses = variant_analyses()
    print_matrix(analyses)
    print_wobble(analyses)
    synthetic = synthetic_tops(args.synthetic)
    print_variety(synthetic, real_face_tops())
    if args.chart:
        draw_chart(synthetic, args.chart)


if __name__ == "__main__":
    main()
