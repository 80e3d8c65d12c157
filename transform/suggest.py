""" "Which dog am I?": a deterministic, explainable breed ranking from face measurements.

The whole scoring table lives in data/breed_traits.json (explained in docs/BREEDS.md); this module
only applies it. Safe to import in the web process.
"""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from .breeds import all_breeds, get_breed
from .face_features import face_features

TRAITS_PATH = Path(__file__).with_name("data") / "breed_traits.json"


@lru_cache(maxsize=1)
def scoring_table():
    return json.loads(TRAITS_PATH.read_text(encoding="utf-8"))


def suggest_for_face(image, face, top=5):
    """The CONTRACT's `suggested_breeds` for one face: its PIL RGB image and a dict with "landmarks".

    Each entry also carries "coat": the coat colour to ask for, matched to the hair (None to keep
    the breed's own).
    """
    return suggestions_with_coats(face_features(face["landmarks"], image.size, image), top)


def suggestions_with_coats(features, top=5):
    return [
        {**entry, "coat": coat_for_hair(entry["slug"], features.get("hair_colour"))} for entry in suggest_breeds(features, top)
    ]


def suggest_breeds(features, top=5):
    """[{"slug", "score" (0..1), "reasons": [reason code, ...]}, ...] best first, ties by slug."""
    table = scoring_table()
    strengths = trait_strengths(features)
    hair = features.get("hair_colour")
    ranked = []
    for breed in all_breeds():
        terms = [
            (table["weights"][term], strengths[term][value], table["traits"][term][value]["reason"])
            for term, value in table["breeds"][breed.slug].items()
        ]
        if hair:
            terms.append((table["weights"]["coat"], _coat_strength(breed.coats, hair), f"{hair}_hair"))
        score = sum(weight * strength for weight, strength, _ in terms) / sum(weight for weight, _, _ in terms)
        strongest_first = sorted(terms, key=lambda term: (-term[0] * term[1], term[2]))
        reasons = [code for _, strength, code in strongest_first if strength >= table["min_reason_strength"]]
        ranked.append({"slug": breed.slug, "score": round(score, 4), "reasons": reasons[: table["max_reasons"]]})
    ranked.sort(key=lambda entry: (-entry["score"], entry["slug"]))
    return ranked[:top]


def trait_strengths(features):
    """{trait: {value: 0..1}}: how strongly the face shows, e.g., a long head or droopy eyes."""
    table = scoring_table()
    z = {name: (features[name] - norm["typical"]) / norm["spread"] for name, norm in table["features"].items()}
    strengths = {}
    for trait, values in table["traits"].items():
        read = {
            value: _ramp(np.mean([sign * z[name] for name, sign in spec["reads"].items()]), table["dead_zone"])
            for value, spec in values.items()
            if "reads" in spec
        }
        strongest = max(read.values())
        read.update({value: 1 - strongest for value, spec in values.items() if spec.get("rest")})
        strengths[trait] = read
    return strengths


def coat_for_hair(breed_slug, hair_colour):
    """The breed's coat that best suits the hair colour, or None where the breed has one coat or none suits."""
    coats = get_breed(breed_slug).coats
    coat_hair = scoring_table()["coat_hair"]
    if len(coats) < 2:
        return None
    suited = [
        (coat_hair[coat].index(hair_colour), position, coat)
        for position, coat in enumerate(coats)
        if hair_colour in coat_hair[coat]
    ]
    return min(suited)[2] if suited else None


def reasons_text(reason_code, lang="en"):
    """Plain words for a reason code, in Korean for a "ko…" language and English otherwise."""
    words = scoring_table()["reasons"][reason_code]
    return words["ko"] if lang.startswith("ko") else words["en"]


def _coat_strength(coats, hair_colour):
    suits = [hair_colour in scoring_table()["coat_hair"][coat] for coat in coats]
    if suits[0]:
        return 1.0
    return scoring_table()["other_coat"] if any(suits) else 0.0


def _ramp(signed_z, dead_zone):
    """0 up to dead_zone spreads past typical, rising to 1 at one spread: average faces show no trait."""
    return float(np.clip((signed_z - dead_zone) / (1 - dead_zone), 0, 1))
