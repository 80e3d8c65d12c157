"""Which files of a Hugging Face repository the loader (transform.pipeline) reads, so that a download
fetches those and nothing else.

stable-diffusion-v1-5/stable-diffusion-v1-5 holds about 30 GB: single-file checkpoints, EMA and non-EMA
UNets, .bin copies of every safetensors file, a safety checker. The pipeline reads model_index.json and
five component folders, one weight file each: the fp16 safetensors where the repository has one
(pipeline.py loads it for any precision from a local folder), else the full-precision safetensors, else
a .bin.
"""

import re
from dataclasses import dataclass

# Hub repositories whose SD 1.5 weights live in a subfolder: CrucibleAI's root holds the SD 2.1 ControlNet.
CONTROLNET_SUBFOLDERS = {"CrucibleAI/ControlNetMediaPipeFace": "diffusion_sd15"}
# What StableDiffusionControlNetPipeline loads (the ControlNet is passed in; the safety checker and its
# feature extractor only with FTA_SAFETY_CHECKER).
SD_FOLDERS = ("scheduler", "text_encoder", "tokenizer", "unet", "vae")
SAFETY_CHECKER_FOLDERS = ("safety_checker", "feature_extractor")
# Formats in order of preference; a folder's weights are every file of the first format it has.
WEIGHT_FORMATS = (("fp16", "safetensors"), (None, "safetensors"), ("fp16", "bin"), (None, "bin"))
WEIGHT = re.compile(
    r"^(?P<name>[^./]+)(?:\.(?P<variant>[A-Za-z0-9_]+))?(?:-\d{5}-of-\d{5})?"
    r"\.(?P<ext>safetensors|bin|ckpt|pt|pth|msgpack|h5|onnx|pb)$"
)
# Configuration, tokenizer and scheduler files that sit beside the weights.
SMALL_FILE = re.compile(r"^[^/]+\.(json|txt)$")


@dataclass(frozen=True)
class ModelDownload:
    """One repository to fetch: the setting it serves, the Hub id, the folder it lands in, what it reads."""

    setting: str
    repo_id: str
    folder: str  # under the destination: sd, controlnet, sd-inpainting
    subfolders: tuple  # the repository's folders the loader reads ("" for the repository's root)
    root_files: tuple = ()


def sd_download(repo_id, safety_checker=False):
    folders = SD_FOLDERS + (SAFETY_CHECKER_FOLDERS if safety_checker else ())
    return ModelDownload("FTA_SD_MODEL", repo_id, "sd", folders, root_files=("model_index.json",))


def controlnet_download(repo_id, subfolder):
    """A ControlNet, from `subfolder` of the repository (diffusion_sd15 for CrucibleAI's) or its root ("")."""
    return ModelDownload("FTA_CONTROLNET_MODEL", repo_id, "controlnet", (subfolder,))


def inpaint_download(repo_id):
    """An SD 1.5 inpainting pipeline, of which only the UNet is loaded (transform.group)."""
    return ModelDownload("FTA_SD_INPAINT_MODEL", repo_id, "sd-inpainting", ("unet",))


def files_to_fetch(download, listing):
    """The paths of `listing` (every file of the repository) that the loader reads, sorted."""
    chosen = [path for path in download.root_files if path in listing]
    for subfolder in download.subfolders:
        prefix = f"{subfolder}/" if subfolder else ""
        names = [path[len(prefix) :] for path in listing if path.startswith(prefix) and "/" not in path[len(prefix) :]]
        chosen += [prefix + name for name in names if SMALL_FILE.match(name)]
        chosen += [prefix + name for name in weights(names)]
    return sorted(set(chosen))


def weights(names):
    """The weight files of one folder to fetch: every file (shards too) of the first format of WEIGHT_FORMATS."""
    found: dict = {}
    for name in names:
        match = WEIGHT.match(name)
        if match:
            found.setdefault((match["variant"], match["ext"]), []).append(name)
    for wanted in WEIGHT_FORMATS:
        if wanted in found:
            return found[wanted]
    return []
