"""The generation engine: one loaded pipeline, reused across jobs, that turns a face into a dog portrait.

It takes its configuration as arguments (the worker reads the settings and passes them on).
"""

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from transform import head_crop
from transform.breeds import get_breed
from transform.control import control_image
from transform.infotext import build_infotext, png_bytes
from transform.params import default_side
from transform.pipeline import LoadOptions, ModelNotAvailable, load_pipeline, resolve_device
from transform.renderer import GenerationCancelled, Renderer, RenderRequest
from transform.samplers import describe_scheduler

__all__ = ["Engine", "GenerationCancelled", "GenerationItem", "GenerationResult", "latent_preview"]


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


@dataclass
class GenerationItem:
    """One dog of a batch: a face (one face of the landmark JSON) in a photo (PIL RGB), a breed, parameters."""

    photo: object
    face: dict
    params: object  # transform.params.GenerationParams
    breed_slug: str
    coat: str | None = None
    on_step: object = None  # on_step(step, steps, latents) after every denoising step
    should_cancel: object = None  # checked before the start and after every step


class Engine:
    """Holds one pipeline; load() happens once, on first use, and later jobs reuse it.

    options: transform.pipeline.LoadOptions; render_options: transform.renderer.Renderer's keyword arguments.
    """

    def __init__(self, sd_model, controlnet_model, device="auto", options=None, **render_options):
        self.sd_model = str(sd_model)
        self.controlnet_model = str(controlnet_model)
        self.device = resolve_device(device)
        self.options = options or LoadOptions()
        self.render_options = render_options
        self.renderer: Renderer | None = None
        self.load_failure: ModelNotAvailable | None = None

    @property
    def pipeline(self):
        return self.renderer.pipeline if self.renderer else None

    def load(self):
        """Loads the pipeline if needed; returns the seconds spent (0 when it was already loaded).

        Weights that could not be loaded raise the same ModelNotAvailable at once on every later call,
        rather than trying a download again for each job: a new Engine tries again."""
        if self.renderer is not None:
            return 0.0
        if self.load_failure is not None:
            raise self.load_failure
        started = time.perf_counter()
        try:
            pipeline = load_pipeline(self.sd_model, self.controlnet_model, self.device, self.options)
        except ModelNotAvailable as failure:
            self.load_failure = failure
            raise
        self.renderer = Renderer(pipeline, **self.render_options)
        return time.perf_counter() - started

    def default_size(self):
        """The width and height for a person who chose none, from the loaded pipeline's own size (diffusers'
        default: the UNet's sample size times the VAE's scale factor): 512 for SD 1.5, and the smallest size
        allowed for the tiny test pipeline, so that a demo's first dog takes seconds, not minutes."""
        pipeline = self.pipeline
        side = default_side(pipeline.unet.config.sample_size * pipeline.vae_scale_factor)
        return {"width": side, "height": side}

    def generate(self, photo, face, params, breed_slug, coat=None, on_step=None, should_cancel=None):
        """One dog portrait of `face` in `photo`.

        Raises head_crop.InvalidFace for unusable landmarks, KeyError for an unknown breed,
        GenerationCancelled when should_cancel() returns true, pipeline.ModelNotAvailable for missing weights.
        """
        (outcome,) = self.generate_batch([GenerationItem(photo, face, params, breed_slug, coat, on_step, should_cancel)])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def generate_batch(self, items):
        """A GenerationResult or the exception that ended it, per GenerationItem, in order.

        Items whose params share batch_key() are rendered in one pipeline call, each image identical to
        the one the item gets alone; one item cancelled or failing never ends the others. A lineup (several
        breeds of one face) is a batch of items that differ only in breed_slug.
        """
        started = time.perf_counter()
        model_load = self.load()
        outcomes: list[Any] = [None] * len(items)
        prepared = {}
        for index, item in enumerate(items):
            try:
                prepared[index] = self._prepare(item)
            except Exception as exc:  # noqa: BLE001  one item's failure is its own
                outcomes[index] = exc
        prepare_seconds = time.perf_counter() - started - model_load

        inference_started = time.perf_counter()
        assert self.renderer is not None  # loaded above
        images = self.renderer.render_batch([request for request, _, _ in prepared.values()])
        inference_seconds = time.perf_counter() - inference_started

        for (index, (request, breed_slug, face_crop)), image in zip(prepared.items(), images):
            if isinstance(image, Exception):
                outcomes[index] = image
                continue
            timings = {"model_load": model_load, "prepare": prepare_seconds, "inference": inference_seconds}
            outcomes[index] = self._result(request, breed_slug, face_crop, image, timings, started)
        return outcomes

    def _prepare(self, item):
        params = item.params.with_seed()
        prompt = params.prompt_for(get_breed(item.breed_slug).prompt_fragment(item.coat))
        size = (params.width, params.height)
        box = head_crop.face_crop_box(item.face, item.photo.size, aspect=params.width / params.height)
        face_crop = head_crop.crop(item.photo, box, size)
        control = control_image(item.face, item.photo.size, box, size)
        init_image = face_crop if params.mode == "img2img" else None
        request = RenderRequest(prompt, params, control, init_image, item.on_step, item.should_cancel)
        return request, item.breed_slug, face_crop

    def _result(self, request, breed_slug, face_crop, image, timings, started):
        encode_started = time.perf_counter()
        params = request.params
        scheduler = describe_scheduler(params.sampler)
        infotext = build_infotext(
            request.prompt,
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
            control_image=request.control,
            face_crop=face_crop,
            seed=params.seed,
            infotext=infotext,
            params={**params.to_dict(), "scheduler": scheduler},
            timings=timings,
        )


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
