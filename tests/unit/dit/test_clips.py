"""Long DiT videos as clips of at most 81 frames, each continuing the previous clip through VACE's extension."""

import itertools

import numpy as np
import pytest

from generation.engines.clips import CONTEXT_FRAMES, Clip, plan_clips
from generation.engines.wan_vace import WanVaceEngine


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        (81, [(0, 81)]),
        (161, [(0, 57), (52, 109), (104, 161)]),
        (5, [(0, 5)]),
    ],
)
def test_clip_plans(frames, expected):
    assert [(c.first, c.end) for c in plan_clips(frames)] == expected


@pytest.mark.parametrize("frames", [85, 161, 241, 321, 401, 481])
def test_every_long_video_is_covered_by_4n_plus_1_clips_of_at_most_81(frames):
    clips = plan_clips(frames)
    assert clips[0].first == 0 and clips[-1].end == frames
    for before, after in itertools.pairwise(clips):
        assert after.first == before.end - CONTEXT_FRAMES and after.context == CONTEXT_FRAMES
    assert all(c.frames <= 81 and (c.frames - 1) % 4 == 0 for c in clips)
    assert sum(c.frames - c.context for c in clips) == frames  # no frame emitted twice, none missing


def test_each_next_clip_starts_from_the_previous_clips_last_frames_kept(tiny_model, make_request):
    engine = WanVaceEngine(tiny_model[0])
    engine.max_clip_frames = 9
    calls, outputs = [], []
    call = engine._call

    def recording(kwargs, progress):
        calls.append(kwargs)
        outputs.append(np.asarray(call(kwargs, progress), np.float32)[0])
        return outputs[-1][None]

    engine._call = recording
    seen = []
    frames = engine.render(make_request(width=64, height=64, frames=17, steps=2, on_progress=seen.append))
    assert frames.shape == (17, 64, 64, 3)
    assert engine.last_render["clips"] == [[0, 9], [4, 13], [8, 17]]
    assert [c["num_frames"] for c in calls] == [9, 9, 9]
    for k in (1, 2):
        video = np.stack([np.asarray(f) for f in calls[k]["video"]])
        mask = np.stack([np.asarray(m) for m in calls[k]["mask"]])
        previous = (np.clip(outputs[k - 1][-CONTEXT_FRAMES:], 0, 1) * 255 + 0.5).astype(np.uint8)
        np.testing.assert_array_equal(video[:CONTEXT_FRAMES], previous)  # the context: the frames just made
        assert (mask[:CONTEXT_FRAMES] == 0).all() and (mask[CONTEXT_FRAMES:] == 255).any()
    # The output is each clip's new frames, in order.
    expected = np.concatenate([outputs[0], outputs[1][CONTEXT_FRAMES:], outputs[2][CONTEXT_FRAMES:]])
    np.testing.assert_array_equal(frames, (np.clip(expected, 0, 1) * 255 + 0.5).astype(np.uint8))
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) == 6  # 2 steps × 3 clips, never backwards


def test_a_short_video_is_one_clip():
    assert plan_clips(49) == [Clip(0, 49, 0)]
