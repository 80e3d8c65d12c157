"""Everyone in the photo becomes a dog, in the photo's own scene: each chosen face is inpainted in
place ("inpaint only masked", as ADetailer does it in AUTOMATIC1111), the rest of the photo is kept
bit for bit.

Stages, per photo:
1. plan: for every face a square crop around the head and its inpainting mask (group_masks), and
   the crop and its face-mesh control image at the work size.
2. inpaint: diffusers' StableDiffusionControlNetInpaintPipeline, made from the loaded pipeline's
   components with from_pipe (no second copy in memory); the faces of a photo go through it as one
   batch, up to max_batch at a time, each with its own seed and generator.
3. paste: each result is resized to its crop and blended in through its feathered mask; where that
   mask is 0 the photo's pixels are copied, never recomputed.

Weights: with an SD 1.5 inpainting UNet (9 input channels, `inpaint_model`) the pipeline inpaints
as those weights were trained to; without one it runs the base model and keeps the unmasked latents
at every step (diffusers' 4-channel path). The infotext says which.
"""

import json
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from diffusers import StableDiffusionControlNetInpaintPipeline, UNet2DConditionModel
from PIL import Image

from transform import head_crop
from transform.breeds import get_breed
from transform.control import control_image
from transform.engine import GenerationCancelled
from transform.group_masks import FaceSkipped, crop_box, face_mask, paste
from transform.infotext import build_infotext, format_pairs, model_name, png_bytes
from transform.pipeline import _from_pretrained
from transform.prompting import encode_prompts
from transform.samplers import describe_scheduler, make_scheduler

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
        self._pipeline = None

    @property
    def weights(self):
        return model_name(self.inpaint_model) if self.inpaint_model else BASE_WEIGHTS

    def pipeline(self):
        if self._pipeline is None:
            self.engine.load()
            base = self.engine.pipeline
            extra = {}
            if self.inpaint_model:
                unet = _from_pretrained(
                    "FTA_SD_INPAINT_MODEL", self.inpaint_model, UNet2DConditionModel, base.unet.dtype, subfolder="unet"
                )
                extra["unet"] = unet.to(base.device)
            # Shares every other component, and so the memory, with the engine's pipeline.
            self._pipeline = StableDiffusionControlNetInpaintPipeline.from_pipe(base, **extra)
            self._pipeline.set_progress_bar_config(disable=True)
        return self._pipeline

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
        """Stage 2: one pipeline call for the plans; the inpainted crops at the work size."""
        if should_cancel and should_cancel():
            raise GenerationCancelled()
        pipeline = self.pipeline()
        pipeline.scheduler = make_scheduler(params.sampler, self.engine.pipeline.scheduler.config)
        embeds = [encode_prompts(pipeline, plan.prompt, params.negative_prompt) for plan in plans]
        if len({tuple(prompt.shape) for prompt, _ in embeds}) > 1:
            # Prompts longer than one 77-token chunk give embeddings of other lengths: one call each.
            return [image for plan in plans for image in self.inpaint([plan], params, on_step, should_cancel)]
        strength = params.strength if params.mode == "img2img" else 1.0
        with _control_mode(pipeline.controlnet, params.control_mode) as guess_mode:
            output = pipeline(
                prompt_embeds=torch.cat([prompt for prompt, _ in embeds]),
                negative_prompt_embeds=torch.cat([negative for _, negative in embeds]),
                image=[plan.crop for plan in plans],
                mask_image=[plan.mask for plan in plans],
                control_image=[plan.control for plan in plans],
                height=params.width,
                width=params.width,
                strength=strength,
                num_inference_steps=params.steps,
                guidance_scale=params.cfg_scale,
                # A CPU generator per face: each face's noise depends on its own seed only.
                generator=[torch.Generator("cpu").manual_seed(plan.seed) for plan in plans],
                controlnet_conditioning_scale=params.controlnet_scale,
                control_guidance_start=params.guidance_start,
                control_guidance_end=params.guidance_end,
                guess_mode=guess_mode,
                callback_on_step_end=_step_callback(on_step, should_cancel),
            )
        return output.images

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


# The inpainting runs through diffusers' own pipeline (not transform.renderer), so the ControlNet extension's
# control modes and the step callback are applied to it here, as the engine once did for its pipelines.
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
