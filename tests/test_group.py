"""Everyone in the photo becomes a dog: per-face inpainting on the tiny pipeline (transform.group)."""

import numpy as np
import pytest

from tests import sample_images as samples
from transform.params import GenerationParams

# The tiny pipeline works at 64x64, so parameters are built directly (the web's minimum is 256).
FAST = dict(width=64, height=64, steps=3, seed=7)


@pytest.fixture(scope="module")
def photo():
    return samples.two_sizes_photo()


@pytest.fixture(scope="module")
def faces(photo):
    from transform.faces import analyze_faces

    faces = analyze_faces(photo)["faces"]
    assert len(faces) == 2
    return faces


@pytest.fixture(scope="module")
def result(tiny_engine, photo, faces):
    from transform.group import GroupChoice, GroupPainter

    choices = [GroupChoice(0, "pug"), GroupChoice(1, "beagle")]
    return GroupPainter(tiny_engine).paint(photo, faces, choices, GenerationParams(**FAST))


def grown_masks(photo, faces):
    """Per face, a photo-sized boolean array: where its mask lets the paste change pixels."""
    from transform.group_masks import crop_box, face_mask

    masks = []
    for face in faces:
        x0, y0, x1, y1 = crop_box(face, photo.size)
        full = np.zeros((photo.height + 2 * (y1 - y0), photo.width + 2 * (x1 - x0)), bool)
        # Place the crop on a canvas padded by a crop's side, so crops past the photo's edge fit.
        pad_x, pad_y = x1 - x0, y1 - y0
        full[y0 + pad_y : y1 + pad_y, x0 + pad_x : x1 + pad_x] = face_mask(face, photo.size, (x0, y0, x1, y1)) > 0
        masks.append(full[pad_y : pad_y + photo.height, pad_x : pad_x + photo.width])
    return masks


def test_pixels_outside_every_faces_grown_mask_are_unchanged_bit_for_bit(photo, faces, result):
    outside = ~np.logical_or.reduce(grown_masks(photo, faces))
    assert result.image.size == photo.size
    assert np.array_equal(np.asarray(result.image)[outside], np.asarray(photo)[outside])


def test_every_face_region_changed(photo, faces, result):
    before, after = np.asarray(photo).astype(int), np.asarray(result.image).astype(int)
    for face, mask in zip(faces, grown_masks(photo, faces)):
        x, y = (np.array(face["landmarks"])[:, :2] * photo.size).astype(int).T
        assert mask[y, x].all()  # the mask covers every landmark
        assert np.abs(after[mask] - before[mask]).mean() > 20


def test_infotext_records_each_faces_box_breed_and_seed(photo, faces, result):
    import io
    import json

    from PIL import Image

    from transform.group_masks import crop_box

    assert [(face["breed"], face["seed"]) for face in result.faces] == [("pug", 7), ("beagle", 8)]
    assert [face["box"] for face in result.faces] == [list(crop_box(face, photo.size)) for face in faces]
    faces_json = result.infotext.split("Faces: ", 1)[1]
    assert json.loads(json.loads(faces_json)) == result.faces
    assert "Inpaint weights: base model with mask" in result.infotext
    assert Image.open(io.BytesIO(result.png)).info["parameters"] == result.infotext


def test_mask_is_feathered_inside_the_grown_hull_and_covers_the_hair(faces, photo):
    from transform.group_masks import HAIR_RISE, crop_box, face_mask

    box = crop_box(faces[0], photo.size)
    mask = face_mask(faces[0], photo.size, box)
    assert mask[0, 0] == 0 and mask[-1, -1] == 0
    nose_x, nose_y = (np.array(faces[0]["landmarks"][1][:2]) * photo.size - box[:2]).astype(int)
    assert mask[nose_y, nose_x] == 1
    assert ((mask > 0) & (mask < 1)).any()
    face_top = faces[0]["box"][1] - box[1]
    face_height = faces[0]["box"][3] - faces[0]["box"][1]
    assert mask[round(face_top - 0.8 * HAIR_RISE * face_height), nose_x] == 1


def test_a_face_too_small_to_inpaint_is_skipped_and_named(tiny_engine, faces):
    from PIL import Image

    from transform.group import GroupChoice, GroupPainter

    # Half size: the larger face is ~46 px wide, the smaller ~23 px, under MIN_GROUP_FACE_PIXELS (32).
    half = samples.two_sizes_photo().resize((384, 256), Image.Resampling.LANCZOS)
    choices = [GroupChoice(0, "pug"), GroupChoice(1, "beagle")]
    result = GroupPainter(tiny_engine).paint(half, faces, choices, GenerationParams(**FAST))
    assert [face["index"] for face in result.faces] == [0]
    assert result.skipped == [{"index": 1, "reason": "The face is smaller than 32 pixels."}]


def test_no_face_left_to_make_is_refused_before_inference(tiny_engine, faces):
    from PIL import Image

    from transform.group import GroupChoice, GroupPainter

    tiny = samples.two_sizes_photo().resize((192, 128), Image.Resampling.LANCZOS)
    with pytest.raises(ValueError, match="None of the chosen faces"):
        GroupPainter(tiny_engine).paint(tiny, faces, [GroupChoice(0, "pug"), GroupChoice(1, "pug")], GenerationParams(**FAST))


