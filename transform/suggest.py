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
# Standard scores beyond this many spreads are measurement trouble (a turned head), not a trait.
MAX_Z = 3.0
REASON_AT = 0.5


@lru_cache(maxsize=1)
def scoring_table():
    return json.loads(TRAITS_PATH.read_text(encoding="utf-8"))


def suggest_for_face(image, face, top=5):
    """The landmark JSON's `suggested_breeds` (docs/API.md) for one face: its PIL RGB image and a dict with "landmarks".

    Each entry also carries "coat": the coat colour to ask for, matched to the hair (None to keep
    the breed's own).
    """
    return suggestions_with_coats(face_features(face["landmarks"], image.size, image), top)


def suggestions_with_coats(features, top=5):
    return [
        {**entry, "coat": coat_for_hair(entry["slug"], features.get("hair_colour"))} for entry in suggest_breeds(features, top)
    ]


def suggest_breeds(features, top=5):
    """[{"slug", "score" (0..1), "reasons": [reason code, ...], "tied_with_next": bool}, ...] best first,
    ties by slug. `tied_with_next`: the next breed in the full ranking scores within the tie margin."""
    table = scoring_table()
    values = axis_values(features)
    hair = features.get("hair_colour")
    ranked = []
    for breed in all_breeds():
        terms = breed_terms(breed.slug, values, hair)
        score = sum(weight * strength for weight, strength, _ in terms.values()) / sum(w for w, _, _ in terms.values())
        ranked.append({"slug": breed.slug, "score": round(score, 4), "terms": terms})
    ranked.sort(key=lambda entry: (-entry["score"], entry["slug"]))
    for position, entry in enumerate(ranked):
        following = ranked[position + 1] if position + 1 < len(ranked) else None
        # The last breed is explained against the one above it.
        entry["reasons"] = _deciding_reasons(table, entry["terms"], (following or ranked[position - 1])["terms"])
        gap = round(entry["score"] - following["score"], 4) if following else None
        entry["tied_with_next"] = gap is not None and gap <= table["tie_margin"]
    return [{key: entry[key] for key in ("slug", "score", "reasons", "tied_with_next")} for entry in ranked[:top]]


def axis_values(features):
    """{axis: value in spreads}: how long the face is, how square the jaw, how tilted the eyes, ..."""
    table = scoring_table()
    z = {
        name: float(np.clip((features[name] - norm["typical"]) / norm["spread"], -MAX_Z, MAX_Z))
        for name, norm in table["features"].items()
    }
    return {
        axis: float(sum(sign * z[name] for name, sign in spec["reads"].items()) / np.sqrt(len(spec["reads"])))
        for axis, spec in table["axes"].items()
    }


def breed_terms(slug, values, hair_colour):
    """{term: (weight, strength 0..1, reason code or None)} of one breed for a face's axis_values()
    and hair colour; the score is the weighted mean of the strengths."""
    # Targets run from -1 to +1; a face beyond `reach` (a very long face) counts as at reach, so it
    # suits the extreme breeds best instead of suiting none.
    table = scoring_table()
    closeness, reach = table["closeness"], table["reach"]
    terms = {
        axis: (
            table["weights"][axis],
            float(np.exp(-((np.clip(values[axis], -reach, reach) - target) ** 2) / (2 * closeness**2))),
            _axis_reason(table["axes"][axis], values[axis]),
        )
        for axis, target in table["breeds"][slug].items()
    }
    if hair_colour:
        terms["coat"] = (table["weights"]["coat"], _coat_strength(get_breed(slug).coats, hair_colour), f"{hair_colour}_hair")
    return terms


def _axis_reason(axis, value):
    """What the face shows on an axis: its "high" reason from half a spread above typical, "low" from
    half a spread below, "mid" (maybe None: nothing worth saying) in between."""
    return axis["high"] if value >= REASON_AT else axis["low"] if value <= -REASON_AT else axis["mid"]


def _deciding_reasons(table, terms, rival_terms):
    """The reason codes of the terms that lift a breed most above its rival, biggest gain first."""
    gains = sorted(
        (weight * (strength - rival_terms[term][1]), code)
        for term, (weight, strength, code) in terms.items()
        if code and term in rival_terms
    )
    deciding = [code for gain, code in reversed(gains) if gain >= table["min_reason_gain"]]
    return deciding[: table["max_reasons"]]


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
