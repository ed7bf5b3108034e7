"""DiT model folders that hold only what the size rule reads: the transformer config of a real Wan2.1 VACE model."""

from __future__ import annotations

import json
from pathlib import Path

# The dims of the diffusers-format Wan2.1-VACE checkpoints' transformer/config.json.
TRANSFORMER_DIMS = {
    "vace-1.3B": {"num_attention_heads": 12, "attention_head_dim": 128, "num_layers": 30},
    "vace-14B": {"num_attention_heads": 40, "attention_head_dim": 128, "num_layers": 40},
}


def config_only_folder(root: Path, family: str) -> Path:
    """A folder with model_index.json and the transformer's config of `family`, no weights (never loaded)."""
    (root / "transformer").mkdir(parents=True)
    (root / "model_index.json").write_text(json.dumps({"_class_name": "WanVACEPipeline"}))
    (root / "transformer" / "config.json").write_text(json.dumps(TRANSFORMER_DIMS[family]))
    return root
