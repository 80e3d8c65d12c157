"""Different faces get different dogs: real faces, and a few hundred synthetic ones made from them."""

from collections import Counter

import numpy as np
import pytest

from tests import sample_images as samples
from tests.synthetic_faces import synthetic_faces
from transform.breeds import all_breeds
from transform.faces import analyze_faces
from transform.photo_analysis import analyze_photo
from transform.suggest import scoring_table, suggest_breeds

SYNTHETIC_FACES = 400
SEED = 20261126
REAL_FACES = {"astronaut": samples.astronaut, "grace hopper": samples.grace_hopper}


@pytest.fixture(scope="module")
def real_landmarks():
    """Each real face's landmarks in pixels (FaceFrame is scale-free, so any image size will do)."""
    found = {}
    for name, photo in REAL_FACES.items():
        image = photo()
        face = analyze_faces(image)["faces"][0]
        found[name] = (np.array(face["landmarks"])[:, :2] * image.size).tolist()
    return found


@pytest.fixture(scope="module")
def synthetic(real_landmarks):
    return synthetic_faces(list(real_landmarks.values()), SYNTHETIC_FACES, SEED)


@pytest.fixture(scope="module")
def synthetic_tops(synthetic):
    return Counter(suggest_breeds(face, top=1)[0]["slug"] for face in synthetic)


def test_synthetic_faces_spread_each_measurement_by_about_its_spread(synthetic):
    from_astronaut = synthetic[::2]
    for name, norm in scoring_table()["features"].items():
        spread = np.std([face[name] for face in from_astronaut])
        assert 0.75 * norm["spread"] < spread < 1.25 * norm["spread"], name


def test_no_breed_is_the_top_suggestion_for_more_than_a_tenth_of_synthetic_faces(synthetic_tops):
    breed, count = synthetic_tops.most_common(1)[0]
    print(f"\nmost common top breed: {breed}, {count}/{SYNTHETIC_FACES}; {len(synthetic_tops)} distinct")
    assert count <= 0.10 * SYNTHETIC_FACES


def test_at_least_35_breeds_are_someones_top_suggestion(synthetic_tops):
    assert len(synthetic_tops) >= 35
    assert set(synthetic_tops) <= {breed.slug for breed in all_breeds()}


def test_the_two_real_faces_get_different_dogs():
    tops = {name: analyze_photo(photo())["faces"][0]["suggested_breeds"][0]["slug"] for name, photo in REAL_FACES.items()}
    print(f"\n{tops}")
    assert len(set(tops.values())) == len(tops)
