"""The one loader of Stable Diffusion 1.5 + the MediaPipe-face ControlNet, for real, full-size and tiny weights.

Configuration comes in as arguments (LoadOptions); nothing here reads settings, so the engine runs as a
plain library, e.g. on a GPU machine without Django (bench/gpu.py).
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline
from diffusers.models.attention_processor import Attention, AttnProcessor, AttnProcessor2_0, FusedAttnProcessor2_0
from huggingface_hub.errors import HFValidationError

from transform.model_files import CONTROLNET_SUBFOLDERS

logger = logging.getLogger(__name__)

LOCAL_CONTROLNET_SUBFOLDER = "diffusion_sd15"
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

DOWNLOAD_HINTS = {
    "FTA_SD_MODEL": (
        'hf download stable-diffusion-v1-5/stable-diffusion-v1-5 --exclude "*.ckpt" --exclude "*.bin" '
        '--exclude "v1-5-*" --local-dir /srv/models/sd15'
    ),
    "FTA_SD_INPAINT_MODEL": (
        'hf download stable-diffusion-v1-5/stable-diffusion-inpainting --include "unet/*" --exclude "*.bin" '
        "--local-dir /srv/models/sd15-inpainting"
    ),
    "FTA_CONTROLNET_MODEL": (
        'hf download CrucibleAI/ControlNetMediaPipeFace --include "diffusion_sd15/*" '
        "--local-dir /srv/models/controlnet-mediapipe-face"
    ),
}


class ModelNotAvailable(RuntimeError):
    """Weights that can't be found locally or fetched; the message says which setting and how to download."""


@dataclass(frozen=True)
class LoadOptions:
    """How the loaded pipeline runs. None means "on for CUDA, off for the CPU"; docs/ENGINE.md says which are exact."""

    precision: str | None = None  # fp16, bf16 or fp32; None: fp16 on CUDA, fp32 on the CPU
    sdpa: bool = True  # PyTorch's scaled-dot-product attention (flash / memory-efficient kernels)
    channels_last: bool | None = None  # UNet, ControlNet and VAE in channels-last memory format
    fuse_qkv: bool | None = None  # one matmul for the query, key and value projections
    compile: bool = False  # torch.compile (static shapes) of UNet, ControlNet and the VAE decoder
    cuda_graphs: bool = False  # with compile: CUDA graphs ("reduce-overhead"), CUDA only
    safety_checker: bool = False
    torch_threads: int = 0  # CPU threads for torch; 0 leaves torch's default

    def resolved(self, device):
        """These options with every None decided for `device`."""
        on_cuda = device.startswith("cuda")
        return LoadOptions(
            precision=self.precision or ("fp16" if on_cuda else "fp32"),
            sdpa=self.sdpa,
            channels_last=on_cuda if self.channels_last is None else self.channels_last,
            fuse_qkv=on_cuda if self.fuse_qkv is None else self.fuse_qkv,
            compile=self.compile,
            cuda_graphs=self.cuda_graphs and self.compile and on_cuda,
            safety_checker=self.safety_checker,
            torch_threads=self.torch_threads,
        )


