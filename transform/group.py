"""Everyone in the photo becomes a dog, in the photo's own scene: each chosen face is inpainted in
place ("inpaint only masked", as ADetailer does it in AUTOMATIC1111), the rest of the photo is kept
bit for bit.

Stages, per photo:
1. plan: for every face a square crop around the head and its inpainting mask (group_masks), and
   the crop and its face-mesh control image at the work size.
2. inpaint: transform.renderer's one denoising loop (diffusers' StableDiffusionControlNetInpaintPipeline's
   stages, the same control modes as a single dog), on the engine's pipeline; the faces of a photo go
   through it as one batch, up to max_batch at a time, each with its own seed and generator.
3. paste: each result is resized to its crop and blended in through its feathered mask; where that
   mask is 0 the photo's pixels are copied, never recomputed.

Weights: with an SD 1.5 inpainting UNet (9 input channels, `inpaint_model`) the pipeline inpaints
as those weights were trained to; without one it runs the base model and keeps the unmasked latents
at every step (diffusers' 4-channel path). The infotext says which.
"""

import dataclasses
import json
import time
from dataclasses import dataclass, field

import numpy as np
from diffusers import StableDiffusionControlNetPipeline, UNet2DConditionModel
from PIL import Image

from transform import head_crop
from transform.breeds import get_breed
from transform.control import control_image
from transform.group_masks import FaceSkipped, crop_box, face_mask, paste
from transform.infotext import build_infotext, format_pairs, model_name, png_bytes
from transform.pipeline import _from_pretrained
from transform.renderer import Renderer, RenderRequest
from transform.samplers import describe_scheduler

BASE_WEIGHTS = "base model with mask"
SEED_LIMIT = 2**32


@dataclass(frozen=True)
class GroupChoice:
    """One face of the landmark JSON to turn into a dog, with its breed (and coat)."""

    index: int
    breed: str
    coat: str | None = None


@dataclass
class FacePlan:
    choice: GroupChoice
    box: tuple  # the square crop (x0, y0, x1, y1) in the photo's pixels; may reach past its edges
    prompt: str
    seed: int
    crop: object  # PIL RGB at the work size
    control: object  # PIL RGB at the work size
    mask: object  # PIL L at the work size: the grown mask, for the pipeline
    blend: np.ndarray  # (side, side) float32 0..1: the feathered mask at the crop's own pixels


@dataclass
class GroupResult:
    image: object  # PIL RGB, the photo's size
    png: bytes  # the image with its infotext
    infotext: str
    faces: list  # [{"index", "box", "breed", "seed"}] for every face made, in the order asked
    skipped: list  # [{"index", "reason"}] for faces left as they are
    params: dict  # the validated parameters with the first face's seed and the diffusers scheduler
    weights: str  # the inpainting weights' name, or BASE_WEIGHTS
    timings: dict = field(default_factory=dict)  # seconds: model_load, prepare, inference, paste, total

    @property
    def seed(self):
        """The first face's seed (the others follow it: seed + 1, ...)."""
        return self.faces[0]["seed"]


def plan_face(photo, face, choice, params, seed):
    """Stage 1 for one face; raises FaceSkipped, head_crop.InvalidFace or KeyError (unknown breed)."""
    box = crop_box(face, photo.size)
    size = (params.width, params.width)
    blend = face_mask(face, photo.size, box)
    grown = Image.fromarray(((blend > 0) * 255).astype(np.uint8)).resize(size, Image.Resampling.NEAREST)
    return FacePlan(
        choice=choice,
        box=box,
        prompt=params.prompt_for(get_breed(choice.breed).prompt_fragment(choice.coat)),
        seed=seed,
        crop=head_crop.crop(photo, box, size),
        control=control_image(face, photo.size, box, size),
        mask=grown,
        blend=blend,
    )


