"""A tiny random-config Wan2.1 VACE pipeline, saved like a real model folder (no hub, no weights downloaded).

The architecture is the real one (VAE, VACE transformer, UMT5 text encoder, UniPC flow scheduler) at toy widths,
so that the engine loads it with `WanVACEPipeline.from_pretrained` exactly as it loads Wan2.1-VACE-1.3B.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline, WanVACETransformer3DModel
from tokenizers import Tokenizer, pre_tokenizers
from tokenizers import models as tk_models
from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

TEXT_DIM = 32  # the text encoder's d_model = the transformer's text_dim
Z_DIM = 16  # VAE latent channels (the default latents_mean/std have 16 entries)
WORDS = [
    "<pad>",
    "</s>",
    "<unk>",
    "a",
    "the",
    "product",
    "person",
    "holding",
    "presenting",
    "wearing",
    "walking",
    "standing",
    "beside",
    "open",
    "palm",
    "chest",
    "height",
    "studio",
    "sweep",
    "soft",
    "key",
    "light",
    "table",
    "photorealistic",
    "commercial",
    "video",
    "sharp",
    "focus",
    "smooth",
    "natural",
    "motion",
    "distorted",
    "deformed",
    "garbled",
    "text",
    "blurry",
    "low",
    "quality",
    "bottle",
    "red",
]


def build_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(tk_models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=512
    )


def build_pipeline(seed: int = 0, num_layers: int = 3, vace_layers: tuple[int, ...] = (0, 2)) -> WanVACEPipeline:
    torch.manual_seed(seed)
    # No residual blocks beside the ones the decoder always has: at 3 channels the full-resolution causal convs are
    # memory-bound, and each block there costs more than the whole transformer. The 8× space / 4× time compression
    # (what the engine's frame and clip arithmetic relies on) is the real model's.
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=Z_DIM, dim_mult=[1, 1, 1, 1], num_res_blocks=0, temperal_downsample=[False, True, True]
    )
    tokenizer = build_tokenizer()
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=TEXT_DIM,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            dropout_rate=0.0,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
    )
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=Z_DIM,
        out_channels=Z_DIM,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=num_layers,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,  # must cover the patch grid at real frame sizes, as the real model's 1024 does
        vace_layers=list(vace_layers),  # must contain 0
        vace_in_channels=2 * Z_DIM + 8 * 8,  # inactive + reactive latents + the 8×8 space-to-depth mask
    )
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    for module in (vae, text_encoder, transformer):
        module.eval()  # fresh modules are in train mode (dropout); from_pretrained gives eval
    return WanVACEPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer
    )


def save_tiny_model(folder: Path, seed: int = 0) -> tuple[Path, WanVACEPipeline]:
    pipe = build_pipeline(seed)
    pipe.save_pretrained(folder)
    return folder, pipe


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/tiny-wan")
    save_tiny_model(target)
    print(target)
