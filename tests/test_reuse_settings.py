"""Reading A1111 infotext back: the parser against real A1111 lines, and write → read round trips."""

import io
import zlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from transform import params as p
from transform.breeds import all_breeds, get_breed
from transform.infotext import NotAPng, build_infotext, parse_infotext, png_bytes, read_png_parameters
from transform.reuse import breed_fragments, reuse_settings

# AUTOMATIC1111 1.6 with the ControlNet extension, Hires fix, a LoRA and an embedding.
A1111_HIRES = (
    "masterpiece, best quality, <lora:add_detail:0.6>, 강아지 초상화, black pug, 🐶\n"
    "Negative prompt: (worst quality:1.4), easynegative,\n"
    "lowres, bad hands\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 1234567890, Size: 512x768, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.45, Clip skip: 2, "
    'ControlNet 0: "Module: mediapipe_face, Model: control_v2p_sd15_mediapipe_face [9c7784a9], Weight: 0.8, '
    "Resize Mode: Crop and Resize, Low Vram: False, Processor Res: 512, Guidance Start: 0.1, Guidance End: 0.9, "
    'Pixel Perfect: True, Control Mode: My prompt is more important, Save Detected Map: True", '
    "Hires upscale: 2, Hires steps: 15, Hires upscaler: R-ESRGAN 4x+ Anime6B, "
    'Lora hashes: "add_detail: 7c6bad76eb54", TI hashes: "easynegative: c74b4e810b03", Version: v1.6.0'
)
# The ControlNet extension before 1.1.4 wrote its unit lower-case, with an unquoted "(start, end)".
A1111_OLD_CONTROLNET = (
    "portrait of a shiba inu, studio light\n"
    "Negative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model hash: cc6cb27103, "
    'ControlNet 0: "preprocessor: mediapipe_face, model: control_v2p_sd15_mediapipe_face [9c7784a9], weight: 1.1, '
    "starting/ending: (0.05, 0.95), resize mode: Crop and Resize, pixel perfect: False, control mode: Balanced, "
    'preprocessor params: (512, 1, 0.5)", Version: v1.3.2'
)
# Forge and A1111 1.9+ name the schedule apart from the sampler; an img2img with a second ControlNet unit.
FORGE_IMG2IMG = (
    "a cat astronaut, {dynamic|prompts}\n"
    "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5, Seed: 7, Size: 1024x1024, "
    'Denoising strength: 0.6, ControlNet 0: "Module: canny, Model: control_canny, Weight: 1", '
    'ControlNet 1: "Module: depth, Model: control_depth, Weight: 0.5", Version: f0.0.17v1.8.0rc'
)

# A1111 1.9: "Schedule type", VAE keys and a LoRA and embeddings from a LCM setup.
A1111_LCM = (
    "1girl on stage, <lora:LCM_15:1>\n"
    "Negative prompt: badhandv4,\n"
    "Steps: 6, Sampler: LCM, Schedule type: Automatic, CFG scale: 1.5, Seed: 3748719078, Size: 768x1024, "
    "Model hash: 19bbe9faa4, Model: fantasticmix_k2, VAE hash: 07af11b95c, VAE: vae-ft-mse-840000-ema-pruned.safetensors, "
    'Clip skip: 2, Lora hashes: "LCM_15: aaebf6360f7d", TI hashes: "badhandv4: 5e40d722fc3d", '
    "Downcast alphas_cumprod: True, Version: v1.9.4"
)


def test_the_prompt_and_a_negative_prompt_over_two_lines_are_split_like_a1111():
    infotext = parse_infotext(A1111_HIRES)
    assert infotext.prompt == "masterpiece, best quality, <lora:add_detail:0.6>, 강아지 초상화, black pug, 🐶"
    assert infotext.negative_prompt == "(worst quality:1.4), easynegative,\nlowres, bad hands"


def test_quoted_values_with_commas_are_one_value():
    pairs = parse_infotext(A1111_HIRES).pairs
    assert pairs["Lora hashes"] == "add_detail: 7c6bad76eb54"
    assert pairs["TI hashes"] == "easynegative: c74b4e810b03"
    assert pairs["ControlNet 0"].startswith("Module: mediapipe_face, Model: control_v2p")
    assert pairs["Version"] == "v1.6.0"


