"""`manage.py download_models` fetches what the loader reads and nothing else. There is no network here:
the choice of files is checked against the real repositories' file lists (as the Hub shows them), the
folder it leaves is checked with `doctor` and the real loader, and the command itself must say in one line
that it needs the network."""

import shutil
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from transform.model_files import controlnet_download, files_to_fetch, inpaint_download, sd_download

from .processes import ROOT, subprocess_env

# Every file of stable-diffusion-v1-5/stable-diffusion-v1-5: `hf download` of the repository fetches all of them.
SD15_FILES = [
    ".gitattributes",
    "README.md",
    "feature_extractor/preprocessor_config.json",
    "model_index.json",
    "safety_checker/config.json",
    "safety_checker/model.fp16.safetensors",
    "safety_checker/model.safetensors",
    "safety_checker/pytorch_model.bin",
    "safety_checker/pytorch_model.fp16.bin",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.fp16.safetensors",
    "text_encoder/model.safetensors",
    "text_encoder/pytorch_model.bin",
    "text_encoder/pytorch_model.fp16.bin",
    "tokenizer/merges.txt",
    "tokenizer/special_tokens_map.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.bin",
    "unet/diffusion_pytorch_model.fp16.bin",
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/diffusion_pytorch_model.non_ema.bin",
    "unet/diffusion_pytorch_model.non_ema.safetensors",
    "unet/diffusion_pytorch_model.safetensors",
    "v1-5-pruned-emaonly.ckpt",
    "v1-5-pruned-emaonly.safetensors",
    "v1-5-pruned.ckpt",
    "v1-5-pruned.safetensors",
    "v1-inference.yaml",
    "vae/config.json",
    "vae/diffusion_pytorch_model.bin",
    "vae/diffusion_pytorch_model.fp16.bin",
    "vae/diffusion_pytorch_model.fp16.safetensors",
    "vae/diffusion_pytorch_model.safetensors",
]
# CrucibleAI/ControlNetMediaPipeFace: the root is the SD 2.1 ControlNet, diffusion_sd15/ the SD 1.5 one.
CONTROLNET_FILES = [
    ".gitattributes",
    "README.md",
    "config.json",
    "control_v2p_sd15_mediapipe_face.full.safetensors",
    "control_v2p_sd15_mediapipe_face.safetensors",
    "control_v2p_sd15_mediapipe_face.yaml",
    "control_v2p_sd21_mediapipe_face.full.safetensors",
    "control_v2p_sd21_mediapipe_face.safetensors",
    "control_v2p_sd21_mediapipe_face.yaml",
    "diffusion_pytorch_model.bin",
    "diffusion_pytorch_model.safetensors",
    "diffusion_sd15/config.json",
    "diffusion_sd15/diffusion_pytorch_model.bin",
    "diffusion_sd15/diffusion_pytorch_model.safetensors",
    "gradio_face2image.py",
    "laion_face_common.py",
    "laion_face_dataset.py",
    "samples_laion_face_dataset/family_annotation.png",
    "samples_laion_face_dataset/family_source.jpg",
    "tool_add_control_sd21.py",
    "train_laion_face.py",
    "train_laion_face_sd15.py",
]
# stable-diffusion-v1-5/stable-diffusion-inpainting (the parts that matter here).
INPAINTING_FILES = [
    "model_index.json",
    "sd-v1-5-inpainting.ckpt",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "unet/config.json",
    "unet/diffusion_pytorch_model.bin",
    "unet/diffusion_pytorch_model.fp16.bin",
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
]


def test_from_sd_15_it_takes_the_five_components_in_fp16_safetensors_and_nothing_else():
    assert files_to_fetch(sd_download("stable-diffusion-v1-5/stable-diffusion-v1-5"), SD15_FILES) == [
        "model_index.json",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.fp16.safetensors",
        "tokenizer/merges.txt",
        "tokenizer/special_tokens_map.json",
        "tokenizer/tokenizer_config.json",
        "tokenizer/vocab.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "vae/config.json",
        "vae/diffusion_pytorch_model.fp16.safetensors",
    ]


def test_the_safety_checker_comes_only_when_it_is_switched_on():
    files = files_to_fetch(sd_download("stable-diffusion-v1-5/stable-diffusion-v1-5", safety_checker=True), SD15_FILES)
    assert {"safety_checker/config.json", "safety_checker/model.fp16.safetensors"} <= set(files)
    assert "feature_extractor/preprocessor_config.json" in files
    assert "safety_checker/pytorch_model.bin" not in files


