"""Breed suggestion from real FaceMesh landmarks of scikit-image's astronaut, and from extreme edits of them."""

import subprocess
import sys

import mediapipe as mp
import numpy as np
import pytest
from mediapipe.python.solutions.face_mesh_connections import (
    FACEMESH_LEFT_EYE,
    FACEMESH_RIGHT_EYE,
)
from PIL import Image
from skimage import data

from transform.breeds import all_breeds
from transform.face_features import face_features, landmark_features
from transform.face_frame import FaceFrame
from transform.suggest import (
    coat_for_hair,
    reasons_text,
    scoring_table,
    suggest_breeds,
    suggest_for_face,
    trait_strengths,
)


def facemesh_landmarks(image):
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as mesh:
        found = mesh.process(np.asarray(image))
    return [[p.x, p.y, p.z] for p in found.multi_face_landmarks[0].landmark]


@pytest.fixture(scope="module")
def astronaut():
    return Image.fromarray(data.astronaut())


@pytest.fixture(scope="module")
def landmarks(astronaut):
    return facemesh_landmarks(astronaut)


@pytest.fixture(scope="module")
def features(astronaut, landmarks):
    return face_features(landmarks, astronaut.size, astronaut)


def edited_features(landmarks, image_size, edit_pixels, hair_colour):
    """Features of the landmarks after `edit_pixels` (N x 2 pixel array -> same) moved them."""
    edited = np.array(landmarks)
    edited[:, :2] = edit_pixels(edited[:, :2] * image_size) / image_size
    return {**face_features(edited, image_size), "hair_colour": hair_colour}


def heads_of(ranking, trait):
    return {scoring_table()["breeds"][entry["slug"]][trait] for entry in ranking}


def test_astronaut_features_are_plausible(features):
    assert 1.0 < features["face_length"] < 1.4
    assert 0.7 < features["jaw_width"] < 0.95
    assert -5 < features["eye_tilt"] < 12
    assert 0.15 < features["eye_size"] < 0.3
    assert features["hair_colour"] in {"brown", "blond"}
    assert features["hair_amount"] > 0.5
    rounded = {name: round(value, 3) if isinstance(value, float) else value for name, value in features.items()}
    print("astronaut features:", rounded)


def test_astronaut_ranking_has_reasons_in_english_and_korean(astronaut, landmarks):
    ranking = suggest_for_face(astronaut, {"landmarks": landmarks})
    assert len(ranking) == 5
    assert [entry["score"] for entry in ranking] == sorted((entry["score"] for entry in ranking), reverse=True)
    for entry in ranking:
        assert 0 <= entry["score"] <= 1
        assert 2 <= len(entry["reasons"]) <= 3
        for code in entry["reasons"]:
            assert reasons_text(code, "en") != reasons_text(code, "ko-kr")
    assert "brown_hair" in {code for entry in ranking for code in entry["reasons"]}
    assert reasons_text("brown_hair", "en") == "brown hair"
    assert reasons_text("droopy_eyes", "ko") == "처진 눈꼬리"


def test_ranking_is_deterministic_with_ties_broken_by_slug(features):
    full = suggest_breeds(features, top=len(all_breeds()))
    assert full == suggest_breeds(features, top=len(all_breeds()))
    assert [(-e["score"], e["slug"]) for e in full] == sorted((-e["score"], e["slug"]) for e in full)


def test_stretched_face_ranks_long_headed_breeds_first(landmarks, astronaut, features):
    stretch = lambda xy: xy.mean(axis=0) + (xy - xy.mean(axis=0)) * (1, 1.25)  # noqa: E731
    ranking = suggest_breeds(edited_features(landmarks, astronaut.size, stretch, features["hair_colour"]))
    assert heads_of(ranking[:3], "head") == {"long"}
    assert ranking[0]["reasons"][0] == "long_face"
    assert {"afghan-hound", "greyhound", "rough-collie", "doberman", "bull-terrier"} & {e["slug"] for e in ranking}


def test_squashed_face_ranks_round_headed_breeds_first(landmarks, astronaut, features):
    squash = lambda xy: xy.mean(axis=0) + (xy - xy.mean(axis=0)) * (1, 0.8)  # noqa: E731
    ranking = suggest_breeds(edited_features(landmarks, astronaut.size, squash, features["hair_colour"]))
    assert heads_of(ranking[:3], "head") == {"round"}
    assert "round_face" in ranking[0]["reasons"]
    assert {"pug", "shih-tzu", "chihuahua", "cavalier-king-charles", "chow-chow"} & {e["slug"] for e in ranking}


