"""AUTOMATIC1111 infotext (the `parameters` PNG text chunk) and PNGs that carry it.

Safe to import in the web process. Format: prompt line, optional `Negative prompt:` line, then
`Key: value` pairs joined by `, `; values containing `,`, `:` or a newline are JSON strings.
Both the prompt and the negative prompt may span several lines.
"""

import io
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL.PngImagePlugin import PngInfo

from transform import image_structure

CONTROLNET_MODULE = "mediapipe_face"
ENGINE_VERSION = "facetoanimals-diffusers"


def format_value(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # Whole numbers as A1111 writes them ("CFG scale: 7"); anything else exactly, so it reads back the same.
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ",:\n") else text


def format_pairs(pairs):
    return ", ".join(f"{key}: {format_value(value)}" for key, value in pairs.items() if value is not None)


def model_name(location):
    """A short model name for a Hub id or a local directory: its last path component."""
    return PurePosixPath(str(location).rstrip("/").replace("\\", "/")).name


def build_infotext(prompt, params, *, sd_model, controlnet_model, scheduler, breed):
    """The infotext for one generation; params: validated GenerationParams with its seed."""
    controlnet_unit = {
        "Module": CONTROLNET_MODULE,
        "Model": model_name(controlnet_model),
        "Weight": params.controlnet_scale,
        "Resize Mode": "Crop and Resize",
        "Low Vram": False,
        "Processor Res": min(params.width, params.height),
        "Guidance Start": params.guidance_start,
        "Guidance End": params.guidance_end,
        "Pixel Perfect": False,
        "Control Mode": params.control_mode,
    }
    pairs = {
        "Steps": params.steps,
        "Sampler": params.sampler,
        "CFG scale": params.cfg_scale,
        "Seed": params.seed,
        "Size": f"{params.width}x{params.height}",
        "Model": model_name(sd_model),
        "Denoising strength": params.strength if params.mode == "img2img" else None,
        "ControlNet 0": format_pairs(controlnet_unit),
        # The diffusers scheduler that stood in for the A1111 sampler named above.
        "Scheduler": scheduler,
        "Breed": breed,
        "Version": ENGINE_VERSION,
    }
    lines = [prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    lines.append(format_pairs(pairs))
    return "\n".join(lines)


def png_bytes(image, infotext=None):
    """The image as PNG bytes, with the infotext (when given) in a `parameters` text chunk."""
    metadata = PngInfo()
    if infotext is not None:
        metadata.add_text("parameters", infotext)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=metadata)
    return buffer.getvalue()


# --- Reading ---------------------------------------------------------------------------------

NEGATIVE_PREFIX = "Negative prompt:"
# Any kind of text chunk, compressed or not, is read up to this many bytes (inflated): A1111 writes a few KB.
MAX_TEXT_BYTES = 64 * 1024


class NotAPng(ValueError):
    pass


class TextTooLong(NotAPng):
    pass


class TooManyChunks(NotAPng):
    pass


@dataclass(frozen=True)
class Infotext:
    prompt: str
    negative_prompt: str
    pairs: dict  # "Key" -> value, JSON-quoted values unquoted


def parse_pairs(line):
    """{"Key": "value"} for a `Key: value, Key: "quoted, value"` line (also a ControlNet block's inside)."""
    return _unquoted(find_pairs(line))


def _unquoted(found):
    pairs = {}
    for key, value in found:
        value = value.strip()
        if len(value) > 1 and value[0] == value[-1] == '"':
            try:
                value = json.loads(value)
            except ValueError:
                pass
        pairs[key.strip()] = value
    return pairs


def parse_infotext(text):
    """The prompt, negative prompt and pairs of an A1111 infotext, as A1111's own reader splits it."""
    lines = text.strip().split("\n")
    pairs = {}
    found = find_pairs(lines[-1])
    if len(found) >= 3:
        pairs = _unquoted(found)
        lines.pop()
    prompt, negative = [], None
    for line in lines:
        if negative is None and line.lstrip().startswith(NEGATIVE_PREFIX):
            negative = [line.lstrip()[len(NEGATIVE_PREFIX) :]]
        elif negative is None:
            prompt.append(line)
        else:
            negative.append(line)
    return Infotext("\n".join(prompt).strip(), "\n".join(negative or []).strip(), pairs)


