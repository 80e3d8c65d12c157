"""The renderer on the tiny pipeline (CPU, fp32): equal to diffusers, optimisations exact, batches equal to singles.

Tolerances: equal to diffusers, and with the prompt cache or the idle-ControlNet skip on or off, pixel for
pixel; channels-last and fused QKV within 1 of 255 (the same products summed in another order); a batched image
within 1 of 255 of the same request alone (the CPU's matmul and convolution kernels block a batch of 3
differently from a batch of 1, so the last bit of a few sums can differ; most images come out equal).
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from transform.params import CONTROL_MODES, GenerationParams

CONTROL = Path(__file__).parent.parent / "bench" / "gpu_inputs" / "control.png"
FACE = CONTROL.with_name("face.jpg")
FAST = GenerationParams(width=64, height=64, steps=3, seed=7)
PROMPT = "dog, close up, (face portrait:1.1), front face, pug"


def request(params=FAST, prompt=PROMPT, **changes):
    from transform.renderer import RenderRequest

    control, face = Image.open(CONTROL).convert("RGB"), Image.open(FACE).convert("RGB")
    return RenderRequest(prompt, params, control, face, **changes)


def make_renderer(directory, load=None, **render_options):
    from transform.pipeline import LoadOptions, load_pipeline
    from transform.renderer import Renderer

    pipeline = load_pipeline(directory / "sd", directory / "controlnet", "cpu", load or LoadOptions(torch_threads=1))
    return Renderer(pipeline, **render_options)


@pytest.fixture(scope="module")
def renderer(tiny_pipeline_dir):
    return make_renderer(tiny_pipeline_dir)


def pixels(image):
    return np.asarray(image)


def assert_same(first, second):
    assert np.array_equal(pixels(first), pixels(second))


def assert_batched_equals_alone(batched, alone):
    assert np.abs(pixels(batched).astype(int) - pixels(alone)).max() <= 1


def diffusers_image(renderer, pipeline_class, params, **images):
    """What diffusers' own pipeline makes from the same components, prompt embeddings and seed."""
    from transform.samplers import make_scheduler

    reference = pipeline_class(**renderer.pipeline.components)
    reference.scheduler = make_scheduler(params.sampler, renderer.scheduler_config)
    positive, negative = renderer.prompt_embeds(PROMPT, params.negative_prompt)
    return reference(
        prompt_embeds=positive,
        negative_prompt_embeds=negative,
        **images,
        height=params.height,
        width=params.width,
        num_inference_steps=params.steps,
        guidance_scale=params.cfg_scale,
        controlnet_conditioning_scale=params.controlnet_scale,
        guess_mode=params.control_mode == "ControlNet is more important",
        generator=torch.Generator("cpu").manual_seed(params.seed),
    ).images[0]


@pytest.mark.parametrize("control_mode", ["Balanced", "ControlNet is more important"])
def test_txt2img_equals_diffusers_controlnet_pipeline(renderer, control_mode):
    from diffusers import StableDiffusionControlNetPipeline

    params = dataclasses.replace(FAST, control_mode=control_mode)
    expected = diffusers_image(renderer, StableDiffusionControlNetPipeline, params, image=request().control)
    assert_same(renderer.render(request(params)), expected)


def test_img2img_equals_diffusers_controlnet_img2img_pipeline(renderer):
    from diffusers import StableDiffusionControlNetImg2ImgPipeline

    params = dataclasses.replace(FAST, mode="img2img", strength=0.5, steps=6, sampler="Euler a")
    images = {"image": request().init_image, "control_image": request().control, "strength": params.strength}
    expected = diffusers_image(renderer, StableDiffusionControlNetImg2ImgPipeline, params, **images)
    assert_same(renderer.render(request(params)), expected)


def test_skipping_the_idle_controlnet_changes_no_pixel(tiny_pipeline_dir, renderer):
    params = dataclasses.replace(FAST, steps=6, guidance_start=0.2, guidance_end=0.5)
    running_it = make_renderer(tiny_pipeline_dir, skip_idle_controlnet=False)
    assert_same(renderer.render(request(params)), running_it.render(request(params)))


def test_cached_prompt_embeddings_change_no_pixel(tiny_pipeline_dir, renderer):
    uncached = make_renderer(tiny_pipeline_dir, prompt_cache_size=0)
    assert_same(renderer.render(request()), uncached.render(request()))
    assert not uncached._prompt_cache and (PROMPT, FAST.negative_prompt) in renderer._prompt_cache


