import json

import pytest

from transform.params import (
    CONTROL_MODES,
    DEFAULT_PROMPT_TEMPLATE,
    SAMPLER_NAMES,
    SEED_MAX,
    GenerationParams,
    InvalidParams,
)


def test_defaults_are_the_recipe():
    params = GenerationParams.from_dict({})
    assert params.prompt_template == DEFAULT_PROMPT_TEMPLATE
    assert params.prompt_for("pug") == "dog, close up, (face portrait:1.1), front face, pug"
    assert (params.steps, params.cfg_scale, params.width, params.height) == (20, 7.0, 512, 512)
    assert (params.controlnet_scale, params.guidance_start, params.guidance_end) == (1.25, 0.0, 1.0)
    assert params.control_mode == "ControlNet is more important" and params.sampler == "DPM++ 2S a"
    assert params.mode == "txt2img"


@pytest.mark.parametrize("seed", [None, "", "-1", -1])
def test_random_seed_is_chosen_and_recorded(seed):
    params = GenerationParams.from_dict({"seed": seed})
    assert 0 <= params.seed <= SEED_MAX
    assert params.to_dict()["seed"] == params.seed


def test_form_strings_are_accepted_and_to_dict_is_json():
    params = GenerationParams.from_dict({"steps": "30", "cfg_scale": "5.5", "seed": "12", "width": "640"})
    assert (params.steps, params.cfg_scale, params.seed, params.width) == (30, 5.5, 12, 640)
    assert GenerationParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params


def test_every_invalid_field_gets_its_own_message():
    with pytest.raises(InvalidParams) as caught:
        GenerationParams.from_dict(
            {
                "steps": 0,
                "cfg_scale": "x",
                "seed": 2**32,
                "width": 300,
                "height": 1024,
                "controlnet_scale": 3,
                "sampler": "Heun",
                "control_mode": "Loud",
                "mode": "inpaint",
                "strength": 2,
                "prompt_template": "a dog",
                "colour": "red",
            }
        )
    assert set(caught.value.errors) == {
        "steps",
        "cfg_scale",
        "seed",
        "width",
        "height",
        "controlnet_scale",
        "sampler",
        "control_mode",
        "mode",
        "strength",
        "prompt_template",
        "colour",
    }
    assert "multiple of 64" in caught.value.errors["width"]


def test_guidance_start_must_precede_end():
    with pytest.raises(InvalidParams) as caught:
        GenerationParams.from_dict({"guidance_start": 0.6, "guidance_end": 0.4})
    assert set(caught.value.errors) == {"guidance_end"}


@pytest.mark.parametrize("template", ["{breed", "{breed} {coat}", "{breed} and {breed}", "{0}"])
def test_prompt_template_needs_exactly_one_breed_field(template):
    with pytest.raises(InvalidParams):
        GenerationParams.from_dict({"prompt_template": template})


def test_choices_are_exposed_for_forms():
    assert "DPM++ 2S a" in SAMPLER_NAMES and len(CONTROL_MODES) == 3


def test_img2img_needs_at_least_one_denoising_step():
    with pytest.raises(InvalidParams) as caught:
        GenerationParams.from_dict({"mode": "img2img", "steps": 3, "strength": 0.3})
    assert set(caught.value.errors) == {"strength"}