def resolve_device(device):
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_pipeline(sd_model, controlnet_model, device, options=LoadOptions()):
    """A StableDiffusionControlNetPipeline from Hub ids or local directories, on `device`, set up by `options`."""
    sd_model, controlnet_model, device = str(sd_model), str(controlnet_model), resolve_device(device)
    options = options.resolved(device)
    dtype = PRECISIONS[options.precision]
    controlnet = _from_pretrained(
        "FTA_CONTROLNET_MODEL", controlnet_model, ControlNetModel, dtype, **_controlnet_location(controlnet_model)
    )
    # The checker is tuned for NSFW content and needs its own CLIP weights; off unless asked for.
    extra = (
        {} if options.safety_checker else {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    )
    pipeline = _from_pretrained(
        "FTA_SD_MODEL", sd_model, StableDiffusionControlNetPipeline, dtype, controlnet=controlnet, **extra
    )
    return prepare_pipeline(pipeline, device, options)


def prepare_pipeline(pipeline, device, options=LoadOptions()):
    """Moves a loaded or freshly built pipeline to `device` and applies `options`, in place; returns it."""
    device = resolve_device(device)
    options = options.resolved(device)
    if options.torch_threads:
        # Several CPU workers on one machine each take every core by default and then fight over them.
        torch.set_num_threads(options.torch_threads)
    pipeline.to(device, PRECISIONS[options.precision])
    for model in denoising_models(pipeline):
        # Set explicitly rather than trusted to be the default.
        model.set_attn_processor(AttnProcessor2_0() if options.sdpa else AttnProcessor())
        if options.fuse_qkv:
            fuse_qkv_projections(model)
        if options.channels_last:
            model.to(memory_format=torch.channels_last)
    if options.compile:
        compile_models(pipeline, cuda_graphs=options.cuda_graphs)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def denoising_models(pipeline):
    """The models the optimisations apply to: UNet, ControlNet and VAE."""
    return pipeline.unet, pipeline.controlnet, pipeline.vae


def compile_models(pipeline, cuda_graphs=False):
    """torch.compile of UNet, ControlNet and VAE decoder with static shapes: each batch and image size compiles
    once (on its first call) and replays after. With cuda_graphs, each replay is one CUDA graph launch."""
    # Not fullgraph: a graph break in a diffusers release costs some speed rather than failing the worker.
    options = {"mode": "reduce-overhead" if cuda_graphs else None, "dynamic": False}
    pipeline.unet = torch.compile(pipeline.unet, **options)
    pipeline.controlnet = torch.compile(pipeline.controlnet, **options)
    pipeline.vae.decode = torch.compile(pipeline.vae.decode, **options)


def fuse_qkv_projections(model):
    """One matmul for query, key and value (key and value for cross-attention): the same products, fewer launches.

    diffusers' UNet and VAE have this as a method, its ControlNet does not; this does it for any of them.
    """
    for module in model.modules():
        if isinstance(module, Attention):
            module.fuse_projections(fuse=True)
    model.set_attn_processor(FusedAttnProcessor2_0())


def _controlnet_location(controlnet_model):
    path = Path(controlnet_model)
    if path.is_dir():
        return {"pretrained": str(path / LOCAL_CONTROLNET_SUBFOLDER)} if (path / LOCAL_CONTROLNET_SUBFOLDER).is_dir() else {}
    subfolder = CONTROLNET_SUBFOLDERS.get(controlnet_model)
    return {"subfolder": subfolder} if subfolder else {}


def _from_pretrained(setting, location, loader, dtype, pretrained=None, **kwargs):
    """loader.from_pretrained with the fp16 variant where one exists, and one clear error for missing weights.

    A local folder may hold only the fp16 variant (what `manage.py download_models` fetches): any other
    precision then loads it and casts it up. Hub ids are not tried twice: offline, each try waits for retries.
    """
    pretrained = pretrained or location
    try:
        local = Path(location).expanduser().is_dir()
        if _looks_like_path(location) and not local:
            raise FileNotFoundError(f"no directory {location}")
        if dtype == torch.float16:
            try:
                return loader.from_pretrained(pretrained, dtype=dtype, variant="fp16", **kwargs)
            except (OSError, ValueError) as error:
                logger.info("No fp16 variant of %s (%s); casting the full weights to fp16.", pretrained, error)
        try:
            return loader.from_pretrained(pretrained, dtype=dtype, **kwargs)
        except OSError as full_weights_error:
            if dtype == torch.float16 or not local:
                raise
            logger.info("No full-precision weights in %s: loading its fp16 variant as %s.", pretrained, dtype)
            try:
                return loader.from_pretrained(pretrained, dtype=dtype, variant="fp16", **kwargs)
            except (OSError, ValueError):
                raise full_weights_error from None  # it says best what is missing
    except (OSError, HFValidationError) as error:
        # OSError covers huggingface_hub's not-found, offline and HTTP errors as well as missing files.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelNotAvailable(
            f"Model weights for {setting}={location!r} are not available ({reason}). "
            "Download them where there is network access with `python manage.py download_models` (only the "
            f"files the worker loads), or with: {DOWNLOAD_HINTS[setting]} and set {setting} to that directory."
        ) from None


def _looks_like_path(location):
    # Hub ids are "owner/name"; anything absolute or explicitly relative is meant as a directory.
    return location.startswith(("/", ".", "~")) or location.count("/") > 1
