""" "Which dog am I?": a deterministic, explainable breed ranking from face measurements.

The whole scoring table lives in data/breed_traits.json (explained in docs/BREEDS.md); this module
only applies it. Safe to import in the web process.
"""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from .breeds import all_breeds, coat_name, get_breed

TRAITS_PATH = Path(__file__).with_name("data") / "breed_traits.json"
# Standard scores beyond this many spreads are measurement trouble (a turned head), not a trait.
MAX_Z = 3.0
REASON_AT = 0.5


@lru_cache(maxsize=1)
def scoring_table():
    return json.loads(TRAITS_PATH.read_text(encoding="utf-8"))


def suggestions_with_coats(features, top=5, views=()):
    """The landmark JSON's `suggested_breeds` (docs/API.md) from a face's measurements (face_features,
    averaged over `views` by transform.photo_analysis). Each entry also carries "coat": the coat colour
    to ask for, matched to the hair (None to keep the breed's own)."""
    hair = features.get("hair_colour")
    return [{**entry, "coat": coat_for_hair(entry["slug"], hair)} for entry in suggest_breeds(features, top, views)]


def suggest_breeds(features, top=5, views=()):
    """[{"slug", "score" (0..1), "reasons": [reason code, ...], "deciding": [reason code, ...],
    "tied_with_next": bool}, ...] best first, ties by slug.

    `reasons`: two or three plain things about the face that the breed shares (face_traits), the
    most telling first, preferring ones no better-placed breed already shows. `deciding`: the terms
    that lift the breed most above the next one in the full ranking (what tips a tie).
    `tied_with_next`: the next breed scores within the tie margin or, given `views` (the geometric
    measurements of each FaceMesh view that `features` averages), within view_tie_spreads times
    the spread of the gap between the two over those views: a small face's views disagree more."""
    table = scoring_table()
    shades = hair_shades_of(features)
    values = axis_values(features)
    scores = breed_scores(values, shades)
    ranked = [{"slug": slug, "score": score} for slug, score in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]
    by_view = [breed_scores(axis_values({**features, **view}), shades) for view in views]
    for position, entry in enumerate(ranked[:top]):
        following = ranked[position + 1] if position + 1 < len(ranked) else None
        # The last breed is explained against the one above it.
        rival = (following or ranked[position - 1])["slug"]
        entry["deciding"] = _deciding_reasons(
            table, breed_terms(entry["slug"], values, shades), breed_terms(rival, values, shades)
        )
        if following is None:
            entry["tied_with_next"] = False
            continue
        gaps = [view_scores[entry["slug"]] - view_scores[following["slug"]] for view_scores in by_view]
        margin = max(table["tie_margin"], table["view_tie_spreads"] * float(np.std(gaps)) if gaps else 0)
        entry["tied_with_next"] = round(entry["score"] - following["score"], 4) <= margin
    shown = ranked[:top]
    traits = face_traits(features)
    shown_before: set[str] = set()
    for entry in shown:
        entry["reasons"] = _plain_reasons(table, breed_traits(entry["slug"], traits), shown_before)
        shown_before.update(entry["reasons"])
    return [{key: entry[key] for key in ("slug", "score", "reasons", "deciding", "tied_with_next")} for entry in shown]


def breed_scores(values, hair_shades):
    """{slug: score} of every breed for a face's axis_values() and hair shades: the weighted mean of
    its breed_terms()' strengths, for all breeds at once (an upload ranks each FaceMesh view too)."""
    table = scoring_table()
    slugs, axes, _, weights = _breed_table()
    totals = _axis_strengths(values) @ weights
    weight = weights.sum()
    if hair_shades:
        totals = totals + table["weights"]["coat"] * np.array([_coat_term(slug, hair_shades) for slug in slugs])
        weight += table["weights"]["coat"]
    return {slug: round(float(total / weight), 4) for slug, total in zip(slugs, totals)}


@lru_cache(maxsize=1)
def _breed_table():
    """(slugs in catalogue order, axes in table order, the breeds x axes targets, the axes' weights)."""
    table = scoring_table()
    slugs, axes = [breed.slug for breed in all_breeds()], list(table["axes"])
    targets = np.array([[table["breeds"][slug][axis] for axis in axes] for slug in slugs])
    return slugs, axes, targets, np.array([table["weights"][axis] for axis in axes])


def _axis_strengths(values):
    """The breeds x axes term strengths: exp(-(value - target)^2 / (2 closeness^2)), the value held within reach."""
    # Targets run from -1 to +1; a face beyond `reach` (a very long face) counts as at reach, so it
    # suits the extreme breeds best instead of suiting none.
    table = scoring_table()
    _, axes, targets, _ = _breed_table()
    face = np.clip([values[axis] for axis in axes], -table["reach"], table["reach"])
    return np.exp(-((face - targets) ** 2) / (2 * table["closeness"] ** 2))


def hair_shades_of(features):
    """{hair colour: share} of a face's features: its `hair_shades` where they agree with its
    `hair_colour`, else all of the hair colour (features made without pixels, or edited)."""
    colour, shades = features.get("hair_colour"), features.get("hair_shades") or {}
    if colour and shades and max(shades, key=lambda shade: shades[shade]) == colour:
        return shades
    return {colour: 1.0} if colour else {}


