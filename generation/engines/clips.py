"""Long DiT videos as clips of at most 81 frames, each continuing the previous one through VACE's extension task.

Wan2.1 is trained on 81-frame clips (`wan/configs/shared_config.py`: `frame_num = 81`; `generate.py` asserts
`frame_num` is 4n+1). A longer video is made as overlapping clips: clip k > 0 starts with the last
`CONTEXT_FRAMES` frames the previous clip generated, kept (mask black) over the whole frame, the rest of the clip
being this video's own conditions. That is VACE's "firstclip" extension (ali-vilab/VACE,
`vace/annotators/frameref.py`, `FrameRefExpandAnnotator.forward`: the source frames with zero masks, then the
frames to generate with masks of 255). The layout, the pose keyframes and the conditions are planned once for the
whole video and cut per clip, and the fidelity lock runs over the whole video afterwards, so neither the product
nor the person jumps at a seam. The context frames are not emitted twice: clip k > 0 contributes only its new
frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_CLIP_FRAMES = 81
# 4·1 + 1: the Wan VAE encodes the first frame alone and then groups of 4, so 5 context frames are exactly two
# latent frames and every clip stays 4n+1 frames long.
CONTEXT_FRAMES = 5
KEEP = 0


@dataclass(frozen=True)
class Clip:
    first: int  # the first video frame the clip covers (context frames included)
    end: int  # one past the last
    context: int  # how many leading frames come from the previous clip (0 for the first clip)

    @property
    def frames(self) -> int:
        return self.end - self.first


def plan_clips(frames: int, max_frames: int = MAX_CLIP_FRAMES, context: int = CONTEXT_FRAMES) -> list[Clip]:
    """Clips of 4n+1 frames, at most max_frames, overlapping by `context`, their new frames as even as can be."""
    if (frames - 1) % 4 or (max_frames - 1) % 4 or (context - 1) % 4:
        raise ValueError("frame counts must be 4n+1")
    if frames <= max_frames:
        return [Clip(0, frames, 0)]
    quads = (frames - 1) // 4  # groups of 4 frames after the first
    first_cap, next_cap = (max_frames - 1) // 4, (max_frames - context) // 4
    count = 1 + math.ceil((quads - first_cap) / next_cap)
    # The new groups per clip, spread evenly (earlier clips take the remainder).
    share, extra = divmod(quads, count)
    groups = [share + (1 if i < extra else 0) for i in range(count)]
    clips, start = [Clip(0, 4 * groups[0] + 1, 0)], 4 * groups[0] + 1
    for g in groups[1:]:
        first = start - context
        clips.append(Clip(first, start + 4 * g, context))
        start += 4 * g
    assert clips[-1].end == frames and all(c.frames <= max_frames for c in clips)
    return clips


def extend_with_context(
    video: np.ndarray, mask: np.ndarray, clip: Clip, previous: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The clip's VACE video and mask: the previous clip's last frames kept in full, then the clip's own ones."""
    clip_video = video[clip.first : clip.end].copy()
    clip_mask = mask[clip.first : clip.end].copy()
    if clip.context:
        assert previous is not None and len(previous) >= clip.context
        clip_video[: clip.context] = previous[-clip.context :]
        clip_mask[: clip.context] = KEEP
    return clip_video, clip_mask
