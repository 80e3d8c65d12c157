"""Rendering: prompts + control images (+ init images, + masks) → PIL images, several compatible requests in
one batch. The one denoising loop of the project: single dogs, lineups and each face of a group photo
(inpainting) all run here, so the ControlNet extension's control modes and the idle-ControlNet skip exist once.

The stages are those of diffusers' StableDiffusionControlNetPipeline and its img2img and inpaint siblings,
run here on the pipeline's components so that:
- each request of a batch has its own generator, progress, cancel and failure (one never sinks the others),
  and its image is the one it would get alone (within 1/255 on the CPU: docs/ENGINE.md, "Batches");
- the ControlNet is not run at steps outside [guidance start, guidance end] (diffusers runs it and
  multiplies its output by 0: adding those zeros is all it does);
- the step loop makes no host-device synchronisation: timesteps, scales and the ControlNet's on/off are
  known on the host before the loop, a stochastic sampler's noise is drawn on the device; only what a
  progress callback itself reads (a preview) syncs;
- prompt embeddings are cached per (prompt, negative prompt).
Nothing here reads settings: the options are arguments.
"""

import inspect
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from diffusers.image_processor import VaeImageProcessor
from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img import retrieve_latents
from diffusers.utils.torch_utils import is_compiled_module, randn_tensor
from PIL import Image

from transform.pipeline import denoising_models
from transform.prompting import encode_prompts
from transform.samplers import make_scheduler

CONTROL_FIRST = "ControlNet is more important"
BALANCED = "Balanced"


class GenerationCancelled(Exception):
    """should_cancel() said yes between two denoising steps."""


@dataclass
class RenderRequest:
    """One image to render. Requests rendered together must share params.batch_key()."""

    prompt: str
    params: Any  # transform.params.GenerationParams with a seed
    control: Image.Image | None  # the ControlNet's input
    init_image: Image.Image | None = None  # img2img: the picture to start from; inpainting: the picture to paint in
    on_step: Callable[[int, int, Any], None] | None = None  # after every denoising step; latents: (1, 4, h/8, w/8)
    should_cancel: Callable[[], bool] | None = None  # checked before the start and after every step
    mask: Image.Image | None = None  # inpainting: where init_image is painted (white), the rest kept


@dataclass
class _Prepared:
    request: RenderRequest
    embeds: tuple  # (prompt_embeds, negative_prompt_embeds), each (1, tokens, width)
    control: Any  # (1, 3, h, w) tensor in [0, 1]
    init: Any  # (1, 3, h, w) tensor in [-1, 1]: img2img's start, inpainting's picture
    mask: Any = None  # (1, 1, h, w) tensor of 0 and 1, inpainting only
    masked: Any = None  # (1, 3, h, w): init with the painted part blacked out, inpainting only


