"""The engine as the settings describe it: the one place where FTA_* settings become engine arguments."""

from django.conf import settings

from transform.engine import Engine
from transform.pipeline import LoadOptions

AUTO = {"auto": None, "1": True, "0": False}


def engine_from_settings():
    return Engine(
        settings.FTA_SD_MODEL,
        settings.FTA_CONTROLNET_MODEL,
        settings.FTA_DEVICE,
        load_options_from_settings(),
        prompt_cache_size=settings.FTA_PROMPT_CACHE,
    )


def load_options_from_settings():
    return LoadOptions(
        precision=None if settings.FTA_PRECISION == "auto" else settings.FTA_PRECISION,
        channels_last=AUTO[settings.FTA_CHANNELS_LAST],
        fuse_qkv=AUTO[settings.FTA_FUSE_QKV],
        compile=settings.FTA_TORCH_COMPILE,
        cuda_graphs=settings.FTA_CUDA_GRAPHS,
        safety_checker=settings.FTA_SAFETY_CHECKER,
        torch_threads=settings.FTA_TORCH_THREADS,
    )
