"""Numbers written by people (form fields, a PNG's settings, environment variables), read strictly.

Python's int() and float() accept more than a person means by a number: other scripts' digits
("٣" is 3), "1_000", surrounding spaces, "+1", "inf", "nan" and "1e400" (infinite, so int() of it
raises OverflowError); and str.isdigit() is true for "²", which int() refuses. These accept ASCII
digits only, so every caller refuses the rest with its own sentence instead of guessing or raising.
"""

import math
import re

_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
# Longer text is refused unread: no setting needs more digits, and int() of a long string costs time.
MAX_LENGTH = 40


def parse_integer(value, *, negative=True):
    """An int from an int, or from text of ASCII digits (a leading "-" only when `negative`); ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and (negative or value >= 0):
        return value
    if isinstance(value, str) and len(value) <= MAX_LENGTH and _INTEGER.fullmatch(value):
        if negative or not value.startswith("-"):
            return int(value)
    raise ValueError(f"not a whole number: {str(value)[:MAX_LENGTH]!r}")


def parse_decimal(value):
    """A finite float from an int, a float, or text of ASCII digits with an optional point and exponent;
    ValueError otherwise (infinities, NaN and numbers beyond a float's range included)."""
    number = math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a float's range
            pass
    elif isinstance(value, str) and len(value) <= MAX_LENGTH and _DECIMAL.fullmatch(value):
        number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a number: {str(value)[:MAX_LENGTH]!r}")
    return number