class Renderer:
    """Renders requests on one loaded pipeline (see transform.pipeline.load_pipeline)."""

    def __init__(self, pipeline, *, skip_idle_controlnet=True, prompt_cache_size=64):
        self.pipeline = pipeline
        self.scheduler_config = pipeline.scheduler.config
        # Copied from diffusers.pipelines.controlnet.pipeline_controlnet_inpaint.StableDiffusionControlNetInpaintPipeline.__init__
        self.mask_processor = VaeImageProcessor(
            vae_scale_factor=pipeline.vae_scale_factor, do_normalize=False, do_binarize=True, do_convert_grayscale=True
        )
        self.skip_idle_controlnet = skip_idle_controlnet
        self.prompt_cache_size = prompt_cache_size
        self._prompt_cache = OrderedDict()
        self.memory_savers = False
        self._attention_processors = []
        self.memory_retries = 0  # out-of-memory errors that were retried with memory savers

    def render(self, request):
        """One PIL image; raises what rendering it raised (GenerationCancelled when cancelled)."""
        (outcome,) = self.render_batch([request])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def render_batch(self, requests):
        """One outcome per request, in order: its PIL image, or the exception that ended it.

        What can fail for one request alone (its prompt, its images, its callbacks, its cancel) is done per
        request and ends only that one. The rest run as batches of requests with equal params.batch_key()
        and prompt embeddings of one length. A batch out of GPU memory is retried once with memory savers,
        then one request at a time.
        """
        outcomes: list[Any] = [None] * len(requests)
        groups: dict[tuple, list[tuple[int, _Prepared]]] = {}
        for index, request in enumerate(requests):
            try:
                _check_cancel(request)
                item = self._prepare(request)
            except Exception as exc:  # noqa: BLE001  one request's failure is its own
                outcomes[index] = exc
                continue
            key = (request.params.batch_key(), item.embeds[0].shape[1], request.mask is not None)
            groups.setdefault(key, []).append((index, item))
        for members in groups.values():
            try:
                results = self._render_isolated([item for _, item in members])
            except Exception as exc:  # noqa: BLE001  e.g. a job timeout: it ends every request of the batch
                results = [exc] * len(members)
            for (index, _), outcome in zip(members, results):
                outcomes[index] = outcome
        return outcomes

    def enable_memory_savers(self):
        """Attention slicing and VAE slicing and tiling: slower, but needs less GPU memory."""
        self._attention_processors = [(model, model.attn_processors) for model in denoising_models(self.pipeline)]
        self.pipeline.enable_attention_slicing()
        self.pipeline.vae.enable_slicing()
        self.pipeline.vae.enable_tiling()
        self.memory_savers = True
        if self.pipeline.device.type == "cuda":
            torch.cuda.empty_cache()

    def disable_memory_savers(self):
        """Back to the attention processors in use before enable_memory_savers(), and whole-batch VAE decoding."""
        for model, processors in self._attention_processors:
            model.set_attn_processor(processors)
        self.pipeline.vae.disable_slicing()
        self.pipeline.vae.disable_tiling()
        self.memory_savers = False

    def prompt_embeds(self, prompt, negative_prompt):
        """(prompt_embeds, negative_prompt_embeds), weighted by compel, cached per pair."""
        key = (prompt, negative_prompt)
        if key in self._prompt_cache:
            self._prompt_cache.move_to_end(key)
            return self._prompt_cache[key]
        with torch.no_grad():
            embeds = encode_prompts(self.pipeline, prompt, negative_prompt)
        if self.prompt_cache_size:
            self._prompt_cache[key] = embeds
            if len(self._prompt_cache) > self.prompt_cache_size:
                self._prompt_cache.popitem(last=False)
        return embeds

    @torch.no_grad()
    def _prepare(self, request):
        params, pipeline = request.params, self.pipeline
        size = {"height": params.height, "width": params.width}
        control = pipeline.control_image_processor.preprocess(request.control, **size)
        embeds = self.prompt_embeds(request.prompt, params.negative_prompt)
        if request.mask is not None:
            # Copied from diffusers.pipelines.controlnet.pipeline_controlnet_inpaint.StableDiffusionControlNetInpaintPipeline.__call__ (4.1)
            init = pipeline.image_processor.preprocess(request.init_image, **size).to(dtype=torch.float32)
            mask = self.mask_processor.preprocess(request.mask, **size)
            return _Prepared(request, embeds, control, init, mask, init * (mask < 0.5))
        init = pipeline.image_processor.preprocess(request.init_image, **size) if params.mode == "img2img" else None
        return _Prepared(request, embeds, control, init)

    def _render_isolated(self, items):
        try:
            return self._render_group(items)
        except torch.cuda.OutOfMemoryError as exc:
            # Without its traceback the failed attempt's tensors are freed before the retry.
            out_of_memory = exc.with_traceback(None)
        if not self.memory_savers:
            self.memory_retries += 1
            self.enable_memory_savers()
            try:
                return self._render_isolated(items)
            finally:
                # Slower, so only for the batch that needed them: the next one tries without again.
                self.disable_memory_savers()
        if len(items) == 1:
            return [out_of_memory]
        return [outcome for item in items for outcome in self._render_isolated([item])]

    @torch.no_grad()
    def _render_group(self, items):
        requests = [item.request for item in items]
        pipeline, params = self.pipeline, requests[0].params
        device, dtype, batch = pipeline.unet.device, pipeline.unet.dtype, len(requests)
        do_cfg = params.cfg_scale > 1
        # "ControlNet is more important": control on the conditional half of CFG only, and (as with "My prompt
        # is more important") per-layer scales 0.1 → 1 inside the ControlNet (its guess_mode).
        control_first = params.control_mode == CONTROL_FIRST and do_cfg
        layer_scales = params.control_mode != BALANCED
        # A CPU generator per request gives each the starting noise of its seed on every device and in any batch.
        generators = [torch.Generator("cpu").manual_seed(request.params.seed) for request in requests]
        # Stochastic samplers draw noise at every step: from a CPU generator, diffusers' randn_tensor copies it to
        # the GPU with a blocking .to(device), one host-device sync per step. So on a GPU each request draws it
        # there, from a generator of its own with its seed (on the CPU these are the generators above).
        step_generators = (
            generators if device.type == "cpu" else [torch.Generator(device).manual_seed(r.params.seed) for r in requests]
        )
        outcomes = [None] * batch

        # 1. Prompt embeddings, CFG's unconditional half first.
        prompt_embeds = torch.cat([item.embeds[0] for item in items])
        if do_cfg:
            prompt_embeds = torch.cat([torch.cat([item.embeds[1] for item in items]), prompt_embeds])
        controlnet_embeds = prompt_embeds.chunk(2)[1] if control_first else prompt_embeds

        # 2. Control images.
        control = torch.cat([item.control for item in items]).to(device=device, dtype=pipeline.controlnet.dtype)
        if do_cfg and not control_first:
            control = torch.cat([control] * 2)

        # 3. Timesteps (img2img starts part-way, at 1 - strength).
        # Copied from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img.StableDiffusionImg2ImgPipeline.get_timesteps
        scheduler = make_scheduler(params.sampler, self.scheduler_config)
        scheduler.set_timesteps(params.steps, device=device)
        strength = params.strength if params.mode == "img2img" else 1.0
        start = max(params.steps - min(int(params.steps * strength), params.steps), 0) * scheduler.order
        timesteps = scheduler.timesteps[start:]
        if hasattr(scheduler, "set_begin_index"):
            # Known up front, so the scheduler needn't look the first timestep up on the device (a sync).
            scheduler.set_begin_index(start)
        step_options: dict[str, Any] = (
            {"generator": step_generators} if "generator" in inspect.signature(scheduler.step).parameters else {}
        )
        if "eta" in inspect.signature(scheduler.step).parameters:
            step_options["eta"] = 0.0

        # 4. Starting latents: noise, or (img2img) the photo's latents noised to the first timestep.
        latent_shape = (
            batch,
            pipeline.vae.config.latent_channels,
            params.height // pipeline.vae_scale_factor,
            params.width // pipeline.vae_scale_factor,
        )
        inpainting = items[0].mask is not None
        if inpainting:
            latents, noise, image_latents, mask, masked_latents = self._inpainting_latents(
                items, scheduler, timesteps, strength, generators, latent_shape, do_cfg
            )
        elif params.mode == "img2img":
            image = torch.cat([item.init for item in items]).to(device=device, dtype=dtype)
            initial = self._encode(image, generators)
            noise = randn_tensor(initial.shape, generator=generators, device=device, dtype=dtype)
            latents = scheduler.add_noise(initial, noise, timesteps[:1].repeat(batch))
        else:
            latents = randn_tensor(latent_shape, generator=generators, device=device, dtype=dtype)
            latents = latents * scheduler.init_noise_sigma

        # 5. Denoising loop.
        # Copied from diffusers.pipelines.controlnet.pipeline_controlnet.StableDiffusionControlNetPipeline.__call__ (8),
        # with the ControlNet skipped where its keep factor is 0 and the inpaint sibling's mask handling.
        count = len(timesteps)
        control_on = [not (i / count < params.guidance_start or (i + 1) / count > params.guidance_end) for i in range(count)]
        compiled = is_compiled_module(pipeline.unet)
        for i, timestep in enumerate(timesteps):
            if compiled:
                # Compiled with CUDA graphs, outputs live in memory the next replay reuses: mark each step.
                torch.compiler.cudagraph_mark_step_begin()
            model_input = torch.cat([latents] * 2) if do_cfg else latents
            model_input = scheduler.scale_model_input(model_input, timestep)
            residuals = {}
            if control_on[i] or not self.skip_idle_controlnet:
                control_input = scheduler.scale_model_input(latents, timestep) if control_first else model_input
                residuals = control_residuals(
                    pipeline.controlnet,
                    control_input,
                    timestep,
                    controlnet_embeds,
                    control,
                    params.controlnet_scale * control_on[i],
                    control_first=control_first,
                    layer_scales=layer_scales,
                )
            unet_input = model_input
            if inpainting and pipeline.unet.config.in_channels == 9:
                # An inpainting UNet reads the mask and the kept picture beside the latents.
                unet_input = torch.cat([model_input, mask, masked_latents], dim=1)
            noise_pred = pipeline.unet(unet_input, timestep, encoder_hidden_states=prompt_embeds, **residuals, return_dict=False)[
                0
            ]
            if do_cfg:
                unconditional, conditional = noise_pred.chunk(2)
                noise_pred = unconditional + params.cfg_scale * (conditional - unconditional)
            latents = scheduler.step(noise_pred, timestep, latents, **step_options, return_dict=False)[0]
            if inpainting and pipeline.unet.config.in_channels == 4:
                # Copied from diffusers.pipelines.controlnet.pipeline_controlnet_inpaint.StableDiffusionControlNetInpaintPipeline.__call__ (8)
                # The base model inpaints by putting the kept picture back, noised to the next step, outside the mask.
                kept = image_latents
                if i < count - 1:
                    kept = scheduler.add_noise(kept, noise, timesteps[i + 1 : i + 2])
                init_mask = mask.chunk(2)[0] if do_cfg else mask
                latents = (1 - init_mask) * kept + init_mask * latents
            _report_step(requests, outcomes, i + 1, count, latents)
            if all(outcome is not None for outcome in outcomes):
                return outcomes  # every request cancelled or failed: no further steps, no decode

        # 6. Decode the latents of the requests still wanted.
        wanted = [index for index, outcome in enumerate(outcomes) if outcome is None]
        if len(wanted) < batch:
            latents = torch.cat([latents[index : index + 1] for index in wanted])
        images = pipeline.vae.decode(latents / pipeline.vae.config.scaling_factor, return_dict=False)[0]
        if pipeline.safety_checker is not None:
            images, _ = pipeline.run_safety_checker(images, device, prompt_embeds.dtype)
        images = pipeline.image_processor.postprocess(images, output_type="pil", do_denormalize=[True] * len(wanted))
        for index, image in zip(wanted, images):
            outcomes[index] = image
        return outcomes

    def _inpainting_latents(self, items, scheduler, timesteps, strength, generators, latent_shape, do_cfg):
        """(latents, noise, picture latents, mask, masked picture latents) to start inpainting from; the
        generators are drawn from in diffusers' order, so each face gets what diffusers would give it."""
        # Copied from diffusers.pipelines.controlnet.pipeline_controlnet_inpaint.StableDiffusionControlNetInpaintPipeline
        # .prepare_latents and .prepare_mask_latents (with _encode_vae_image), for one generator per request.
        pipeline = self.pipeline
        device, dtype, batch = pipeline.unet.device, pipeline.unet.dtype, len(items)
        full_strength = strength == 1.0
        image_latents = None
        if pipeline.unet.config.in_channels == 4 or not full_strength:
            image = torch.cat([item.init for item in items]).to(device=device, dtype=dtype)
            image_latents = self._encode(image, generators)
        noise = randn_tensor(latent_shape, generator=generators, device=device, dtype=dtype)
        if full_strength:
            latents = noise * scheduler.init_noise_sigma
        else:
            latents = scheduler.add_noise(image_latents, noise, timesteps[:1].repeat(batch))
        size = (latent_shape[2], latent_shape[3])
        mask = torch.nn.functional.interpolate(torch.cat([item.mask for item in items]), size=size).to(device=device, dtype=dtype)
        masked = torch.cat([item.masked for item in items]).to(device=device, dtype=dtype)
        masked_latents = self._encode(masked, generators)
        if do_cfg:
            mask, masked_latents = torch.cat([mask] * 2), torch.cat([masked_latents] * 2)
        return latents, noise, image_latents, mask, masked_latents

    def _encode(self, images, generators):
        # Copied from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_inpaint.StableDiffusionInpaintPipeline._encode_vae_image
        vae = self.pipeline.vae
        latents = [retrieve_latents(vae.encode(images[i : i + 1]), generator=generators[i]) for i in range(len(images))]
        return vae.config.scaling_factor * torch.cat(latents)


