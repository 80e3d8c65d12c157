"""The exact Stable Diffusion 1.5 + ControlNet architecture with random weights, in diffusers format.

Same layers, shapes and FLOPs as the real weights, so it runs exactly as fast as they do: benches and the
GPU check use it where no weights can be downloaded. The numbers are those of the Hub's config.json files:
- UNet, VAE, text encoder, scheduler: stable-diffusion-v1-5/stable-diffusion-v1-5, folders unet/, vae/,
  text_encoder/ and scheduler/ (UNet 859,520,964 parameters, VAE 83,653,863, CLIP ViT-L/14 text 123,060,480).
- ControlNet: CrucibleAI/ControlNetMediaPipeFace diffusion_sd15/config.json, the standard SD 1.5 ControlNet,
  i.e. `ControlNetModel.from_unet(unet)` with the default conditioning embedding (16, 32, 96, 256):
  361,279,120 parameters.
The tokenizer is a CLIPTokenizer built here with CLIP's vocabulary size and special-token ids (the recipe's
words are whole tokens, other words are spelt out), so no download is needed.
"""

import re
import tempfile
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    ControlNetModel,
    PNDMScheduler,
    StableDiffusionControlNetPipeline,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel

from transform.local_tokenizer import local_clip_tokenizer
from transform.params import DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT_TEMPLATE

# stable-diffusion-v1-5/stable-diffusion-v1-5 unet/config.json
UNET_CONFIG = dict(
    sample_size=64,
    in_channels=4,
    out_channels=4,
    center_input_sample=False,
    flip_sin_to_cos=True,
    freq_shift=0,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(320, 640, 1280, 1280),
    layers_per_block=2,
    downsample_padding=1,
    mid_block_scale_factor=1,
    act_fn="silu",
    norm_num_groups=32,
    norm_eps=1e-5,
    cross_attention_dim=768,
    attention_head_dim=8,
)
# CrucibleAI/ControlNetMediaPipeFace diffusion_sd15/config.json: from_unet's defaults.
CONTROLNET_CONDITIONING_CHANNELS = (16, 32, 96, 256)
# stable-diffusion-v1-5/stable-diffusion-v1-5 vae/config.json
VAE_CONFIG = dict(
    sample_size=512,
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(128, 256, 512, 512),
    layers_per_block=2,
    act_fn="silu",
    latent_channels=4,
    norm_num_groups=32,
    scaling_factor=0.18215,
)
# stable-diffusion-v1-5/stable-diffusion-v1-5 text_encoder/config.json (openai/clip-vit-large-patch14's text tower)
TEXT_ENCODER_CONFIG = dict(
    vocab_size=49408,
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    max_position_embeddings=77,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
    projection_dim=768,
    # The legacy ids of that config: transformers then finds the end token as the largest id (49407).
    bos_token_id=0,
    eos_token_id=2,
    pad_token_id=1,
)
# stable-diffusion-v1-5/stable-diffusion-v1-5 scheduler/scheduler_config.json
SCHEDULER_CONFIG = dict(
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    num_train_timesteps=1000,
    set_alpha_to_one=False,
    skip_prk_steps=True,
    steps_offset=1,
    clip_sample=False,
)
SEED = 0
# Words that become whole tokens, as they would with CLIP's real vocabulary: the recipe's prompts.
RECIPE_WORDS = sorted(set(re.findall(r"[a-z]+", f"{DEFAULT_PROMPT_TEMPLATE} {DEFAULT_NEGATIVE_PROMPT} golden retriever")))


def build_models(device="cpu", dtype=torch.float32):
    """(unet, controlnet, vae, text_encoder) with random weights, made directly on `device`.

    With device="meta" nothing is allocated: that is how the tests count parameters.
    """
    torch.manual_seed(SEED)
    with torch.device(device):
        unet = UNet2DConditionModel(**UNET_CONFIG)
        controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=CONTROLNET_CONDITIONING_CHANNELS)
        vae = AutoencoderKL(**VAE_CONFIG)
        text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_ENCODER_CONFIG))
    models = (unet, controlnet, vae, text_encoder)
    return models if dtype == torch.float32 else tuple(model.to(dtype) for model in models)


def build_pipeline(device="cpu", dtype=torch.float32):
    """The full-size StableDiffusionControlNetPipeline, in memory (nothing written)."""
    unet, controlnet, vae, text_encoder = build_models(device, dtype)
    with tempfile.TemporaryDirectory() as vocab_dir:
        tokenizer = local_clip_tokenizer(Path(vocab_dir), vocab_size=TEXT_ENCODER_CONFIG["vocab_size"], words=RECIPE_WORDS)
    return StableDiffusionControlNetPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        controlnet=controlnet,
        scheduler=PNDMScheduler.from_config(SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def write_full_size_pipeline(directory, fp16=False):
    """Writes DIR/sd and DIR/controlnet (2.7 GB with fp16, twice that without); returns both paths."""
    directory = Path(directory)
    sd_dir, controlnet_dir = directory / "sd", directory / "controlnet"
    pipeline = build_pipeline(dtype=torch.float16 if fp16 else torch.float32)
    pipeline.controlnet.save_pretrained(controlnet_dir)
    # Laid out like the real weights: an SD pipeline, and the ControlNet in a location of its own.
    components = {name: part for name, part in pipeline.components.items() if name != "controlnet"}
    StableDiffusionPipeline(**components, requires_safety_checker=False).save_pretrained(sd_dir)
    return sd_dir, controlnet_dir
