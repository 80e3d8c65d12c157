"""AUTOMATIC1111 infotext (the `parameters` PNG text chunk) and PNGs that carry it.

Safe to import in the web process. Format: prompt line, optional `Negative prompt:` line, then
`Key: value` pairs joined by `, `; values containing `,`, `:` or a newline are JSON strings.
"""

import io
import json
from pathlib import PurePosixPath

from PIL.PngImagePlugin import PngInfo

CONTROLNET_MODULE = "mediapipe_face"
ENGINE_VERSION = "facetoanimals-diffusers"


def format_value(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}" if value == round(value, 6) else repr(value)
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
