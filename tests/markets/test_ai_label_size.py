"""The visible AI label reads on a phone: its text is at least 2 % of the frame's height in every format."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from generation.constants import ASPECT_RATIOS, RESOLUTIONS
from generation.pipeline import ai_label
from generation.pipeline.encode import decode_mp4
from tests import synthetic


@pytest.fixture(scope="module")
def photo() -> Path:
    base = Path(settings.VAR_DIR) / "test-ai-label-size"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=base)) / "bottle.jpg"
    synthetic.product_on_white()[0].save(path, quality=92)
    return path


def _make(photo: Path, aspect: str, resolution: str) -> tuple[dict, np.ndarray]:
    out = photo.with_name(f"made-{aspect.replace(':', 'x')}-{resolution}.mp4")
    call_command(
        "make_video", str(photo), "--out", str(out), "--seconds", "1", "--market", "de", "--seed", "1",
        "--aspect", aspect, "--resolution", resolution,
    )  # fmt: skip
    return json.loads(out.with_suffix(".json").read_text()), decode_mp4(out)[0]


def _inked_rows(frame: np.ndarray, rect: list[int], inset: int) -> int:
    """Rows of the label's plate holding text: white text over a plate that darkens any background below 120."""
    x0, y0, x1, y1 = rect
    plate = frame[y0:y1, x0 + inset : x1 - inset]  # the rounded corners show the scene: left out
    rows = np.flatnonzero((plate.min(axis=2) > 200).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize("aspect", ASPECT_RATIOS)
def test_the_label_text_is_at_least_two_percent_of_the_frame_height(photo, aspect, resolution):
    contract, frame = _make(photo, aspect, resolution)
    height = contract["height"]
    label = contract["ai_label"]
    assert label["text"] == "Digital erstellt"
    assert label["font_px"] >= 0.02 * height
    # Measured on the decoded frame, not taken from the plan: the text's inked rows.
    inset = round(ai_label.PAD * min(contract["width"], height)) + 1
    assert _inked_rows(frame, label["rect"], inset) >= 0.02 * height
