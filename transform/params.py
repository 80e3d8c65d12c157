"""Generation parameters: choices, defaults (the original A1111 recipe) and validation.

Safe to import in the web process: no torch, diffusers or controlnet_aux here.
"""

import random
from dataclasses import asdict, dataclass, fields, replace

from transform.prompt_template import TemplateError, check_template, render_prompt
from transform.strict_numbers import parse_decimal, parse_integer


def _(message):
    """Marks a message for the translation catalogue (makemessages finds `_()`); whoever shows it translates.

    Not Django's gettext_noop, which reads the settings even though it translates nothing."""
    return message


DEFAULT_PROMPT_TEMPLATE = "dog, close up, (face portrait:1.1), front face, {breed}"
DEFAULT_NEGATIVE_PROMPT = (
    "human, person, man, woman, text, watermark, signature, lowres, blurry, jpeg artifacts, "
    "deformed, disfigured, bad anatomy, extra eyes, cropped"
)

# A1111 sampler names; transform.samplers maps each to a diffusers scheduler.
SAMPLER_NAMES = ("Euler a", "Euler", "DPM++ 2M", "DPM++ 2M Karras", "DPM++ 2S a", "DPM++ SDE Karras", "DDIM", "UniPC")
# The ControlNet extension's control modes, in its own words.
CONTROL_MODES = ("Balanced", "My prompt is more important", "ControlNet is more important")
MODES = ("txt2img", "img2img")

STEPS_RANGE = (1, 100)
CFG_SCALE_RANGE = (1.0, 20.0)
SIZE_RANGE = (256, 768)
SIZE_MULTIPLE = 64
CONTROLNET_SCALE_RANGE = (0.0, 2.0)
SEED_MAX = 2**32 - 1
PROMPT_MAX_LENGTH = 1000


class Problem(str):
    """One field's validation message: the English text, with its untranslated template and values
    so that the web layer can show it translated: gettext(problem.template) % problem.values."""

    template: str
    values: dict

    def __new__(cls, template, **values):
        problem = super().__new__(cls, template % values if values else template)
        problem.template = template
        problem.values = values
        return problem


# Equal in every generation of one batch; the prompts, the seed and the images may differ.
BATCH_SHARED = (
    "width",
    "height",
    "steps",
    "sampler",
    "mode",
    "cfg_scale",
    "control_mode",
    "controlnet_scale",
    "guidance_start",
    "guidance_end",
    "strength",
)


