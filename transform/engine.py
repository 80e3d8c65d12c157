"""The generation engine: one loaded pipeline, reused across jobs, that turns a face into a dog portrait."""

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from diffusers import StableDiffusionControlNetImg2ImgPipeline
from django.conf import settings
from PIL import Image

from transform import head_crop
from transform.breeds import get_breed
from transform.control import control_image
from transform.infotext import build_infotext, png_bytes
from transform.pipeline import load_pipeline, resolve_device
from transform.prompting import encode_prompts
from transform.samplers import describe_scheduler, make_scheduler


class GenerationCancelled(Exception):
    """should_cancel() said yes between two denoising steps."""


@dataclass
class GenerationResult:
    image: object  # PIL RGB
    png: bytes  # the image with its infotext
    control_image: object
    face_crop: object
    seed: int
    infotext: str
    params: dict  # the validated parameters with the seed used and the actual diffusers scheduler
    timings: dict = field(default_factory=dict)  # seconds: model_load, prepare, inference, encode, total


class Engine:
    """Holds one pipeline; load() happens once, on first use, and later jobs reuse it."""

    def __init__(self, sd_model=None, controlnet_model=None, device=None, **load_options):
        self.sd_model = str(sd_model or settings.FTA_SD_MODEL)
        self.controlnet_model = str(controlnet_model or settings.FTA_CONTROLNET_MODEL)
        self.device = resolve_device(device)
        self.load_options = load_options
        self.pipeline = None
        self._img2img = None
        self._scheduler_config = None

    def load(self):
        """Loads the pipeline if needed; returns the seconds spent (0 when it was already loaded)."""
        if self.pipeline is not None:
            return 0.0
        started = time.perf_counter()
        self.pipeline = load_pipeline(self.sd_model, self.controlnet_model, self.device, **self.load_options)
        self._scheduler_config = self.pipeline.scheduler.config
        return time.perf_counter() - started

    def enable_memory_savers(self):
        """Attention slicing and VAE tiling: slower, but lets a job that ran out of GPU memory retry."""
        self.load()
        self.pipeline.enable_attention_slicing()
        self.pipeline.vae.enable_tiling()
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    def generate(self, photo, face, params, breed_slug, coat=None, on_step=None, should_cancel=None):
        """One dog portrait of `face` (one face of the landmark JSON) in `photo` (PIL RGB).

        Raises head_crop.InvalidFace for unusable landmarks, KeyError for an unknown breed,
        GenerationCancelled when should_cancel() returns true, pipeline.ModelNotAvailable for missing weights.
        """
        started = time.perf_counter()
        timings = {"model_load": self.load()}
        params = params.with_seed()
        prompt = params.prompt_for(get_breed(breed_slug).prompt_fragment(coat))

        size = (params.width, params.height)
        box = head_crop.face_crop_box(face, photo.size, aspect=params.width / params.height)
        face_crop = head_crop.crop(photo, box, size)
        control = control_image(face, photo.size, box, size)
        timings["prepare"] = time.perf_counter() - started - timings["model_load"]

        inference_started = time.perf_counter()
        init_image = face_crop if params.mode == "img2img" else None
        (image,) = self.render(prompt, params, control, init_image, on_step=on_step, should_cancel=should_cancel)
        timings["inference"] = time.perf_counter() - inference_started

        encode_started = time.perf_counter()
        scheduler = describe_scheduler(params.sampler)
        infotext = build_infotext(
            prompt,
            params,
            sd_model=self.sd_model,
            controlnet_model=self.controlnet_model,
            scheduler=scheduler,
            breed=breed_slug,
        )
        png = png_bytes(image, infotext)
        timings["encode"] = time.perf_counter() - encode_started
        timings["total"] = time.perf_counter() - started
        return GenerationResult(
            image=image,
            png=png,
            control_image=control,
            face_crop=face_crop,
            seed=params.seed,
            infotext=infotext,
            params={**params.to_dict(), "scheduler": scheduler},
            timings=timings,
        )

    def render(self, prompt, params, control, init_image=None, num_images=1, on_step=None, should_cancel=None):
        """The denoising itself: PIL images for a prompt, a control image and (img2img) an init image."""
        self.load()
        if should_cancel and should_cancel():
            raise GenerationCancelled()
        params = params.with_seed()
        pipeline = self.pipeline if init_image is None else self._img2img_pipeline()
        pipeline.scheduler = make_scheduler(params.sampler, self._scheduler_config)
        prompt_embeds, negative_embeds = encode_prompts(pipeline, prompt, params.negative_prompt)
        # A CPU generator gives the same starting noise for a seed on every device.
        generator = torch.Generator("cpu").manual_seed(params.seed)
        images = {"image": control} if init_image is None else {"image": init_image, "control_image": control}
        if init_image is not None:
            images["strength"] = params.strength
        with _control_mode(pipeline.controlnet, params.control_mode) as guess_mode:
            output = pipeline(
                prompt_embeds=prompt_embeds,
                negative_prompt_embeds=negative_embeds,
                **images,
                height=params.height,
                width=params.width,
                num_inference_steps=params.steps,
                guidance_scale=params.cfg_scale,
                num_images_per_prompt=num_images,
                generator=generator,
                controlnet_conditioning_scale=params.controlnet_scale,
                control_guidance_start=params.guidance_start,
                control_guidance_end=params.guidance_end,
                guess_mode=guess_mode,
                callback_on_step_end=_step_callback(on_step, should_cancel),
            )
        return output.images

    def _img2img_pipeline(self):
        if self._img2img is None:
            # Shares every component (and so the memory) with the text-to-image pipeline.
            self._img2img = StableDiffusionControlNetImg2ImgPipeline.from_pipe(self.pipeline)
            self._img2img.set_progress_bar_config(disable=True)
        return self._img2img