def axis_values(features):
    """{axis: value in spreads}: how long the face is, how square the jaw, how tilted the eyes, ..."""
    table = scoring_table()
    z = feature_scores(features)
    return {
        axis: float(sum(sign * z[name] for name, sign in spec["reads"].items()) / np.sqrt(len(spec["reads"])))
        for axis, spec in table["axes"].items()
    }


def feature_scores(features):
    """{feature: standard score}: how far each measurement is from typical, in spreads, clipped to ±MAX_Z."""
    return {
        name: float(np.clip((features[name] - norm["typical"]) / norm["spread"], -MAX_Z, MAX_Z))
        for name, norm in scoring_table()["features"].items()
    }


def breed_terms(slug, values, hair_shades):
    """{term: (weight, strength 0..1, reason code or None)} of one breed for a face's axis_values()
    and hair shades ({colour: share}, hair_shades_of()); breed_scores() is the weighted mean of the strengths."""
    table = scoring_table()
    slugs, axes, _, weights = _breed_table()
    strengths = _axis_strengths(values)[slugs.index(slug)]
    terms = {
        axis: (float(weight), float(strength), _axis_reason(table["axes"][axis], values[axis]))
        for axis, weight, strength in zip(axes, weights, strengths)
    }
    if hair_shades:
        likest = max(hair_shades, key=hair_shades.get)
        terms["coat"] = (table["weights"]["coat"], _coat_term(slug, hair_shades), f"{likest}_hair")
    return terms


def _coat_term(slug, hair_shades):
    """The coat term's strength: each shade's _coat_strength, weighted by its share."""
    coats = get_breed(slug).coats
    return float(sum(share * _coat_strength(coats, colour) for colour, share in hair_shades.items()))


def face_traits(features):
    """[(reason code, axis, side, how telling)]: what stands out in the face, one entry per measurement
    half a spread or more from typical (side +1 above, -1 below, as its axis reads it); the face's
    "mid" words for axes it is average on (side 0); and its hair colour (axis "coat")."""
    table = scoring_table()
    z = feature_scores(features)
    values = axis_values(features)
    traits = []
    for axis, spec in table["axes"].items():
        for name, sign in spec["reads"].items():
            if abs(z[name]) >= REASON_AT:
                code = table["traits"][name]["high" if z[name] > 0 else "low"]
                weight = table["weights"][axis] * min(abs(z[name]), table["reach"]) / np.sqrt(len(spec["reads"]))
                traits.append((code, axis, int(np.sign(z[name] * sign)), weight))
        if spec["mid"] and abs(values[axis]) < REASON_AT:
            traits.append((spec["mid"], axis, 0, table["weights"][axis] * REASON_AT / 2))
    hair = features.get("hair_colour")
    if hair:
        traits.append((f"{hair}_hair", "coat", 0, table["weights"]["coat"] * hair_shades_of(features).get(hair, 1.0)))
    return traits


def breed_traits(slug, traits):
    """The face_traits() a breed shares, most telling first: a measurement on the side where the breed
    is at least half a spread out too, an average one where the breed is within half a spread of
    average, and hair that one of the breed's coats suits."""
    targets = scoring_table()["breeds"][slug]
    coats = get_breed(slug).coats
    shared = []
    for code, axis, side, weight in traits:
        if axis == "coat":
            strength = _coat_strength(coats, code.removesuffix("_hair"))
            if strength:
                shared.append((weight * strength, code))
        elif side == 0 and abs(targets[axis]) <= REASON_AT or side and side * targets[axis] >= REASON_AT:
            shared.append((weight * max(abs(targets[axis]), REASON_AT), code))
    return [code for _, code in sorted(shared, key=lambda item: (-item[0], item[1]))]


def _plain_reasons(table, shared, shown_before):
    """Up to max_reasons of a breed's shared traits, fresh ones first; at least min_reasons where it
    has that many, repeating what a better-placed breed shows only to get there."""
    fresh = [code for code in shared if code not in shown_before][: table["max_reasons"]]
    repeats = [code for code in shared if code in shown_before][: max(0, table["min_reasons"] - len(fresh))]
    return [code for code in shared if code in fresh or code in repeats]


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


def reasons_text(reason_code, lang="en", coat=None):
    """Plain words for a reason code, in Korean for a "ko…" language and English otherwise. A hair
    colour with the coat it matches (a catalogue coat name) reads "dark hair → black coat"."""
    korean = lang.startswith("ko")
    words = scoring_table()["reasons"][reason_code]["ko" if korean else "en"]
    if coat and reason_code.endswith("_hair"):
        return f"{words} → {coat_name(coat, lang)} 털" if korean else f"{words} → {coat} coat"
    return words


@lru_cache(maxsize=512)
def _coat_strength(coats, hair_colour):
    """1 where the breed's typical coat suits the hair colour, other_coat where another of its coats does, else 0."""
    suits = [hair_colour in scoring_table()["coat_hair"][coat] for coat in coats]
    if suits[0]:
        return 1.0
    return scoring_table()["other_coat"] if any(suits) else 0.0
