import io

from PIL import Image
from sd_parsers import ParserManager

from transform.infotext import build_infotext, format_pairs, png_bytes
from transform.params import GenerationParams


def make_infotext(**changes):
    params = GenerationParams(seed=999672668, **changes)
    return build_infotext(
        params.prompt_for("pug"),
        params,
        sd_model="stable-diffusion-v1-5/stable-diffusion-v1-5",
        controlnet_model="CrucibleAI/ControlNetMediaPipeFace",
        scheduler="DDIMScheduler(a=1, b=2)",
        breed="pug",
    )


def test_infotext_lines_follow_a1111():
    prompt, negative, pairs = make_infotext().split("\n")
    assert prompt == "dog, close up, (face portrait:1.1), front face, pug"
    assert negative.startswith("Negative prompt: human, person")
    assert pairs.startswith("Steps: 20, Sampler: DPM++ 2S a, CFG scale: 7, Seed: 999672668, Size: 512x512, ")
    assert (
        'ControlNet 0: "Module: mediapipe_face, Model: ControlNetMediaPipeFace, Weight: 1.25, Resize Mode: Crop and Resize, '
    ) in pairs
    assert 'Control Mode: ControlNet is more important"' in pairs
    assert 'Scheduler: "DDIMScheduler(a=1, b=2)"' in pairs
    assert "Denoising strength" not in pairs
    assert "Denoising strength: 0.5" in make_infotext(mode="img2img", strength=0.5)


def test_values_with_separators_are_json_quoted():
    assert format_pairs({"A": "x, y", "B": 'say "hi": now', "C": "line\nbreak", "D": 1.0}) == (
        r'A: "x, y", B: "say \"hi\": now", C: "line\nbreak", D: 1'
    )


def test_sd_parsers_reads_our_png_back():
    infotext = make_infotext(steps=23, cfg_scale=6.5)
    parsed = ParserManager().parse(Image.open(io.BytesIO(png_bytes(Image.new("RGB", (8, 8)), infotext))))
    (sampler,) = parsed.samplers
    assert sampler.name == "DPM++ 2S a"
    assert sampler.parameters == {"cfg_scale": "6.5", "seed": "999672668", "steps": "23"}
    assert [p.value for p in sampler.prompts] == ["dog, close up, (face portrait:1.1), front face, pug"]
    assert sampler.negative_prompts[0].value.startswith("human, person")