@pytest.mark.parametrize("option", ["channels_last", "fuse_qkv"])
def test_channels_last_and_fused_qkv_move_a_pixel_by_at_most_one_level(tiny_pipeline_dir, renderer, option):
    from transform.pipeline import LoadOptions

    optimised = make_renderer(tiny_pipeline_dir, LoadOptions(**{option: True}, torch_threads=1))
    for control_mode in CONTROL_MODES:
        params = dataclasses.replace(FAST, control_mode=control_mode)
        # Equal within 1 of 255: the same products summed in another order may round the last bit differently.
        difference = np.abs(pixels(renderer.render(request(params))).astype(int) - pixels(optimised.render(request(params))))
        assert difference.max() <= 1


def test_a_lineup_batch_gives_each_image_the_request_makes_alone(renderer):
    requests = [
        request(prompt=PROMPT.replace("pug", breed), params=dataclasses.replace(FAST, seed=seed))
        for breed, seed in [("pug", 1), ("golden retriever", 2), ("shiba inu", 3)]
    ]
    batched = renderer.render_batch(requests)
    for image, alone in zip(batched, requests):
        assert_batched_equals_alone(image, renderer.render(alone))


def test_img2img_batch_gives_each_image_the_request_makes_alone(renderer):
    params = dataclasses.replace(FAST, mode="img2img", strength=0.5, steps=6)
    requests = [request(dataclasses.replace(params, seed=seed)) for seed in (1, 2)]
    for image, alone in zip(renderer.render_batch(requests), requests):
        assert_batched_equals_alone(image, renderer.render(alone))


def test_each_request_of_a_batch_sees_its_own_progress(renderer):
    seen = {0: [], 1: []}
    requests = [
        request(on_step=lambda step, steps, latents, k=k: seen[k].append((step, steps, tuple(latents.shape)))) for k in seen
    ]
    renderer.render_batch(requests)
    assert seen[0] == seen[1] == [(1, 3, (1, 4, 8, 8)), (2, 3, (1, 4, 8, 8)), (3, 3, (1, 4, 8, 8))]


def test_cancelling_one_request_leaves_the_others_as_they_would_be_alone(renderer):
    from transform.renderer import GenerationCancelled

    steps = []
    cancelled = request(
        dataclasses.replace(FAST, seed=2), on_step=lambda step, *_: steps.append(step), should_cancel=lambda: bool(steps)
    )
    first, second, third = renderer.render_batch([request(), cancelled, request(dataclasses.replace(FAST, seed=3))])
    assert isinstance(second, GenerationCancelled) and steps == [1]
    assert_batched_equals_alone(first, renderer.render(request()))
    assert_batched_equals_alone(third, renderer.render(request(dataclasses.replace(FAST, seed=3))))


def test_a_failing_request_fails_alone(renderer):
    def broken_progress(*_):
        raise RuntimeError("progress store is gone")

    broken_image = request()
    broken_image.control = None
    good, failing, unreadable = renderer.render_batch([request(), request(on_step=broken_progress), broken_image])
    assert isinstance(failing, RuntimeError) and isinstance(unreadable, Exception)
    assert_batched_equals_alone(good, renderer.render(request()))


def test_requests_that_cannot_share_a_batch_are_rendered_apart(renderer):
    other = dataclasses.replace(FAST, steps=2)
    first, second = renderer.render_batch([request(), request(other)])
    assert_batched_equals_alone(first, renderer.render(request()))
    assert_batched_equals_alone(second, renderer.render(request(other)))


def test_out_of_memory_is_retried_once_with_memory_savers_which_then_go_off_again(tiny_pipeline_dir):
    renderer = make_renderer(tiny_pipeline_dir)

    # No GPU here: the first UNet call raises the error CUDA would.
    def out_of_memory_once(module, args):
        handle.remove()
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")

    handle = renderer.pipeline.unet.register_forward_pre_hook(out_of_memory_once)
    first, second = renderer.render_batch([request(), request(dataclasses.replace(FAST, seed=8))])
    assert renderer.memory_retries == 1
    assert first.size == second.size == (64, 64)
    # The next batch runs at full speed again: savers were for the batch that ran out only.
    assert not renderer.memory_savers and not renderer.pipeline.vae.use_slicing and not renderer.pipeline.vae.use_tiling
    assert renderer.render(request()).size == (64, 64)