def droop_eyes(xy, degrees=10):
    """Each eye turned about its inner corner so that its outer corner goes down."""
    xy = xy.copy()
    for eye, outer, inner in ((FACEMESH_RIGHT_EYE, 33, 133), (FACEMESH_LEFT_EYE, 263, 362)):
        points = sorted({i for edge in eye for i in edge})
        angle = np.radians(degrees) * np.sign(xy[outer, 0] - xy[inner, 0])
        turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        xy[points] = xy[inner] + (xy[points] - xy[inner]) @ turn.T
    return xy


def test_drooping_eye_corners_rank_droopy_eyed_breeds_first(landmarks, astronaut, features):
    drooped = edited_features(landmarks, astronaut.size, droop_eyes, features["hair_colour"])
    assert drooped["eye_tilt"] < features["eye_tilt"] - 8
    ranking = suggest_breeds(drooped, top=len(all_breeds()))
    droopy_eyed = [entry for entry in ranking if scoring_table()["breeds"][entry["slug"]]["eyes"] == "droopy"]
    assert ranking[0] == droopy_eyed[0]
    assert all("droopy_eyes" in entry["reasons"] for entry in droopy_eyed)
    assert suggest_breeds(drooped)[0]["slug"] in {"basset-hound", "bloodhound", "cocker-spaniel"}
    before = [entry["slug"] for entry in suggest_breeds(features, top=len(all_breeds()))]
    after = [entry["slug"] for entry in ranking]
    assert all(after.index(entry["slug"]) < before.index(entry["slug"]) for entry in droopy_eyed)


def test_mirrored_photo_and_landmarks_give_the_same_features_and_ranking(astronaut, landmarks, features):
    mirrored_landmarks = [[1 - x, y, z] for x, y, z in landmarks]
    mirrored = astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mirrored_features = face_features(mirrored_landmarks, mirrored.size, mirrored)
    assert mirrored_features["hair_colour"] == features["hair_colour"]
    numbers = {name: value for name, value in features.items() if name != "hair_colour"}
    assert {name: mirrored_features[name] for name in numbers} == pytest.approx(numbers, rel=1e-9)
    assert suggest_for_face(mirrored, {"landmarks": mirrored_landmarks}, top=50) == suggest_for_face(
        astronaut, {"landmarks": landmarks}, top=50
    )


def test_geometric_features_ignore_rotation_scale_translation_and_image_size(landmarks, astronaut):
    original = landmark_features(FaceFrame(landmarks, astronaut.size).points)
    angle = np.radians(25)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = np.array(landmarks)
    moved[:, :2] = ((moved[:, :2] * astronaut.size) @ turn.T * 1.7 + (300, 120)) / (1200, 900)
    assert landmark_features(FaceFrame(moved, (1200, 900)).points) == pytest.approx(original, rel=1e-9, abs=1e-9)


def test_top_breed_survives_landmark_jitter(astronaut, landmarks, features):
    pixels = np.array(landmarks)[:, :2] * astronaut.size
    face_width = FaceFrame(landmarks, astronaut.size).width
    expected = suggest_breeds(features, top=1)[0]["slug"]
    rng = np.random.default_rng(20261101)
    trials, kept, in_top_three = 200, 0, 0
    for _ in range(trials):
        noisy = np.array(landmarks)
        noisy[:, :2] = (pixels + rng.uniform(-0.01, 0.01, pixels.shape) * face_width) / astronaut.size
        ranking = [entry["slug"] for entry in suggest_for_face(astronaut, {"landmarks": noisy.tolist()}, top=3)]
        kept += ranking[0] == expected
        in_top_three += expected in ranking
    print(
        f"\nunder ±1% landmark jitter the top breed {expected} stayed first in {kept}/{trials} trials "
        f"({kept / trials:.1%}) and in the top three in {in_top_three}/{trials}"
    )
    # The astronaut is close to average, so beagle and shiba-inu are near-tied: measured 80 % (160/200).
    assert kept / trials >= 0.75
    assert in_top_three / trials >= 0.95


