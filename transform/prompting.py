"""A1111 prompt weighting, applied with compel.

A1111: `(text:1.3)` weight 1.3, `(text)` x1.1, `[text]` /1.1, nested brackets multiply, `\\(` is a
literal parenthesis. compel writes a weight as `(text)1.3`, so prompts are translated first.
"""

import math
import re
from typing import Any

from compel import CompelForSD

ATTENTION_STEP = 1.1
# A1111 reads a weight as `[+-]?[.\d]+`, which also matches "1.2.3" and "." (its float() raises) and other scripts'
# digits; here a weight is finite ASCII digits with at most one point, and anything else stays words.
_TOKENS = re.compile(r"\\[()\[\]\\]|\\|\(|\[|:\s*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))\s*\)|\)|]|[^\\()\[\]:]+|:")
# compel gives these characters meaning; a backslash makes them literal.
_COMPEL_SPECIAL = re.compile(r'([()"])')


def parse_attention(prompt):
    """[(text, weight), ...] for an A1111 prompt, adjacent equal weights merged; unclosed brackets still count."""
    chunks: list[list[Any]] = []  # [text, weight] pairs, weights adjusted as brackets close
    round_open, square_open = [], []
    for match in _TOKENS.finditer(prompt):
        token, weight = match.group(0), match.group(1)
        if token.startswith("\\") and len(token) == 2:
            chunks.append([token[1], 1.0])
        elif token == "(":
            round_open.append(len(chunks))
        elif token == "[":
            square_open.append(len(chunks))
        elif weight is not None and round_open and math.isfinite(float(weight)):
            _multiply(chunks, round_open.pop(), float(weight))
        elif token == ")" and round_open:
            _multiply(chunks, round_open.pop(), ATTENTION_STEP)
        elif token == "]" and square_open:
            _multiply(chunks, square_open.pop(), 1 / ATTENTION_STEP)
        else:
            chunks.append([token, 1.0])
    for start in round_open:
        _multiply(chunks, start, ATTENTION_STEP)
    for start in square_open:
        _multiply(chunks, start, 1 / ATTENTION_STEP)
    merged: list[tuple[str, float]] = []
    for text, weight in chunks:
        if merged and merged[-1][1] == weight:
            merged[-1] = (merged[-1][0] + text, weight)
        else:
            merged.append((text, weight))
    return merged


def _multiply(chunks, start, factor):
    for chunk in chunks[start:]:
        chunk[1] *= factor


def to_compel(prompt):
    """The same prompt in compel's syntax: `(text)weight` for every weighted run."""
    parts = []
    for text, weight in parse_attention(prompt):
        escaped = _COMPEL_SPECIAL.sub(r"\\\1", text)
        if round(weight, 4) == 1:
            parts.append(escaped)
        elif escaped.strip():
            parts.append(f"{_leading_space(escaped)}({escaped.strip()}){round(weight, 4):g}{_trailing_space(escaped)}")
    return "".join(parts)


def _leading_space(text):
    return text[: len(text) - len(text.lstrip())]


def _trailing_space(text):
    return text[len(text.rstrip()) :]


def encode_prompts(pipeline, prompt, negative_prompt):
    """(prompt_embeds, negative_prompt_embeds) for the pipeline, weighted, padded to the same length."""
    conditioning = CompelForSD(pipeline, device=pipeline.device)(to_compel(prompt), to_compel(negative_prompt))
    return conditioning.embeds, conditioning.negative_embeds