class InvalidParams(ValueError):
    """Parameters that fail validation; `errors` maps each field name to a Problem."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


def random_seed():
    return random.SystemRandom().randint(0, SEED_MAX)


@dataclass(frozen=True)
class GenerationParams:
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    steps: int = 20
    cfg_scale: float = 7.0
    seed: int | None = None
    width: int = 512
    height: int = 512
    controlnet_scale: float = 1.25
    guidance_start: float = 0.0
    guidance_end: float = 1.0
    control_mode: str = "ControlNet is more important"
    sampler: str = "DPM++ 2S a"
    mode: str = "txt2img"
    # img2img only: how much of the person's photo is repainted (1 = all of it).
    strength: float = 0.75

    @classmethod
    def from_dict(cls, data):
        """Validated parameters from form or JSON data (strings accepted); missing fields take the defaults.

        A missing, empty or -1 seed (A1111's "random") becomes a random seed here, so it is always recorded.
        """
        known = {f.name for f in fields(cls)}
        errors = {name: Problem(_("Unknown parameter.")) for name in data if name not in known}
        values = {}
        for name, check in _CHECKS.items():
            if name not in data:
                continue
            try:
                values[name] = check(data[name])
            except ValueError as error:
                errors[name] = error.args[0]
        if not errors:
            start, end = values.get("guidance_start", 0.0), values.get("guidance_end", 1.0)
            if start >= end:
                errors["guidance_end"] = Problem(_("Must be greater than guidance start."))
        if not errors and values.get("mode") == "img2img":
            # diffusers runs int(steps x strength) steps; none at all would return noise.
            if int(values.get("steps", cls.steps) * values.get("strength", cls.strength)) < 1:
                errors["strength"] = Problem(_("Too low for this many steps: no denoising step would run."))
        if errors:
            raise InvalidParams(errors)
        return cls(**values).with_seed()

    def with_seed(self):
        """These parameters with a concrete seed (a random one where none was chosen)."""
        return self if self.seed is not None else replace(self, seed=random_seed())

    def prompt_for(self, breed_words):
        return render_prompt(self.prompt_template, breed_words)

    def to_dict(self):
        return asdict(self)

    def batch_key(self):
        """What generations must share to be rendered in one batched pipeline call."""
        return tuple(getattr(self, name) for name in BATCH_SHARED)


def default_side(native_side):
    """The default width and height for a pipeline whose own image side is `native_side` pixels, within
    SIZE_RANGE and a multiple of SIZE_MULTIPLE."""
    low, high = SIZE_RANGE
    side = min(max(int(native_side), low), high)
    return side - side % SIZE_MULTIPLE


def check_value(name, value):
    """One parameter validated on its own (ValueError with the reason); from_dict also checks them together."""
    return _CHECKS[name](value)


def _number(kind, low, high):
    def check(value):
        try:
            number = parse_integer(value) if kind is int else parse_decimal(value)
        except ValueError:
            raise ValueError(Problem(_("Must be a whole number.") if kind is int else _("Must be a number."))) from None
        if not low <= number <= high:
            raise ValueError(Problem(_("Must be between %(low)s and %(high)s."), low=f"{low:g}", high=f"{high:g}"))
        return number

    return check


def _size(value):
    number = _number(int, *SIZE_RANGE)(value)
    if number % SIZE_MULTIPLE:
        raise ValueError(Problem(_("Must be a multiple of %(multiple)d."), multiple=SIZE_MULTIPLE))
    return number


def _seed(value):
    if value is None or value == "" or str(value).strip() == "-1":
        return None
    return _number(int, 0, SEED_MAX)(value)


def _choice(choices):
    def check(value):
        if value not in choices:
            raise ValueError(Problem(_("Must be one of: %(choices)s."), choices=", ".join(choices)))
        return value

    return check


def _text(value):
    if not isinstance(value, str):
        raise ValueError(Problem(_("Must be text.")))
    if len(value) > PROMPT_MAX_LENGTH:
        raise ValueError(Problem(_("At most %(length)d characters."), length=PROMPT_MAX_LENGTH))
    return value.strip()


# Why a prompt template is refused (transform.prompt_template.TemplateError's codes), in words.
TEMPLATE_PROBLEMS = {
    "brace": _("A brace stands alone: write {breed} where the breed goes, and a brace itself twice: {{, }}."),
    "field": _("“%(field)s” is not allowed: only {breed} may stand in braces, and a brace itself is written twice: {{, }}."),
    "count": _("Write {breed} exactly once, where the breed goes."),
}


def _prompt_template(value):
    value = _text(value)
    try:
        check_template(value)
    except TemplateError as error:
        values = {"field": error.field} if error.code == "field" else {}
        raise ValueError(Problem(TEMPLATE_PROBLEMS[error.code], **values)) from None
    return value


_CHECKS = {
    "prompt_template": _prompt_template,
    "negative_prompt": _text,
    "steps": _number(int, *STEPS_RANGE),
    "cfg_scale": _number(float, *CFG_SCALE_RANGE),
    "seed": _seed,
    "width": _size,
    "height": _size,
    "controlnet_scale": _number(float, *CONTROLNET_SCALE_RANGE),
    "guidance_start": _number(float, 0.0, 1.0),
    "guidance_end": _number(float, 0.0, 1.0),
    "control_mode": _choice(CONTROL_MODES),
    "sampler": _choice(SAMPLER_NAMES),
    "mode": _choice(MODES),
    "strength": _number(float, 0.0, 1.0),
}