def painted_hair(image, landmarks, rgb):
    """The photo with a helmet of `rgb` above the forehead and beside the temples."""
    frame = FaceFrame(landmarks, image.size)
    x_centre, forehead_y = frame.pixels[10]
    eye_y = frame.origin[1]
    left_side, right_side = frame.pixels[234][0], frame.pixels[454][0]
    reach = 0.75 * frame.width
    pixels = np.asarray(image).copy()
    top = max(0, int(forehead_y - frame.width))
    pixels[top : int(forehead_y - 0.03 * frame.width), int(x_centre - reach) : int(x_centre + reach)] = rgb
    pixels[top : int(eye_y), int(x_centre - reach) : int(left_side)] = rgb
    pixels[top : int(eye_y), int(right_side) : int(x_centre + reach)] = rgb
    return Image.fromarray(pixels)


@pytest.mark.parametrize(
    "rgb, colour",
    [
        ((22, 20, 20), "black"),
        ((225, 195, 125), "blond"),
        ((160, 62, 30), "red"),
        ((140, 140, 142), "grey"),
        ((98, 66, 42), "brown"),
    ],
)
def test_hair_colour_of_painted_hair(astronaut, landmarks, rgb, colour):
    painted = painted_hair(astronaut, landmarks, rgb)
    measured = face_features(landmarks, painted.size, painted)
    assert measured["hair_colour"] == colour
    assert measured["hair_amount"] > 0.8


def test_hair_the_colour_of_the_background_counts_as_no_hair(astronaut, landmarks):
    wall_beside_head = np.asarray(astronaut)[20:60, 320:360].reshape(-1, 3)
    background = tuple(int(c) for c in np.median(wall_beside_head, axis=0))
    bald = painted_hair(astronaut, landmarks, background)
    measured = face_features(landmarks, bald.size, bald)
    assert measured["hair_colour"] is None
    assert measured["hair_amount"] < 0.2
    reasons = [code for entry in suggest_for_face(bald, {"landmarks": landmarks}) for code in entry["reasons"]]
    assert not any(code.endswith("_hair") for code in reasons)


def test_coat_for_hair_recolours_only_breeds_with_several_coats():
    assert coat_for_hair("poodle", "black") == "black"
    assert coat_for_hair("poodle", "grey") == "grey"
    assert coat_for_hair("labrador-retriever", "blond") == "yellow"
    assert coat_for_hair("shiba-inu", "red") == "red"
    assert coat_for_hair("golden-retriever", "black") is None
    assert coat_for_hair("golden-retriever", "blond") is None
    assert coat_for_hair("samoyed", None) is None


def test_dark_hair_favours_black_coated_breeds_without_changing_single_coat_ones(features):
    dark = {**features, "hair_colour": "black"}
    ranking = suggest_breeds(dark, top=len(all_breeds()))
    by_slug = {entry["slug"]: entry for entry in ranking}
    assert "black_hair" in by_slug["rottweiler"]["reasons"]
    assert "black_hair" not in by_slug["golden-retriever"]["reasons"]
    assert reasons_text("black_hair", "en") == "dark hair" and reasons_text("black_hair", "ko") == "어두운 머리색"


def test_every_catalogue_breed_has_a_complete_profile():
    table = scoring_table()
    assert "_doc" in table
    assert set(table["breeds"]) == {breed.slug for breed in all_breeds()}
    for slug, profile in table["breeds"].items():
        assert set(profile) == set(table["traits"]), slug
        for trait, value in profile.items():
            assert value in table["traits"][trait], (slug, trait, value)
    for breed in all_breeds():
        assert set(breed.coats) <= set(table["coat_hair"]), breed.slug
    hair_colours = {"black", "brown", "blond", "red", "grey", "white"}
    assert {colour for colours in table["coat_hair"].values() for colour in colours} <= hair_colours
    codes = {spec["reason"] for values in table["traits"].values() for spec in values.values()}
    codes |= {f"{colour}_hair" for colour in hair_colours}
    assert codes == set(table["reasons"])
    assert all(set(words) == {"en", "ko"} for words in table["reasons"].values())
    assert set(table["weights"]) == set(table["traits"]) | {"coat"}


def test_trait_strengths_stay_between_zero_and_one(features):
    for values in trait_strengths(features).values():
        assert all(0 <= strength <= 1 for strength in values.values())


def test_suggestion_imports_nothing_from_the_generation_stack():
    heavy = ("torch", "diffusers", "transformers", "controlnet_aux")
    code = f"import sys, transform.suggest; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
