""" "What about my face makes me this dog?": every suggestion shown says it in plain words.

The rules, on three real faces and 150 seeded synthetic ones (tests/synthetic_faces.py):
- every one of the top five gets at least two reasons, and at most max_reasons;
- each reason is something the face itself shows that the breed shares (checked here from the
  table, not from the code that chose it);
- a reason repeats within the top five only where the breed has fewer than two others to give;
- the terms that decided between a breed and the next stay available as `deciding`, for the tie.
"""

import numpy as np
import pytest

from tests import sample_images as samples
from tests.synthetic_faces import synthetic_faces
from transform.breeds import get_breed
from transform.faces import analyze_faces
from transform.photo_analysis import analyze_photo, steady_features
from transform.suggest import (
    axis_values,
    breed_terms,
    breed_traits,
    face_traits,
    hair_shades_of,
    reasons_text,
    scoring_table,
    suggest_breeds,
)

REAL_FACES = {"astronaut": samples.astronaut, "grace hopper": samples.grace_hopper, "cameraman": samples.cameraman}


@pytest.fixture(scope="module")
def real_faces():
    """{name: features} as an upload measures them."""
    found = {}
    for name, photo in REAL_FACES.items():
        image = photo()
        found[name] = steady_features(image, analyze_faces(image)["faces"][0])
    return found


@pytest.fixture(scope="module")
def faces(real_faces):
    """The real faces and 150 synthetic ones made from the astronaut and Grace Hopper."""
    landmark_sets = []
    for photo in (samples.astronaut(), samples.grace_hopper()):
        face = analyze_faces(photo)["faces"][0]
        landmark_sets.append((np.array(face["landmarks"])[:, :2] * photo.size).tolist())
    return list(real_faces.values()) + synthetic_faces(landmark_sets, 150, seed=30)


def shares(code, slug, features):
    """Whether the face shows what `code` says and the breed has it too, read from the table alone."""
    table = scoring_table()
    targets = table["breeds"][slug]
    if code.endswith("_hair"):
        colour = code.removesuffix("_hair")
        return features["hair_colour"] == colour and any(colour in table["coat_hair"][coat] for coat in get_breed(slug).coats)
    for axis, spec in table["axes"].items():
        if code == spec["mid"] and abs(axis_values(features)[axis]) < 0.5 and abs(targets[axis]) <= 0.5:
            return True
        for name, sign in spec["reads"].items():
            z = (features[name] - table["features"][name]["typical"]) / table["features"][name]["spread"]
            side = {table["traits"][name]["high"]: 1, table["traits"][name]["low"]: -1}.get(code)
            if side and side * z >= 0.5 and side * sign * targets[axis] >= 0.5:
                return True
    return False


def test_every_suggestion_shown_has_two_or_three_reasons(faces):
    for features in faces:
        for entry in suggest_breeds(features):
            assert 2 <= len(entry["reasons"]) <= scoring_table()["max_reasons"], entry


def test_the_cameramans_whippet_and_every_real_face_get_reasons_about_the_face(real_faces):
    whippet = suggest_breeds(real_faces["cameraman"])[0]
    assert whippet["slug"] == "whippet"
    assert "long_face" in whippet["reasons"]
    for features in real_faces.values():
        for entry in suggest_breeds(features):
            assert all(shares(code, entry["slug"], features) for code in entry["reasons"]), entry


def test_each_reason_is_something_the_face_shows_and_the_breed_shares(faces):
    for features in faces:
        for entry in suggest_breeds(features):
            assert all(shares(code, entry["slug"], features) for code in entry["reasons"]), (entry, features)


def test_a_reason_repeats_in_the_top_five_only_where_the_breed_has_too_few_fresh_ones(faces):
    repeated_somewhere = False
    for features in faces:
        shown = set()
        for entry in suggest_breeds(features):
            repeats = [code for code in entry["reasons"] if code in shown]
            if repeats:
                repeated_somewhere = True
                fresh = [code for code in breed_traits(entry["slug"], face_traits(features)) if code not in shown]
                assert len(fresh) < 2, (entry, fresh)
                assert len(entry["reasons"]) == 2
            shown.update(entry["reasons"])
    assert repeated_somewhere  # the rule was put to the test


def test_level_eyes_no_longer_explains_most_of_the_astronauts_top_five(real_faces):
    reasons = [entry["reasons"] for entry in suggest_breeds(real_faces["astronaut"])]
    assert sum("level_eyes" in codes for codes in reasons) <= 1
    assert all(len(codes) >= 2 for codes in reasons)


def test_the_deciding_terms_are_kept_for_the_tie_biggest_gain_first(real_faces):
    features = real_faces["astronaut"]
    for face in (features, {**features, "face_length": features["face_length"] * 1.2}, {**features, "eye_tilt": -6.0}):
        values, shades = axis_values(face), hair_shades_of(face)
        top, following = suggest_breeds(face, top=2)
        ours, theirs = breed_terms(top["slug"], values, shades), breed_terms(following["slug"], values, shades)
        gains = {code: weight * (strength - theirs[term][1]) for term, (weight, strength, code) in ours.items() if code}
        assert top["deciding"], face
        assert all(gains[code] > 0 for code in top["deciding"])
        assert [gains[code] for code in top["deciding"]] == sorted((gains[code] for code in top["deciding"]), reverse=True)
        assert top["deciding"][0] == max(gains, key=gains.get)


def test_a_hair_reason_names_the_coat_it_matches_in_both_languages():
    assert reasons_text("black_hair", "en", coat="black") == "dark hair → black coat"
    assert reasons_text("blond_hair", "ko", coat="golden") == "금발 → 골드 털"
    assert reasons_text("black_hair", "en") == "dark hair"


def test_an_uploaded_photo_stores_reasons_and_deciding_terms():
    face = analyze_photo(samples.cameraman())["faces"][0]
    entry = face["suggested_breeds"][0]
    assert set(entry) == {"slug", "score", "reasons", "deciding", "tied_with_next", "coat"}
    assert len(entry["reasons"]) >= 2