def test_a1111_controlnet_settings_fill_the_form():
    reused = reuse_settings(A1111_HIRES)
    assert reused.params == {
        "prompt_template": "masterpiece, best quality, <lora:add_detail:0.6>, 강아지 초상화, {breed}, 🐶",
        "negative_prompt": "(worst quality:1.4), easynegative,\nlowres, bad hands",
        "steps": 28,
        "sampler": "DPM++ 2M Karras",
        "cfg_scale": 7.5,
        "seed": 1234567890,
        "width": 512,
        "height": 768,
        "controlnet_scale": 0.8,
        "guidance_start": 0.1,
        "guidance_end": 0.9,
        "control_mode": "My prompt is more important",
        "mode": "txt2img",
    }
    assert reused.breed == "pug"


def test_hires_lora_embeddings_and_models_are_listed_as_ignored_with_their_reason():
    ignored = dict(reuse_settings(A1111_HIRES).ignored)
    assert ignored["Hires upscale"] == ignored["Hires steps"] == ignored["Hires upscaler"] == "hires"
    assert ignored["Denoising strength"] == "hires"  # it belongs to the Hires pass here, not to img2img
    assert (ignored["Lora hashes"], ignored["TI hashes"]) == ("lora", "embedding")
    assert ignored["Model"] == ignored["Model hash"] == "model"
    assert ignored["Clip skip"] == "unsupported"
    assert "Version" not in ignored


def test_the_older_controlnet_block_with_an_unquoted_start_and_end_is_read():
    reused = reuse_settings(A1111_OLD_CONTROLNET)
    assert (reused.params["guidance_start"], reused.params["guidance_end"]) == (0.05, 0.95)
    assert (reused.params["controlnet_scale"], reused.params["control_mode"]) == (1.1, "Balanced")
    assert (reused.breed, reused.params["prompt_template"]) == ("shiba-inu", "portrait of a {breed}, studio light")


def test_forge_schedule_type_img2img_and_other_units_are_understood():
    reused = reuse_settings(FORGE_IMG2IMG)
    assert reused.params["sampler"] == "DPM++ 2M Karras"
    assert (reused.params["mode"], reused.params["strength"]) == ("img2img", 0.6)
    assert reused.breed is None
    assert reused.params["prompt_template"] == "a cat astronaut, {{dynamic|prompts}}, {breed}"
    assert reused.params["negative_prompt"] == ""
    ignored = dict(reused.ignored)
    assert (ignored["Size"], ignored["ControlNet 0: Module"], ignored["ControlNet 1"]) == (
        "invalid",
        "controlnet_module",
        "extra_controlnet_unit",
    )


def test_an_unoffered_sampler_and_sizes_out_of_range_are_listed_and_the_rest_kept():
    reused = reuse_settings(A1111_LCM)
    assert (reused.params["steps"], reused.params["cfg_scale"], reused.params["seed"]) == (6, 1.5, 3748719078)
    assert "width" not in reused.params and "height" not in reused.params  # a size is taken whole or not at all
    assert reused.ignored == [
        ("Sampler", "sampler"),
        ("Size", "invalid"),
        ("Model hash", "model"),
        ("Model", "model"),
        ("VAE hash", "model"),
        ("VAE", "model"),
        ("Clip skip", "unsupported"),
        ("Lora hashes", "lora"),
        ("TI hashes", "embedding"),
        ("Downcast alphas_cumprod", "unsupported"),
    ]


def test_a_schedule_type_other_than_automatic_or_karras_is_listed():
    reused = reuse_settings("a pug\nSteps: 20, Sampler: Euler, Schedule type: Exponential, CFG scale: 7")
    assert (reused.params["sampler"], reused.ignored) == ("Euler", [("Schedule type", "sampler")])


def png_with_text(chunk_kind, text):
    metadata = PngInfo()
    if chunk_kind == "iTXt-zip":
        metadata.add_itxt("parameters", text, zip=True)
    elif chunk_kind == "iTXt":
        metadata.add_itxt("parameters", text)
    else:
        metadata.add_text("parameters", text)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG", pnginfo=metadata)
    return buffer.getvalue()