class GroupPainter:
    """Turns the chosen faces of a photo into dogs with an Engine's loaded pipeline.

    inpaint_model: a diffusers SD 1.5 inpainting pipeline (Hub id or directory) whose UNet is used,
    or None for the base model with the mask (the worker passes FTA_SD_INPAINT_MODEL). Its UNet is
    loaded on first use and kept; missing weights raise pipeline.ModelNotAvailable.
    """

    def __init__(self, engine, inpaint_model=None):
        self.engine = engine
        self.inpaint_model = str(inpaint_model) if inpaint_model else None
        self._renderer: Renderer | None = None

    @property
    def weights(self):
        return model_name(self.inpaint_model) if self.inpaint_model else BASE_WEIGHTS

    def renderer(self) -> Renderer:
        """The engine's renderer (the base model with the mask), or one on the inpainting UNet that
        shares every other component, and so the memory, with the engine's pipeline."""
        self.engine.load()
        base = self.engine.renderer
        assert base is not None
        if not self.inpaint_model:
            return base
        if self._renderer is None:
            unet = _from_pretrained(
                "FTA_SD_INPAINT_MODEL", self.inpaint_model, UNet2DConditionModel, base.pipeline.unet.dtype, subfolder="unet"
            )
            pipeline = StableDiffusionControlNetPipeline.from_pipe(base.pipeline, unet=unet.to(base.pipeline.device))
            pipeline.set_progress_bar_config(disable=True)
            self._renderer = Renderer(pipeline, skip_idle_controlnet=base.skip_idle_controlnet, prompt_cache_size=0)
        return self._renderer

    def paint(self, photo, faces, choices, params, max_batch=8, on_progress=None, should_cancel=None):
        """The photo with every chosen face a dog: a GroupResult.

        faces: the landmark JSON's faces; choices: GroupChoice per face to change. params: validated
        GenerationParams (square work size: width); face i of the choices gets the seed params.seed + i.
        on_progress(face, faces, step, steps, latents) after every denoising step, `face` being the last
        face of the batch running. Raises GenerationCancelled when should_cancel() says so, ValueError when no
        chosen face can be made.
        """
        started = time.perf_counter()
        timings = {"model_load": self.engine.load()}
        params = params.with_seed()
        plans, skipped = [], []
        for number, choice in enumerate(choices):
            seed = (params.seed + number) % SEED_LIMIT
            try:
                plans.append(plan_face(photo, faces[choice.index], choice, params, seed))
            except (FaceSkipped, head_crop.InvalidFace) as error:
                skipped.append({"index": choice.index, "reason": str(error)})
        if not plans:
            raise ValueError("None of the chosen faces can be made into a dog.")
        timings["prepare"] = time.perf_counter() - started - timings["model_load"]

        inference_started = time.perf_counter()
        images = []
        for first in range(0, len(plans), max_batch):
            batch = plans[first : first + max_batch]
            report = _progress(on_progress, first + len(batch), len(plans))
            images += self.inpaint(batch, params, report, should_cancel)
        timings["inference"] = time.perf_counter() - inference_started

        paste_started = time.perf_counter()
        pixels = np.array(photo.convert("RGB"))
        for plan, image in zip(plans, images):
            paste(pixels, plan, image)
        result = Image.fromarray(pixels)
        made = [{"index": p.choice.index, "box": list(p.box), "breed": p.choice.breed, "seed": p.seed} for p in plans]
        scheduler = describe_scheduler(params.sampler)
        infotext = self.infotext(params, made, photo.size, scheduler)
        png = png_bytes(result, infotext)
        timings["paste"] = time.perf_counter() - paste_started
        timings["total"] = time.perf_counter() - started
        return GroupResult(
            image=result,
            png=png,
            infotext=infotext,
            faces=made,
            skipped=skipped,
            params={**params.to_dict(), "scheduler": scheduler},
            weights=self.weights,
            timings=timings,
        )

    def inpaint(self, plans, params, on_step=None, should_cancel=None):
        """Stage 2: the plans' crops inpainted at the work size, in one batch (transform.renderer), each
        face with its own seed; the first face reports the progress. The first failure (or cancel) is raised."""
        requests = [
            RenderRequest(
                plan.prompt,
                dataclasses.replace(params, seed=plan.seed, height=params.width),
                plan.control,
                plan.crop,
                on_step=on_step if number == 0 else None,
                should_cancel=should_cancel,
                mask=plan.mask,
            )
            for number, plan in enumerate(plans)
        ]
        images = self.renderer().render_batch(requests)
        for outcome in images:
            if isinstance(outcome, Exception):
                raise outcome
        return images

    def infotext(self, params, made, photo_size, scheduler):
        """The A1111 infotext of the first face's settings, plus every face's box, breed and seed."""
        text = build_infotext(
            params.prompt_template,
            params,
            sd_model=self.engine.sd_model,
            controlnet_model=self.engine.controlnet_model,
            scheduler=scheduler,
            breed=None,
        )
        group = {
            "Group size": f"{photo_size[0]}x{photo_size[1]}",
            "Inpaint weights": self.weights,
            "Inpaint only masked": True,
            "Faces": json.dumps(made, separators=(",", ":")),
        }
        return f"{text}, {format_pairs(group)}"


def _progress(on_progress, face, faces):
    if on_progress is None:
        return None
    return lambda step, steps, latents: on_progress(face, faces, step, steps, latents)
