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
from transform.hair import HAIR_PALETTE, hair_shades
from transform.photo_analysis import analyze_photo
from transform.suggest import (
    axis_values,
    breed_scores,
    breed_terms,
    coat_for_hair,
    hair_shades_of,
    reasons_text,
    scoring_table,
    suggest_breeds,
    suggestions_with_coats,
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


def targets_of(ranking, axis):
    """The breeds' targets on one axis, in spreads (+1: e.g. clearly long face, -1: clearly round)."""
    return [scoring_table()["breeds"][entry["slug"]][axis] for entry in ranking]


def test_astronaut_features_are_plausible(features):
    assert 1.0 < features["face_length"] < 1.4
    assert 0.7 < features["jaw_width"] < 0.95
    assert -5 < features["eye_tilt"] < 12
    assert 0.15 < features["eye_size"] < 0.3
    assert features["hair_colour"] in {"brown", "blond"}
    assert features["hair_amount"] > 0.5
    rounded = {name: round(value, 3) if isinstance(value, float) else value for name, value in features.items()}
    print("astronaut features:", rounded)


@pytest.fixture(scope="module")
def uploaded(astronaut):
    """The astronaut's face as an upload analyses it (transform.photo_analysis), suggestions included."""
    (face,) = analyze_photo(astronaut)["faces"]
    return face


def test_astronaut_ranking_has_reasons_in_english_and_korean(uploaded):
    ranking = uploaded["suggested_breeds"]
    assert len(ranking) == 5
    assert [entry["score"] for entry in ranking] == sorted((entry["score"] for entry in ranking), reverse=True)
    assert ranking[0]["reasons"]
    for entry in ranking:
        assert 0 <= entry["score"] <= 1
        assert 2 <= len(entry["reasons"]) <= 3
        for code in entry["reasons"]:
            assert reasons_text(code, "en") != reasons_text(code, "ko-kr")
    assert reasons_text("brown_hair", "en") == "brown hair"
    assert reasons_text("droopy_eyes", "ko") == "처진 눈꼬리"


def test_ranking_is_by_score_with_ties_broken_by_slug(features):
    full = suggest_breeds(features, top=len(all_breeds()))
    assert [(-e["score"], e["slug"]) for e in full] == sorted((-e["score"], e["slug"]) for e in full)


def test_stretched_face_ranks_long_headed_breeds_first(landmarks, astronaut, features):
    stretch = lambda xy: xy.mean(axis=0) + (xy - xy.mean(axis=0)) * (1, 1.25)  # noqa: E731
    stretched = edited_features(landmarks, astronaut.size, stretch, features["hair_colour"])
    ranking = suggest_breeds(stretched)
    assert min(targets_of(ranking[:3], "face_length")) >= 0.5
    assert breed_terms(ranking[0]["slug"], axis_values(stretched), {"brown": 1.0})["face_length"][2] == "long_face"
    assert {"afghan-hound", "greyhound", "rough-collie", "doberman", "bull-terrier"} & {e["slug"] for e in ranking}


def test_squashed_face_ranks_round_headed_breeds_first(landmarks, astronaut, features):
    squash = lambda xy: xy.mean(axis=0) + (xy - xy.mean(axis=0)) * (1, 0.8)  # noqa: E731
    squashed = edited_features(landmarks, astronaut.size, squash, features["hair_colour"])
    ranking = suggest_breeds(squashed)
    assert max(targets_of(ranking[:3], "face_length")) <= -0.5
    assert breed_terms(ranking[0]["slug"], axis_values(squashed), {"brown": 1.0})["face_length"][2] == "round_face"
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
    droopy_eyed = [entry for entry in ranking if scoring_table()["breeds"][entry["slug"]]["eye_tilt"] <= -1]
    assert ranking[0] == droopy_eyed[0]
    assert breed_terms(ranking[0]["slug"], axis_values(drooped), {"brown": 1.0})["eye_tilt"][2] == "droopy_eyes"
    before = [entry["slug"] for entry in suggest_breeds(features, top=len(all_breeds()))]
    after = [entry["slug"] for entry in ranking]
    assert all(after.index(entry["slug"]) < before.index(entry["slug"]) for entry in droopy_eyed)


def test_mirrored_photo_and_landmarks_give_the_same_features_and_ranking(astronaut, landmarks, features):
    mirrored_landmarks = [[1 - x, y, z] for x, y, z in landmarks]
    mirrored = astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mirrored_features = face_features(mirrored_landmarks, mirrored.size, mirrored)
    assert mirrored_features["hair_colour"] == features["hair_colour"]
    assert mirrored_features["hair_shades"] == pytest.approx(features["hair_shades"], abs=0.002)
    numbers = {name: value for name, value in features.items() if name not in ("hair_colour", "hair_shades")}
    assert {name: mirrored_features[name] for name in numbers} == pytest.approx(numbers, rel=1e-9)
    assert suggestions_with_coats(mirrored_features, top=50) == suggestions_with_coats(features, top=50)


def test_a_mirrored_upload_gets_the_same_match_coat_and_hair(astronaut, uploaded):
    (mirrored,) = analyze_photo(astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT))["faces"]
    assert mirrored["hair"] == uploaded["hair"]
    first, mirrored_first = uploaded["suggested_breeds"][0], mirrored["suggested_breeds"][0]
    assert (mirrored_first["slug"], mirrored_first["coat"]) == (first["slug"], first["coat"])