def _step_callback(on_step, should_cancel):
    def callback(pipeline, index, timestep, tensors):
        if on_step:
            on_step(index + 1, pipeline.num_timesteps, tensors["latents"])
        if should_cancel and should_cancel():
            # Raising here stops the pipeline at once: no further steps and no VAE decode.
            raise GenerationCancelled()
        return {}

    return callback


class _control_mode:
    """The ControlNet extension's control modes as diffusers arguments (docs/ENGINE.md explains the mapping).

    "ControlNet is more important" is diffusers' guess_mode: control on the conditional half of CFG only,
    with per-layer scales from 0.1 (shallow) to 1.0 (middle block). "My prompt is more important" keeps
    control on both halves but applies those same per-layer scales, through a forward hook.
    """

    def __init__(self, controlnet, mode):
        self.controlnet, self.mode, self.hook = controlnet, mode, None

    def __enter__(self):
        if self.mode == "My prompt is more important":
            self.hook = self.controlnet.register_forward_hook(_soft_injection)
        return self.mode == "ControlNet is more important"

    def __exit__(self, *exc_info):
        if self.hook is not None:
            self.hook.remove()


def _soft_injection(module, args, output):
    down_samples, mid_sample = output[0], output[1]
    scales = torch.logspace(-1, 0, len(down_samples) + 1, device=mid_sample.device)
    return ([sample * scale for sample, scale in zip(down_samples, scales)], mid_sample * scales[-1])


# AUTOMATIC1111's "Approx cheap" coefficients for SD 1.x latents (rows: latent channels; columns: R, G, B).
SD15_LATENT_RGB = torch.tensor(
    [
        [0.298, 0.207, 0.208],
        [0.187, 0.286, 0.173],
        [-0.158, 0.189, 0.264],
        [-0.184, -0.271, -0.473],
    ]
)


def latent_preview(latents):
    """An RGB image, 1/8 of the output size, of the first latent in a (batch, 4, h, w) tensor."""
    rgb = torch.einsum("chw,cr->hwr", latents[0].detach().float().cpu(), SD15_LATENT_RGB)
    pixels = ((rgb + 1.0) / 2.0).clamp(0.0, 1.0).mul(255).round().to(torch.uint8).numpy()
    return Image.fromarray(np.ascontiguousarray(pixels))
