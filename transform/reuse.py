"""Reuse settings from any A1111 infotext (ours, AUTOMATIC1111's, Forge's): generate-form values, the
breed when it is one of ours, and every value left out with the reason. Pure: text in, values out."""

import re
from dataclasses import dataclass, field

from transform import params
from transform.breeds import all_breeds, get_breed, is_breed
from transform.infotext import CONTROLNET_MODULE, ENGINE_VERSION, parse_infotext, parse_pairs

# Why a value was left out; gallery.png_params words each reason for people.
HIRES, LORA, EMBEDDING, MODEL, SAMPLER, EXTRA_UNIT, MODULE, INVALID, UNSUPPORTED = (
    "hires",
    "lora",
    "embedding",
    "model",
    "sampler",
    "extra_controlnet_unit",
    "controlnet_module",
    "invalid",
    "unsupported",
)
# Keys that describe the engine rather than the picture: left out silently from our own PNGs.
OUR_ENGINE_KEYS = {"Model", "Scheduler", "Breed"}
# Not a setting of anyone's: never listed.
INFORMATION_KEYS = {"Version"}
OUR_UNIT_KEYS = {"module", "model", "resize mode", "low vram", "processor res", "pixel perfect"}
MODEL_KEYS = {"Model", "Model hash", "VAE", "VAE hash"}
SIZE = re.compile(r"([0-9]+)x([0-9]+)")


@dataclass
class ReusedSettings:
    params: dict = field(default_factory=dict)  # generate-form field name -> value
    breed: str | None = None
    ignored: list = field(default_factory=list)  # (key, reason code)

    def take(self, name, key, value):
        """Keep a form value if it passes the form's own checks, else list its key as invalid."""
        try:
            self.params[name] = params.check_value(name, value)
        except ValueError:
            self.ignored.append((key, INVALID))


def reuse_settings(text):
    """ReusedSettings for an infotext."""
    infotext = parse_infotext(text)
    pairs = dict(infotext.pairs)
    ours = pairs.get("Version") == ENGINE_VERSION
    reused = ReusedSettings()

    breed = pairs.get("Breed") if is_breed(pairs.get("Breed", "")) else None
    reused.breed, template = prompt_template(infotext.prompt, breed)
    reused.take("prompt_template", "Prompt", template)
    reused.take("negative_prompt", "Negative prompt", infotext.negative_prompt)

    for key, name in (("Steps", "steps"), ("CFG scale", "cfg_scale"), ("Seed", "seed")):
        if key in pairs:
            reused.take(name, key, pairs.pop(key))
    if "Sampler" in pairs:
        _sampler(reused, pairs.pop("Sampler"), pairs.pop("Schedule type", ""))
    if "Size" in pairs:
        _size(reused, pairs.pop("Size"))
    hires = any(key.startswith("Hires ") for key in pairs)
    if "Denoising strength" in pairs and not hires:
        reused.params["mode"] = "img2img"
        reused.take("strength", "Denoising strength", pairs.pop("Denoising strength"))
    else:
        reused.params["mode"] = "txt2img"
    units = sorted(key for key in pairs if re.fullmatch(r"ControlNet( [0-9]+)?", key))
    if units:
        _controlnet_unit(reused, units[0], parse_pairs(pairs.pop(units[0])), ours)
    for key in pairs:
        if key not in INFORMATION_KEYS and not (ours and key in OUR_ENGINE_KEYS):
            reused.ignored.append((key, reason_for(key, hires)))
    _check_guidance_order(reused)
    return reused


def reason_for(key, hires):
    if key.startswith("Hires ") or (hires and key == "Denoising strength"):
        return HIRES
    if key == "Lora hashes":
        return LORA
    if key == "TI hashes":
        return EMBEDDING
    if key in MODEL_KEYS:
        return MODEL
    if key.startswith("ControlNet"):
        return EXTRA_UNIT
    return UNSUPPORTED


