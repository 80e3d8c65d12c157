"""The full-size random-weight pipeline has SD 1.5's exact architecture; counted without allocating any weights."""

import pytest
import torch

from tests.full_size_pipeline import TEXT_ENCODER_CONFIG, build_models, build_pipeline


def parameters(model):
    return sum(parameter.numel() for parameter in model.parameters())


@pytest.fixture(scope="module")
def models():
    return build_models(device="meta")


def test_unet_has_sd15s_parameter_count(models):
    assert parameters(models[0]) == 859_520_964


def test_controlnet_built_from_that_unet_has_the_sd15_controlnets_parameter_count(models):
    assert parameters(models[1]) == 361_279_120


def test_vae_has_sd15s_parameter_count(models):
    assert parameters(models[2]) == 83_653_863


def test_text_encoder_is_clip_vit_l14s_text_tower(models):
    text_encoder = models[3]
    assert parameters(text_encoder) == 123_060_480
    assert text_encoder.config.hidden_act == "quick_gelu" and text_encoder.config.num_hidden_layers == 12


def test_built_weights_are_on_the_device_asked_for_in_the_dtype_asked_for():
    pipeline = build_pipeline(device="meta", dtype=torch.float16)
    assert pipeline.unet.device.type == "meta" and pipeline.unet.dtype == torch.float16
    assert pipeline.controlnet.dtype == pipeline.vae.dtype == pipeline.text_encoder.dtype == torch.float16


def test_local_tokenizer_has_clips_vocabulary_size_and_special_ids():
    tokenizer = build_pipeline(device="meta").tokenizer
    assert len(tokenizer) == TEXT_ENCODER_CONFIG["vocab_size"]
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id) == (49406, 49407)
    assert tokenizer.tokenize("dog, close up")[:3] == ["dog</w>", ",</w>", "close</w>"]
