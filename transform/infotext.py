"""AUTOMATIC1111 infotext (the `parameters` PNG text chunk) and PNGs that carry it.

Safe to import in the web process. Format: prompt line, optional `Negative prompt:` line, then
`Key: value` pairs joined by `, `; values containing `,`, `:` or a newline are JSON strings.
Both the prompt and the negative prompt may span several lines.
"""

import io
import json
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL.PngImagePlugin import PngInfo

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

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NEGATIVE_PREFIX = "Negative prompt:"
# A1111's own pattern (modules/infotext_utils.py), plus parenthesised values such as the old ControlNet
# block's "starting/ending: (0, 1)", which it writes unquoted although they contain a comma.
PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|\([^)]*\)|[^,]*)(?:,|$)')
# A compressed text chunk may not inflate beyond this (a zip bomb in a tiny PNG).
MAX_TEXT_BYTES = 1024 * 1024


class NotAPng(ValueError):
    pass


@dataclass(frozen=True)
class Infotext:
    prompt: str
    negative_prompt: str
    pairs: dict  # "Key" -> value, JSON-quoted values unquoted


def parse_pairs(line):
    """{"Key": "value"} for a `Key: value, Key: "quoted, value"` line (also a ControlNet block's inside)."""
    pairs = {}
    for key, value in PAIR.findall(line):
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
    if len(PAIR.findall(lines[-1])) >= 3:
        pairs = parse_pairs(lines.pop())
    prompt, negative = [], None
    for line in lines:
        if negative is None and line.lstrip().startswith(NEGATIVE_PREFIX):
            negative = [line.lstrip()[len(NEGATIVE_PREFIX) :]]
        elif negative is None:
            prompt.append(line)
        else:
            negative.append(line)
    return Infotext("\n".join(prompt).strip(), "\n".join(negative or []).strip(), pairs)


def read_png_parameters(data):
    """The `parameters` text of a PNG's tEXt, zTXt or iTXt chunk (None if it has none), without decoding pixels."""
    if not data.startswith(PNG_SIGNATURE):
        raise NotAPng("Not a PNG file.")
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IEND":
            break
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            key, _, rest = body.partition(b"\0")
            if key == b"parameters":
                return _chunk_text(kind, rest)
    return None


def _chunk_text(kind, rest):
    try:
        if kind == b"tEXt":
            return rest.decode("latin-1")
        if kind == b"zTXt":
            return _inflate(rest[1:]).decode("latin-1")
        compressed, _method, rest = rest[0], rest[1], rest[2:]
        _language, _, rest = rest.partition(b"\0")
        _translated, _, text = rest.partition(b"\0")
        return (_inflate(text) if compressed else text).decode("utf-8")
    except (IndexError, UnicodeDecodeError, zlib.error):
        raise NotAPng("Its text chunk is damaged.") from None


def _inflate(data):
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, MAX_TEXT_BYTES)
    if inflater.unconsumed_tail:
        raise zlib.error("text chunk too large")
    return text
