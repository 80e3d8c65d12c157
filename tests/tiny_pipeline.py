"""A tiny random-weight SD 1.5 + ControlNet pipeline in diffusers format, for tests and benchmarks.

Same architecture families and file layout as the real weights, so it loads through the one loader
(transform.pipeline.load_pipeline); sized so that a 64x64 image takes about a second on a CPU.
"""

import tempfile
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    ControlNetModel,
    PNDMScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel

from tests.full_size_pipeline import SCHEDULER_CONFIG
from transform.local_tokenizer import local_clip_tokenizer

IMAGE_SIZE = 64
TEXT_WIDTH = 32
BLOCKS = (32, 64)
VAE_BLOCKS = (16, 16, 32, 32)
SEED = 0


def write_tiny_pipeline(directory):
    """Writes DIR/sd (a StableDiffusionPipeline) and DIR/controlnet (a ControlNetModel); returns both paths."""
    directory = Path(directory)
    sd_dir, controlnet_dir = directory / "sd", directory / "controlnet"
    with tempfile.TemporaryDirectory() as vocab_dir:
        tokenizer = local_clip_tokenizer(Path(vocab_dir))
    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        **_unet_shape(), sample_size=IMAGE_SIZE // 8, out_channels=4, up_block_types=("CrossAttnUpBlock2D", "UpBlock2D")
    )
    torch.manual_seed(SEED + 1)
    controlnet = ControlNetModel(**_unet_shape(), conditioning_embedding_out_channels=(8, 8, 16, 16))
    # A fresh ControlNet's output convolutions are zero (no effect at all); give them weights so the
    # control image and the control modes visibly change the result in tests.
    for convolution in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]:
        torch.nn.init.normal_(convolution.weight, std=0.5)
    torch.manual_seed(SEED + 2)
    # Four blocks, like SD's own VAE: latents 1/8 of the image side, so a 256 px image costs what
    # 32x32 latents cost (a 2-block VAE would give 128x128 latents and minutes per image).
    vae = AutoencoderKL(
        block_out_channels=VAE_BLOCKS,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(VAE_BLOCKS),
        up_block_types=("UpDecoderBlock2D",) * len(VAE_BLOCKS),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=1,
        sample_size=IMAGE_SIZE,
    )
    torch.manual_seed(SEED + 3)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=TEXT_WIDTH,
            intermediate_size=37,
            num_hidden_layers=5,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    # Stable Diffusion 1.5's own scheduler configuration; the engine swaps in the requested sampler.
    scheduler = PNDMScheduler.from_config(SCHEDULER_CONFIG)
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(sd_dir)
    controlnet.save_pretrained(controlnet_dir)
    return sd_dir, controlnet_dir


def _unet_shape():
    return dict(
        block_out_channels=BLOCKS,
        layers_per_block=2,
        in_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        cross_attention_dim=TEXT_WIDTH,
        norm_num_groups=1,
    )
