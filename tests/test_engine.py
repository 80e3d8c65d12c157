import numpy as np
import pytest

from tests.face_helpers import astronaut, landmark_json
from transform.params import CONTROL_MODES, SAMPLER_NAMES, GenerationParams

# The tiny pipeline works at 64x64 (below the web's 256 minimum), so parameters are built directly.
FAST = dict(width=64, height=64, steps=3, seed=1234)


@pytest.fixture(scope="module")
def face():
    return landmark_json(astronaut())["faces"][0]


def generate(engine, face, **changes):
    return engine.generate(astronaut(), face, GenerationParams(**{**FAST, **changes}), "pug")


def test_same_params_and_seed_give_identical_pixels(tiny_engine, face):
    first, second = generate(tiny_engine, face), generate(tiny_engine, face)
    assert first.image.size == (64, 64)
    assert np.array_equal(np.asarray(first.image), np.asarray(second.image))
    assert not np.array_equal(np.asarray(first.image), np.asarray(generate(tiny_engine, face, seed=1235).image))


def test_result_records_seed_scheduler_infotext_and_timings(tiny_engine, face):
    result = generate(tiny_engine, face, seed=None)
    assert 0 <= result.seed < 2**32 and result.params["seed"] == result.seed
    assert result.params["scheduler"].startswith("DPMSolverSinglestepScheduler(algorithm_type=sde-dpmsolver++")
    assert f"Seed: {result.seed}," in result.infotext and "Sampler: DPM++ 2S a" in result.infotext
    assert result.timings["model_load"] == 0.0
    assert {"prepare", "inference", "encode", "total"} <= set(result.timings)
    assert result.png.startswith(b"\x89PNG") and result.face_crop.size == result.control_image.size == (64, 64)


def test_engine_loads_once(tiny_engine):
    assert tiny_engine.load() == 0.0


def test_on_step_sees_every_step_and_cancel_stops_at_once(tiny_engine, face):
    from transform.engine import GenerationCancelled

    seen = []
    tiny_engine.generate(astronaut(), face, GenerationParams(**FAST), "pug", on_step=lambda *a: seen.append(a[:2]))
    assert seen == [(1, 3), (2, 3), (3, 3)]

    seen.clear()
    with pytest.raises(GenerationCancelled):
        tiny_engine.generate(
            astronaut(),
            face,
            GenerationParams(**FAST),
            "pug",
            on_step=lambda *a: seen.append(a[0]),
            should_cancel=lambda: len(seen) >= 1,
        )
    assert seen == [1]


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_every_sampler_runs(tiny_engine, face, sampler):
    assert generate(tiny_engine, face, sampler=sampler, steps=2).image.size == (64, 64)


def test_control_modes_and_weight_change_the_result(tiny_engine, face):
    images = [np.asarray(generate(tiny_engine, face, control_mode=mode).image) for mode in CONTROL_MODES]
    images.append(np.asarray(generate(tiny_engine, face, controlnet_scale=0.0).image))
    for i, image in enumerate(images):
        for other in images[i + 1 :]:
            assert not np.array_equal(image, other)


def test_img2img_starts_from_the_photo_and_txt2img_only_from_its_landmarks(tiny_engine, face):
    from PIL import ImageOps

    inverted = ImageOps.invert(astronaut())

    def pixels(photo, **changes):
        params = GenerationParams(**{**FAST, **changes})
        return np.asarray(tiny_engine.generate(photo, face, params, "pug").image)

    img2img = dict(mode="img2img", strength=0.5, steps=6)
    assert not np.array_equal(pixels(astronaut(), **img2img), pixels(inverted, **img2img))
    assert np.array_equal(pixels(astronaut()), pixels(inverted))


def test_unusable_face_is_refused_before_inference(tiny_engine):
    from transform.head_crop import InvalidFace

    with pytest.raises(InvalidFace):
        tiny_engine.generate(astronaut(), {"landmarks": []}, GenerationParams(**FAST), "pug")


def test_memory_savers_keep_working(tiny_pipeline_dir, face):
    from transform.engine import Engine

    engine = Engine(tiny_pipeline_dir / "sd", tiny_pipeline_dir / "controlnet", device="cpu")
    engine.load()
    engine.renderer.enable_memory_savers()
    assert generate(engine, face).image.size == (64, 64)


def test_latent_preview_is_a_small_rgb_image():
    import torch

    from transform.engine import latent_preview

    preview = latent_preview(torch.randn(1, 4, 8, 12))
    assert preview.mode == "RGB" and preview.size == (12, 8)


def test_missing_weights_say_what_to_set_and_download(tmp_path):
    from transform.pipeline import ModelNotAvailable, load_pipeline

    with pytest.raises(ModelNotAvailable) as caught:
        load_pipeline(tmp_path / "no-such-model", tmp_path / "no-such-controlnet", "cpu")
    message = str(caught.value)
    assert "FTA_CONTROLNET_MODEL" in message and "hf download CrucibleAI/ControlNetMediaPipeFace" in message


def test_local_controlnet_dir_with_sd15_subfolder_uses_it(tiny_pipeline_dir, tmp_path):
    from transform.pipeline import load_pipeline

    (tmp_path / "diffusion_sd15").symlink_to(tiny_pipeline_dir / "controlnet")
    pipeline = load_pipeline(tiny_pipeline_dir / "sd", tmp_path, "cpu")
    assert type(pipeline.controlnet).__name__ == "ControlNetModel"