def test_from_the_controlnet_repository_it_takes_the_sd_15_subfolder_in_its_only_safetensors():
    download = controlnet_download("CrucibleAI/ControlNetMediaPipeFace", "diffusion_sd15")
    assert files_to_fetch(download, CONTROLNET_FILES) == [
        "diffusion_sd15/config.json",
        "diffusion_sd15/diffusion_pytorch_model.safetensors",
    ]


def test_a_controlnet_at_a_repositorys_root_gives_its_config_and_one_weight_file():
    listing = ["README.md", "config.json", "diffusion_pytorch_model.bin", "diffusion_pytorch_model.safetensors", "x.py"]
    assert files_to_fetch(controlnet_download("someone/sd-controlnet", ""), listing) == [
        "config.json",
        "diffusion_pytorch_model.safetensors",
    ]


def test_from_the_inpainting_repository_it_takes_the_unet_alone():
    assert files_to_fetch(inpaint_download("stable-diffusion-v1-5/stable-diffusion-inpainting"), INPAINTING_FILES) == [
        "unet/config.json",
        "unet/diffusion_pytorch_model.fp16.safetensors",
    ]


def test_sharded_weights_come_with_every_shard_and_their_index():
    listing = [
        "unet/config.json",
        "unet/diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
        "unet/diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
        "unet/diffusion_pytorch_model.safetensors.index.fp16.json",
        "unet/diffusion_pytorch_model-00001-of-00002.safetensors",
    ]
    assert files_to_fetch(inpaint_download("x/y"), listing) == sorted(listing[:4])


def downloaded_shape(tiny_pipeline_dir, target):
    """A folder as download_models leaves it (fp16 variant files; the ControlNet in diffusion_sd15/), made from
    the tiny pipeline by make_test_pipeline: only the files files_to_fetch picks from what the writer wrote."""
    import torch
    from diffusers import ControlNetModel, StableDiffusionPipeline

    written = target.parent / "written"
    sd = StableDiffusionPipeline.from_pretrained(tiny_pipeline_dir / "sd", safety_checker=None, feature_extractor=None)
    sd.to(torch.float16).save_pretrained(written / "sd", variant="fp16")
    sd.to(torch.float32).save_pretrained(written / "sd", variant=None)  # beside it, as on the Hub: not to be taken
    ControlNetModel.from_pretrained(tiny_pipeline_dir / "controlnet").save_pretrained(written / "controlnet" / "diffusion_sd15")
    for download in (sd_download("tiny/sd"), controlnet_download("tiny/controlnet", "diffusion_sd15")):
        source = written / download.folder
        listing = [str(path.relative_to(source)) for path in source.rglob("*") if path.is_file()]
        for name in files_to_fetch(download, listing):
            (target / download.folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source / name, target / download.folder / name)
    shutil.rmtree(written)
    return target


@pytest.mark.django_db
def test_doctor_says_ok_for_the_folders_it_leaves_and_the_worker_loads_them_on_the_cpu(settings, tiny_pipeline_dir, tmp_path):
    from transform.engine import Engine

    models = downloaded_shape(tiny_pipeline_dir, tmp_path / "models")
    assert not list(models.glob("sd/unet/diffusion_pytorch_model.safetensors")), "only the fp16 variant was taken"
    settings.FTA_SD_MODEL, settings.FTA_CONTROLNET_MODEL = str(models / "sd"), str(models / "controlnet")
    out = StringIO()
    call_command("doctor", stdout=out)
    assert "ok   SD model: local folder" in out.getvalue() and "ok   ControlNet model: local folder" in out.getvalue()
    engine = Engine(models / "sd", models / "controlnet", device="cpu")
    engine.load()  # fp32 on the CPU, from fp16 files only
    assert engine.pipeline.unet.dtype.is_floating_point and str(engine.pipeline.unet.dtype) == "torch.float32"


def test_without_the_network_it_says_so_in_one_line_and_writes_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "download_models", str(tmp_path / "models")],
        cwd=ROOT,
        env=subprocess_env(HF_HUB_OFFLINE=1),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Could not download stable-diffusion-v1-5/stable-diffusion-v1-5" in result.stderr
    assert "where there is network access" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "models").exists()


def test_settings_that_are_local_folders_are_not_downloaded(settings, tiny_pipeline_dir):
    settings.FTA_SD_MODEL, settings.FTA_CONTROLNET_MODEL = str(tiny_pipeline_dir / "sd"), str(tiny_pipeline_dir / "controlnet")
    out = StringIO()
    call_command("download_models", stdout=out)
    assert "nothing to download" in out.getvalue()