def breed_fragments(breed):
    """The words a breed puts in a prompt, longest first (a coat colour in front where it has several)."""
    coats = [f"{coat} {breed.prompt}" for coat in breed.coats] if len(breed.coats) > 1 else []
    return sorted([*coats, breed.prompt], key=len, reverse=True)


def prompt_template(prompt, breed_slug=None):
    """(breed slug or None, template): the prompt with its breed words replaced by {breed}.

    A prompt without one of our breeds keeps all its words and gets {breed} at the end.
    """
    escaped = prompt.replace("{", "{{").replace("}", "}}")
    if len(prompt) > 2 * params.PROMPT_MAX_LENGTH:
        return None, escaped  # too long for the form whatever its breed words: not searched once per breed
    candidates = [get_breed(breed_slug)] if breed_slug else all_breeds()
    # A named breed is found anywhere ("퍼그pug" too); guessed ones only as whole words.
    edge = "" if breed_slug else r"\b"
    # The breed words that end last (recipes put the breed at the end), the longest where several do.
    matches = [
        (match.end(), -match.start(), breed.slug)
        for breed in candidates
        for words in breed_fragments(breed)
        for match in re.finditer(rf"{edge}{re.escape(words)}{edge}", escaped, re.IGNORECASE)
    ]
    if not matches:
        return None, f"{escaped}, {{breed}}" if escaped else "{breed}"
    end, start, slug = max(matches)
    return slug, escaped[:-start] + "{breed}" + escaped[end:]


def _sampler(reused, name, schedule):
    """A1111 1.9+ and Forge name the schedule apart: "DPM++ 2M" + "Karras" is our "DPM++ 2M Karras"."""
    if schedule.lower() == "karras" and not name.endswith("Karras"):
        name = f"{name} Karras"
    elif schedule and schedule.lower() != "automatic":
        reused.ignored.append(("Schedule type", SAMPLER))
    if name in params.SAMPLER_NAMES:
        reused.params["sampler"] = name
    else:
        reused.ignored.append(("Sampler", SAMPLER))


def _size(reused, text):
    """Both sides or neither: half a size would give a picture of a shape nobody asked for."""
    size = SIZE.fullmatch(text.strip())
    try:
        if not size:
            raise ValueError("not WIDTHxHEIGHT")
        width, height = params.check_value("width", size[1]), params.check_value("height", size[2])
    except ValueError:
        reused.ignored.append(("Size", INVALID))
    else:
        reused.params.update(width=width, height=height)


def _controlnet_unit(reused, key, unit, ours):
    """A ControlNet block, in the current ("Weight", "Guidance Start") or older ("weight", "starting/ending") words."""
    unit = {name.lower(): value for name, value in unit.items()}
    module = unit.pop("module", unit.pop("preprocessor", CONTROLNET_MODULE))
    if module != CONTROLNET_MODULE:
        reused.ignored.append((f"{key}: Module", MODULE))
    if "weight" in unit:
        reused.take("controlnet_scale", f"{key}: Weight", unit.pop("weight"))
    if "starting/ending" in unit:
        start, _, end = unit.pop("starting/ending").strip("()").partition(",")
        unit.update({"guidance start": start.strip(), "guidance end": end.strip()})
    for name, form_name in (("guidance start", "guidance_start"), ("guidance end", "guidance_end")):
        if name in unit:
            reused.take(form_name, f"{key}: {name.title()}", unit.pop(name))
    if "control mode" in unit:
        reused.take("control_mode", f"{key}: Control Mode", unit.pop("control mode"))
    for name in unit:
        if not (ours and name in OUR_UNIT_KEYS):
            reused.ignored.append((f"{key}: {name}", MODEL if name == "model" else UNSUPPORTED))


def _check_guidance_order(reused):
    start = reused.params.get("guidance_start", params.GenerationParams.guidance_start)
    end = reused.params.get("guidance_end", params.GenerationParams.guidance_end)
    if start >= end:
        for name, key in (("guidance_start", "Guidance Start"), ("guidance_end", "Guidance End")):
            if reused.params.pop(name, None) is not None:
                reused.ignored.append((key, INVALID))
