"""The one loader of Stable Diffusion 1.5 + the MediaPipe-face ControlNet, for real and tiny weights."""

import logging
from pathlib import Path

import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline
from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0
from django.conf import settings
from huggingface_hub.errors import HFValidationError

logger = logging.getLogger(__name__)

# Hub repositories whose SD 1.5 weights live in a subfolder: CrucibleAI's root holds the SD 2.1 ControlNet.
CONTROLNET_SUBFOLDERS = {"CrucibleAI/ControlNetMediaPipeFace": "diffusion_sd15"}
LOCAL_CONTROLNET_SUBFOLDER = "diffusion_sd15"

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


def resolve_device(device=None):
    device = device or settings.FTA_DEVICE
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_pipeline(
    sd_model=None,
    controlnet_model=None,
    device=None,
    *,
    fp16=None,
    sdpa=True,
    channels_last=None,
    compile_models=None,
    safety_checker=None,
):
    """A StableDiffusionControlNetPipeline on `device`; None arguments take the FTA_* settings.

    fp16 and channels-last default to on for CUDA only; torch.compile follows FTA_TORCH_COMPILE and the
    safety checker FTA_SAFETY_CHECKER.
    """
    sd_model = str(sd_model or settings.FTA_SD_MODEL)
    controlnet_model = str(controlnet_model or settings.FTA_CONTROLNET_MODEL)
    device = resolve_device(device)
    on_cuda = device.startswith("cuda")
    fp16 = on_cuda if fp16 is None else fp16
    channels_last = on_cuda if channels_last is None else channels_last
    compile_models = settings.FTA_TORCH_COMPILE if compile_models is None else compile_models
    safety_checker = settings.FTA_SAFETY_CHECKER if safety_checker is None else safety_checker
    dtype = torch.float16 if fp16 else torch.float32
    if settings.FTA_TORCH_THREADS:
        # Several CPU workers on one machine each take every core by default and then fight over them.
        torch.set_num_threads(settings.FTA_TORCH_THREADS)

    controlnet = _from_pretrained(
        "FTA_CONTROLNET_MODEL", controlnet_model, ControlNetModel, dtype, **_controlnet_location(controlnet_model)
    )
    # The checker is tuned for NSFW content and needs its own CLIP weights; off unless asked for.
    extra = {} if safety_checker else {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    pipeline = _from_pretrained(
        "FTA_SD_MODEL", sd_model, StableDiffusionControlNetPipeline, dtype, controlnet=controlnet, **extra
    )
    pipeline.to(device)
    attention = AttnProcessor2_0() if sdpa else AttnProcessor()
    pipeline.unet.set_attn_processor(attention)
    pipeline.controlnet.set_attn_processor(attention)
    if channels_last:
        pipeline.unet.to(memory_format=torch.channels_last)
        pipeline.controlnet.to(memory_format=torch.channels_last)
    if compile_models:
        pipeline.unet = torch.compile(pipeline.unet)
        pipeline.controlnet = torch.compile(pipeline.controlnet)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _controlnet_location(controlnet_model):
    path = Path(controlnet_model)
    if path.is_dir():
        return {"pretrained": str(path / LOCAL_CONTROLNET_SUBFOLDER)} if (path / LOCAL_CONTROLNET_SUBFOLDER).is_dir() else {}
    subfolder = CONTROLNET_SUBFOLDERS.get(controlnet_model)
    return {"subfolder": subfolder} if subfolder else {}


def _from_pretrained(setting, location, loader, dtype, pretrained=None, **kwargs):
    """loader.from_pretrained with the fp16 variant where one exists, and one clear error for missing weights."""
    pretrained = pretrained or location
    try:
        if _looks_like_path(location) and not Path(location).expanduser().is_dir():
            raise FileNotFoundError(f"no directory {location}")
        if dtype == torch.float16:
            try:
                return loader.from_pretrained(pretrained, dtype=dtype, variant="fp16", **kwargs)
            except (OSError, ValueError) as error:
                logger.info("No fp16 variant of %s (%s); casting the full weights to fp16.", pretrained, error)
        return loader.from_pretrained(pretrained, dtype=dtype, **kwargs)
    except (OSError, HFValidationError) as error:
        # OSError covers huggingface_hub's not-found, offline and HTTP errors as well as missing files.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelNotAvailable(
            f"Model weights for {setting}={location!r} are not available ({reason}). "
            f"Download them where there is network access with: {DOWNLOAD_HINTS[setting]} "
            f"and set {setting} to that directory."
        ) from None


def _looks_like_path(location):
    # Hub ids are "owner/name"; anything absolute or explicitly relative is meant as a directory.
    return location.startswith(("/", ".", "~")) or location.count("/") > 1
