"""Rendering: prompts + control images (+ init images) → PIL images, several compatible requests in one batch.

The stages are those of diffusers' StableDiffusionControlNetPipeline and its img2img sibling, run here on
the pipeline's components so that:
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
from dataclasses import dataclass
from typing import Any

import torch
from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img import retrieve_latents
from diffusers.utils.torch_utils import is_compiled_module, randn_tensor

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
    params: object  # transform.params.GenerationParams with a seed
    control: object  # PIL image, the ControlNet's input
    init_image: object = None  # PIL image, img2img only
    on_step: object = None  # on_step(step, steps, latents) after every denoising step; latents: (1, 4, h/8, w/8)
    should_cancel: object = None  # checked before the start and after every step


@dataclass
class _Prepared:
    request: RenderRequest
    embeds: tuple  # (prompt_embeds, negative_prompt_embeds), each (1, tokens, width)
    control: object  # (1, 3, h, w) tensor in [0, 1]
    init: object  # (1, 3, h, w) tensor in [-1, 1], img2img only


class Renderer:
    """Renders requests on one loaded pipeline (see transform.pipeline.load_pipeline)."""

    def __init__(self, pipeline, *, skip_idle_controlnet=True, prompt_cache_size=64):
        self.pipeline = pipeline
        self.scheduler_config = pipeline.scheduler.config
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
            groups.setdefault((request.params.batch_key(), item.embeds[0].shape[1]), []).append((index, item))
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
        init = pipeline.image_processor.preprocess(request.init_image, **size) if params.mode == "img2img" else None
        return _Prepared(request, self.prompt_embeds(request.prompt, params.negative_prompt), control, init)

    def _render_isolated(self, items):
        try:
            return self._render_group(items)
        except torch.cuda.OutOfMemoryError as exc:
            # Without its traceback the failed attempt's tensors are freed before the retry.
            out_of_memory = exc.with_traceback(None)
        if not self.memory_savers:
            self.memory_retries += 1
            self.enable_memory_savers()
            return self._render_isolated(items)
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
        scheduler = make_scheduler(params.sampler, self.scheduler_config)
        scheduler.set_timesteps(params.steps, device=device)
        start = 0
        if params.mode == "img2img":
            start = max(params.steps - min(int(params.steps * params.strength), params.steps), 0) * scheduler.order
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
            pipeline.unet.config.in_channels,
            params.height // pipeline.vae_scale_factor,
            params.width // pipeline.vae_scale_factor,
        )
        if params.mode == "img2img":
            image = torch.cat([item.init for item in items]).to(device=device, dtype=dtype)
            initial = torch.cat(
                [retrieve_latents(pipeline.vae.encode(image[i : i + 1]), generator=generators[i]) for i in range(batch)]
            )
            initial = pipeline.vae.config.scaling_factor * initial
            noise = randn_tensor(initial.shape, generator=generators, device=device, dtype=dtype)
            latents = scheduler.add_noise(initial, noise, timesteps[:1].repeat(batch))
        else:
            latents = randn_tensor(latent_shape, generator=generators, device=device, dtype=dtype)
            latents = latents * scheduler.init_noise_sigma

        # 5. Denoising loop.
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
                down, middle = pipeline.controlnet(
                    control_input,
                    timestep,
                    encoder_hidden_states=controlnet_embeds,
                    controlnet_cond=control,
                    conditioning_scale=params.controlnet_scale * control_on[i],
                    guess_mode=layer_scales,
                    return_dict=False,
                )
                if control_first:
                    # The unconditional half gets no control: zeros, as diffusers adds.
                    down = [torch.cat([torch.zeros_like(d), d]) for d in down]
                    middle = torch.cat([torch.zeros_like(middle), middle])
                residuals = {"down_block_additional_residuals": down, "mid_block_additional_residual": middle}
            noise_pred = pipeline.unet(
                model_input, timestep, encoder_hidden_states=prompt_embeds, **residuals, return_dict=False
            )[0]
            if do_cfg:
                unconditional, conditional = noise_pred.chunk(2)
                noise_pred = unconditional + params.cfg_scale * (conditional - unconditional)
            latents = scheduler.step(noise_pred, timestep, latents, **step_options, return_dict=False)[0]
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