# A1111's own pattern (modules/infotext_utils.py) is `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`, to
# which we add parenthesised values such as the old ControlNet block's "starting/ending: (0, 1)", written
# unquoted although they contain a comma. re.findall with it backtracks: a run of key characters with no
# colon after it is scanned again from each of its characters, so time grew with the square of the line.
# find_pairs finds exactly what findall finds, skipping each run once it has failed as a whole.
_SPACE = re.compile(r"\s*")
_KEY_START = re.compile(r"\w")
_KEY_REST = re.compile(r"[\w \-/]*")
_QUOTED = re.compile(r'"(?:\\.|[^\\"])++"')


def find_pairs(line):
    """[(key, raw value), ...] as re.findall with A1111's pattern gives them, in time linear in the line."""
    found, position, end = [], 0, len(line)
    next_paren = _NextCharacter(line, ")")
    while position < end:
        key_start = _SPACE.match(line, position).end()  # type: ignore[union-attr]  # matches the empty run too
        if key_start == end:
            break
        if not _KEY_START.match(line, key_start):
            position = key_start + 1  # every start from `position` up to here fails the same way
            continue
        key_end = _KEY_REST.match(line, key_start + 1).end()  # type: ignore[union-attr]  # matches the empty run too
        if key_end - key_start < 2 or not line.startswith(":", key_end):
            # Each start inside the run sees the same end of the run, without a colon: skip it whole.
            position = key_end
            continue
        value_start = _SPACE.match(line, key_end + 1).end()  # type: ignore[union-attr]  # matches the empty run too
        value_end = None
        if line.startswith('"', value_start):
            quoted = _QUOTED.match(line, value_start)
            if quoted and _ends_value(line, quoted.end()):
                value_end = quoted.end()
        elif line.startswith("(", value_start):
            closing = next_paren.find(value_start + 1)
            if closing >= 0 and _ends_value(line, closing + 1):
                value_end = closing + 1
        if value_end is None:
            comma = line.find(",", value_start)
            value_end = end if comma < 0 else comma
        found.append((line[key_start:key_end], line[value_start:value_end]))
        position = value_end + 1 if line.startswith(",", value_end) else max(value_end, position + 1)
    return found


def _ends_value(line, index):
    """Whether `(?:,|$)` matches at index: a comma, the end, or a last newline."""
    return index == len(line) or line[index] == "," or (index == len(line) - 1 and line[index] == "\n")


class _NextCharacter:
    """The first `character` at or after a position, for positions that only grow: each part of the line is
    searched once, however many unclosed brackets ask."""

    def __init__(self, line, character):
        self.line, self.character = line, character
        self.searched_from, self.found = len(line) + 1, -1

    def find(self, start):
        if not (self.searched_from <= start and (self.found < 0 or self.found >= start)):
            self.searched_from, self.found = start, self.line.find(self.character, start)
        return self.found


def read_png_parameters(data):
    """The `parameters` text of a PNG's tEXt, zTXt or iTXt chunk (None if it has none), without decoding pixels.

    NotAPng if it is not a PNG or the chunk is damaged; TextTooLong past MAX_TEXT_BYTES (inflated or not);
    TooManyChunks past image_structure.MAX_PARTS chunks."""
    if not data.startswith(image_structure.PNG_SIGNATURE):
        raise NotAPng("Not a PNG file.")
    try:
        for kind, start, end in image_structure.png_chunks(data):
            if kind in image_structure.PNG_TEXT_CHUNKS:
                key, _, rest = data[start:end].partition(b"\0")
                if key == b"parameters":
                    return _chunk_text(kind, rest)
    except image_structure.TooManyParts:
        raise TooManyChunks("Too many chunks.") from None
    return None


def _chunk_text(kind, rest):
    try:
        if kind == b"tEXt":
            return _bounded(rest).decode("latin-1")
        if kind == b"zTXt":
            return _inflate(rest[1:]).decode("latin-1")
        compressed, _method, rest = rest[0], rest[1], rest[2:]
        _language, _, rest = rest.partition(b"\0")
        _translated, _, text = rest.partition(b"\0")
        return (_inflate(text) if compressed else _bounded(text)).decode("utf-8")
    except (IndexError, UnicodeDecodeError, zlib.error):
        raise NotAPng("Its text chunk is damaged.") from None


def _bounded(text):
    if len(text) > MAX_TEXT_BYTES:
        raise TextTooLong(f"The settings text is longer than {MAX_TEXT_BYTES} bytes.")
    return text


def _inflate(data):
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    return _bounded(text)
