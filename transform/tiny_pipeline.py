"""A tiny random-weight SD 1.5 + ControlNet pipeline in diffusers format, for tests and benchmarks.

Same architecture families and file layout as the real weights, so it loads through the one loader
(transform.pipeline.load_pipeline); sizes from shared/FACTS.md: a 64x64 image in about a second on a CPU.
"""

import json
import string
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
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

IMAGE_SIZE = 64
TEXT_WIDTH = 32
BLOCKS = (32, 64)
VAE_BLOCKS = (16, 16, 32, 32)
SEED = 0
# CLIP's start and end tokens; local_clip_tokenizer spells other words out letter by letter unless told them.
START_TOKEN, END_TOKEN = "<|startoftext|>", "<|endoftext|>"


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
    scheduler = PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        set_alpha_to_one=False,
        skip_prk_steps=True,
        steps_offset=1,
    )
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


def local_clip_tokenizer(directory, vocab_size=None, words=()):
    """A CLIPTokenizer written to and read from `directory`: single characters, plus `words` as whole tokens.

    With vocab_size, unused filler tokens pad the vocabulary to that size and the start and end tokens take
    its last two ids, as in CLIP's (49406, 49407).
    """
    characters = [c for c in string.printable if not c.isspace()]
    tokens = characters + [f"{c}</w>" for c in characters]
    merges = []
    for word in words:
        # Left-to-right merges spell the word out and join it back into one token, "golden</w>".
        pieces = [*word[:-1], f"{word[-1]}</w>"]
        while len(pieces) > 1:
            merges.append(f"{pieces[0]} {pieces[1]}")
            pieces = [pieces[0] + pieces[1], *pieces[2:]]
            if pieces[0] not in tokens:
                tokens.append(pieces[0])
    if vocab_size:
        tokens += [f"<|unused{i}|>" for i in range(vocab_size - 2 - len(tokens))]
    tokens += [START_TOKEN, END_TOKEN]
    vocab_path, merges_path = directory / "vocab.json", directory / "merges.txt"
    vocab_path.write_text(json.dumps({token: i for i, token in enumerate(tokens)}), encoding="utf-8")
    merges_path.write_text("\n".join(["#version: 0.2", *dict.fromkeys(merges)]) + "\n", encoding="utf-8")
    return CLIPTokenizer(
        str(vocab_path),
        str(merges_path),
        model_max_length=77,
        bos_token=START_TOKEN,
        eos_token=END_TOKEN,
        unk_token=END_TOKEN,
        pad_token=END_TOKEN,
    )