def test_progress_names_the_face_and_cancel_stops_between_steps(tiny_engine, photo, faces):
    from transform.engine import GenerationCancelled
    from transform.group import GroupChoice, GroupPainter

    seen = []
    choices = [GroupChoice(0, "pug"), GroupChoice(1, "beagle")]
    with pytest.raises(GenerationCancelled):
        GroupPainter(tiny_engine).paint(
            photo,
            faces,
            choices,
            GenerationParams(**FAST),
            max_batch=1,
            on_progress=lambda *progress: seen.append(progress[:4]),
            should_cancel=lambda: len(seen) >= 4,
        )
    assert seen == [(1, 2, 1, 3), (1, 2, 2, 3), (1, 2, 3, 3), (2, 2, 1, 3)]


def test_configured_inpainting_weights_are_used_and_named(tiny_engine, tiny_pipeline_dir, photo, faces, tmp_path):
    from diffusers import UNet2DConditionModel

    from transform.group import GroupChoice, GroupPainter

    # An inpainting UNet takes 9 channels: latents, mask and masked-image latents.
    base = UNet2DConditionModel.from_pretrained(tiny_pipeline_dir / "sd", subfolder="unet")
    UNet2DConditionModel.from_config({**base.config, "in_channels": 9}).save_pretrained(tmp_path / "sd-inpainting" / "unet")
    painter = GroupPainter(tiny_engine, inpaint_model=tmp_path / "sd-inpainting")
    result = painter.paint(photo, faces, [GroupChoice(1, "pug")], GenerationParams(**FAST))
    assert painter.renderer().pipeline.unet.config.in_channels == 9
    assert "Inpaint weights: sd-inpainting" in result.infotext
    outside = ~grown_masks(photo, faces)[1]
    assert np.array_equal(np.asarray(result.image)[outside], np.asarray(photo)[outside])


def test_missing_inpainting_weights_say_what_to_set_and_download(tiny_engine, tmp_path):
    from transform.group import GroupPainter
    from transform.pipeline import ModelNotAvailable

    with pytest.raises(ModelNotAvailable, match="FTA_SD_INPAINT_MODEL.*stable-diffusion-inpainting"):
        GroupPainter(tiny_engine, inpaint_model=tmp_path / "no-such-model").renderer()


def diffusers_inpainting(renderer, plan, params):
    """What diffusers' own StableDiffusionControlNetInpaintPipeline makes of one face's plan, from the same
    components, prompt embeddings and seed."""
    import torch
    from diffusers import StableDiffusionControlNetInpaintPipeline

    from transform.samplers import make_scheduler

    reference = StableDiffusionControlNetInpaintPipeline.from_pipe(renderer.pipeline)
    reference.scheduler = make_scheduler(params.sampler, renderer.scheduler_config)
    positive, negative = renderer.prompt_embeds(plan.prompt, params.negative_prompt)
    return reference(
        prompt_embeds=positive,
        negative_prompt_embeds=negative,
        image=plan.crop,
        mask_image=plan.mask,
        control_image=plan.control,
        height=params.width,
        width=params.width,
        strength=1.0,
        num_inference_steps=params.steps,
        guidance_scale=params.cfg_scale,
        controlnet_conditioning_scale=params.controlnet_scale,
        guess_mode=params.control_mode == "ControlNet is more important",
        generator=[torch.Generator("cpu").manual_seed(plan.seed)],
    ).images[0]


@pytest.mark.parametrize("control_mode", ["Balanced", "ControlNet is more important"])
def test_a_face_is_inpainted_as_diffusers_inpaint_pipeline_does(tiny_engine, photo, faces, control_mode):
    from transform.group import GroupChoice, GroupPainter, plan_face

    params = GenerationParams(**{**FAST, "control_mode": control_mode})
    plan = plan_face(photo, faces[0], GroupChoice(0, "pug"), params, seed=7)
    painter = GroupPainter(tiny_engine)
    (ours,) = painter.inpaint([plan], params)
    expected = diffusers_inpainting(painter.renderer(), plan, params)
    assert np.array_equal(np.asarray(ours), np.asarray(expected))


def controlnet_calls(engine, make):
    """What the ControlNet was asked at each step while `make()` ran: (rows of its input, scale, guess_mode)."""
    calls = []

    def record(module, args, kwargs):
        calls.append((args[0].shape[0], kwargs["conditioning_scale"], kwargs["guess_mode"]))

    handle = engine.pipeline.controlnet.register_forward_pre_hook(record, with_kwargs=True)
    try:
        make()
    finally:
        handle.remove()
    return calls


@pytest.mark.parametrize("control_mode", ["Balanced", "My prompt is more important", "ControlNet is more important"])
def test_a_single_dog_and_a_group_face_get_the_same_control_mode(tiny_engine, photo, faces, control_mode):
    """One implementation of the control modes and of the idle-ControlNet skip: the same mode asks the
    ControlNet the same at every step, for a single dog and for a face of a group photo."""
    from transform.group import GroupChoice, GroupPainter

    params = GenerationParams(**{**FAST, "steps": 4, "control_mode": control_mode, "guidance_end": 0.5})
    single = controlnet_calls(tiny_engine, lambda: tiny_engine.generate(photo, faces[0], params, "pug"))
    group = controlnet_calls(tiny_engine, lambda: GroupPainter(tiny_engine).paint(photo, faces, [GroupChoice(0, "pug")], params))
    assert single == group
    # The ControlNet ran for the first half of the steps only (idle after guidance_end), on both halves of CFG
    # except with "ControlNet is more important" (the conditional half); layer scales for the modes that use them.
    rows = 1 if control_mode == "ControlNet is more important" else 2
    layer_scales = control_mode != "Balanced"
    assert single == [(rows, params.controlnet_scale, layer_scales)] * 2