def test_geometric_features_ignore_rotation_scale_translation_and_image_size(landmarks, astronaut):
    original = landmark_features(FaceFrame(landmarks, astronaut.size).points)
    angle = np.radians(25)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = np.array(landmarks)
    moved[:, :2] = ((moved[:, :2] * astronaut.size) @ turn.T * 1.7 + (300, 120)) / (1200, 900)
    assert landmark_features(FaceFrame(moved, (1200, 900)).points) == pytest.approx(original, rel=1e-9, abs=1e-9)


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
    reasons = [code for entry in suggestions_with_coats(measured) for code in entry["reasons"]]
    assert not any(code.endswith("_hair") for code in reasons)


def test_a_black_and_white_photo_names_no_hair_colour(astronaut, landmarks):
    grey = astronaut.convert("L").convert("RGB")
    measured = face_features(landmarks, grey.size, grey)
    assert measured["hair_amount"] > 0.5
    assert measured["hair_colour"] is None and measured["hair_shades"] == {}
    assert "coat" not in breed_terms("poodle", axis_values(measured), hair_shades_of(measured))


def test_hair_halfway_between_two_colours_counts_as_both_so_a_re_save_cannot_flip_the_coat(features):
    brown, grey = np.array(HAIR_PALETTE["brown"], float), np.array(HAIR_PALETTE["grey"], float)
    towards_grey = (grey - brown) / np.linalg.norm(grey - brown)
    middle = (brown + grey) / 2
    # 1 ΔE apart, as a re-save may move it: the likest colour flips, the shades hardly move.
    near_brown, near_grey = hair_shades(middle - towards_grey / 2), hair_shades(middle + towards_grey / 2)
    assert max(near_brown, key=near_brown.get) == "brown" and max(near_grey, key=near_grey.get) == "grey"
    assert abs(near_brown["brown"] - near_grey["brown"]) < 0.15

    def scores(shades, colour):
        return {e["slug"]: e["score"] for e in suggest_breeds({**features, "hair_colour": colour, "hair_shades": shades}, top=50)}

    soft = scores(near_brown, "brown"), scores(near_grey, "grey")
    hard = scores({"brown": 1.0}, "brown"), scores({"grey": 1.0}, "grey")
    assert max(abs(soft[0][slug] - soft[1][slug]) for slug in soft[0]) < 0.02
    assert max(abs(hard[0][slug] - hard[1][slug]) for slug in hard[0]) > 0.1