@pytest.mark.parametrize("chunk_kind", ["tEXt", "iTXt", "iTXt-zip"])
def test_the_parameters_chunk_is_read_from_each_kind_of_text_chunk(chunk_kind):
    text = "강아지 pug\nSteps: 3, Sampler: Euler, CFG scale: 7" if chunk_kind != "tEXt" else "pug\nSteps: 3"
    assert read_png_parameters(png_with_text(chunk_kind, text)) == text


def test_a_png_without_parameters_reads_as_none():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    assert read_png_parameters(buffer.getvalue()) is None


def test_anything_but_a_png_is_refused():
    with pytest.raises(NotAPng):
        read_png_parameters(b"GIF89a" + b"\0" * 40)


def test_a_text_chunk_inflating_beyond_a_megabyte_is_refused():
    bomb = zlib.compress(b"a" * (2 * 1024 * 1024))
    chunk = b"parameters\0\1\0\0\0" + bomb
    data = b"\x89PNG\r\n\x1a\n" + len(chunk).to_bytes(4, "big") + b"iTXt" + chunk + b"\0\0\0\0"
    with pytest.raises(NotAPng):
        read_png_parameters(data)


# --- write → read ------------------------------------------------------------------------------

BREEDS = all_breeds()
TEXT = st.text(st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="{}") | st.just("\n"), max_size=60)


@st.composite
def form_settings(draw):
    """(GenerationParams, breed slug, coat): any parameter set the generate form accepts."""
    breed = draw(st.sampled_from(BREEDS))
    coat = draw(st.sampled_from([None, *breed.coats]))
    before, after = draw(TEXT), draw(TEXT)
    template = f"{before}{{breed}}{after}".strip()
    words = [w.lower() for w in breed_fragments(breed)] + [c.lower() for c in breed.coats]
    assume(not any(w in template.lower() for w in words))
    negative = draw(TEXT).strip()
    assume("negative prompt:" not in (template + negative).lower())
    start = draw(st.floats(0, 1))
    end = draw(st.floats(0, 1))
    assume(start < end)
    values = {
        "prompt_template": template,
        "negative_prompt": negative,
        "steps": draw(st.integers(*p.STEPS_RANGE)),
        "cfg_scale": draw(st.floats(*p.CFG_SCALE_RANGE)),
        "seed": draw(st.integers(0, p.SEED_MAX)),
        "width": draw(st.sampled_from(range(p.SIZE_RANGE[0], p.SIZE_RANGE[1] + 1, p.SIZE_MULTIPLE))),
        "height": draw(st.sampled_from(range(p.SIZE_RANGE[0], p.SIZE_RANGE[1] + 1, p.SIZE_MULTIPLE))),
        "controlnet_scale": draw(st.floats(*p.CONTROLNET_SCALE_RANGE)),
        "guidance_start": start,
        "guidance_end": end,
        "control_mode": draw(st.sampled_from(p.CONTROL_MODES)),
        "sampler": draw(st.sampled_from(p.SAMPLER_NAMES)),
        "mode": draw(st.sampled_from(p.MODES)),
        "strength": draw(st.floats(0, 1)),
    }
    try:
        parameters = p.GenerationParams.from_dict(values)
    except p.InvalidParams:
        assume(False)
    return parameters, breed.slug, coat


@settings(max_examples=300, deadline=None)
@given(form_settings())
def test_every_parameter_set_the_form_allows_survives_write_then_read(drawn):
    parameters, slug, coat = drawn
    infotext = build_infotext(
        parameters.prompt_for(get_breed(slug).prompt_fragment(coat)),
        parameters,
        sd_model="stable-diffusion-v1-5/stable-diffusion-v1-5",
        controlnet_model="CrucibleAI/ControlNetMediaPipeFace",
        scheduler="EulerAncestralDiscreteScheduler(steps_offset=1)",
        breed=slug,
    )
    reused = reuse_settings(read_png_parameters(png_bytes(Image.new("RGB", (8, 8)), infotext)))
    expected = parameters.to_dict()
    if parameters.mode == "txt2img":
        del expected["strength"]  # only img2img uses (and records) it
    assert (reused.params, reused.breed, reused.ignored) == (expected, slug, [])