def control_residuals(controlnet, sample, timestep, embeds, control, scale, *, control_first, layer_scales):
    """The ControlNet's residuals for one step under the ControlNet extension's control modes (docs/ENGINE.md
    explains the mapping); the only place they are applied, for single dogs, lineups and group photos alike.

    control_first ("ControlNet is more important" with CFG): the ControlNet sees the conditional half only
    and the unconditional half gets zeros. layer_scales ("My prompt is more important" and "ControlNet is
    more important"): the per-layer scales 0.1 (shallow) → 1.0 (middle block), diffusers' guess_mode.
    """
    # Copied from diffusers.pipelines.controlnet.pipeline_controlnet.StableDiffusionControlNetPipeline.__call__ (8)
    down, middle = controlnet(
        sample,
        timestep,
        encoder_hidden_states=embeds,
        controlnet_cond=control,
        conditioning_scale=scale,
        guess_mode=layer_scales,
        return_dict=False,
    )
    if control_first:
        # The unconditional half gets no control: zeros, as diffusers adds.
        down = [torch.cat([torch.zeros_like(d), d]) for d in down]
        middle = torch.cat([torch.zeros_like(middle), middle])
    return {"down_block_additional_residuals": down, "mid_block_additional_residual": middle}


def _report_step(requests, outcomes, step, steps, latents):
    """Each live request's own progress and cancel; an exception from one request's callback ends that request only."""
    for index, request in enumerate(requests):
        if outcomes[index] is not None:
            continue
        try:
            if request.on_step:
                request.on_step(step, steps, latents[index : index + 1])
            _check_cancel(request)
        except Exception as exc:  # noqa: BLE001
            outcomes[index] = exc


def _check_cancel(request):
    if request.should_cancel and request.should_cancel():
        raise GenerationCancelled()