def test_coat_for_hair_recolours_only_breeds_with_several_coats():
    assert coat_for_hair("poodle", "black") == "black"
    assert coat_for_hair("poodle", "grey") == "grey"
    assert coat_for_hair("labrador-retriever", "blond") == "yellow"
    assert coat_for_hair("shiba-inu", "red") == "red"
    assert coat_for_hair("golden-retriever", "black") is None
    assert coat_for_hair("golden-retriever", "blond") is None
    assert coat_for_hair("samoyed", None) is None


def test_dark_hair_favours_black_coated_breeds_without_changing_single_coat_ones(features):
    def position(slug, hair):
        return [entry["slug"] for entry in suggest_breeds({**features, "hair_colour": hair}, top=50)].index(slug)

    assert position("rottweiler", "black") < position("rottweiler", "blond")
    assert position("golden-retriever", "black") > position("golden-retriever", "blond")
    assert breed_terms("golden-retriever", axis_values(features), {"black": 1.0})["coat"][1] == 0
    assert reasons_text("black_hair", "en") == "dark hair" and reasons_text("black_hair", "ko") == "어두운 머리색"


def test_every_catalogue_breed_has_a_complete_profile():
    table = scoring_table()
    assert "_doc" in table
    assert set(table["breeds"]) == {breed.slug for breed in all_breeds()}
    for slug, targets in table["breeds"].items():
        assert set(targets) == set(table["axes"]), slug
        assert all(-1.5 <= target <= 1.5 for target in targets.values()), slug
    assert len({tuple(targets.values()) for targets in table["breeds"].values()}) == len(table["breeds"])
    for breed in all_breeds():
        assert set(breed.coats) <= set(table["coat_hair"]), breed.slug
    hair_colours = {"black", "brown", "blond", "red", "grey", "white"}
    assert {colour for colours in table["coat_hair"].values() for colour in colours} <= hair_colours
    codes = {spec[side] for spec in table["axes"].values() for side in ("high", "low", "mid")} - {None}
    assert set(table["traits"]) == set(table["features"])
    codes |= {code for sides in table["traits"].values() for code in sides.values()}
    codes |= {f"{colour}_hair" for colour in hair_colours}
    assert codes == set(table["reasons"])
    assert all(set(words) == {"en", "ko"} for words in table["reasons"].values())
    assert set(table["weights"]) == set(table["axes"]) | {"coat"}
    assert {name for spec in table["axes"].values() for name in spec["reads"]} == set(table["features"])


def test_every_term_strength_stays_between_zero_and_one(features):
    values = axis_values(features)
    for breed in all_breeds():
        assert all(0 <= strength <= 1 for _, strength, _ in breed_terms(breed.slug, values, {"brown": 1.0}).values())


def test_each_score_is_the_weighted_mean_of_the_breeds_terms(features):
    values, shades = axis_values(features), hair_shades_of(features)
    scores = breed_scores(values, shades)
    assert set(scores) == {breed.slug for breed in all_breeds()}
    for slug, score in scores.items():
        terms = breed_terms(slug, values, shades).values()
        assert score == pytest.approx(sum(w * s for w, s, _ in terms) / sum(w for w, _, _ in terms), abs=5e-5)


def test_tied_with_next_is_set_exactly_where_the_next_score_is_within_the_margin(features):
    ranking = suggest_breeds(features, top=50)
    margin = scoring_table()["tie_margin"]
    for entry, following in zip(ranking, ranking[1:]):
        assert entry["tied_with_next"] == (round(entry["score"] - following["score"], 4) <= margin)
    assert ranking[-1]["tied_with_next"] is False


def test_suggestion_imports_nothing_from_the_generation_stack():
    heavy = ("torch", "diffusers", "transformers", "controlnet_aux")
    code = f"import sys, transform.suggest; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
