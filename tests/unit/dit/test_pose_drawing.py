"""The pose control drawn as VACE's pose annotator draws it, against a re-implementation from the annotator's source.

The reference below follows ali-vilab/VACE: `vace/annotators/pose.py` (`PoseAnnotator.forward` / `process`: resize
to a 1024-px short side, draw, resize back with INTER_AREA when shrinking, reverse the channels) and
`vace/annotators/dwpose/util.py` (`draw_bodypose`: stick half-width 4, limbs at full colour then the canvas × 0.6,
joints of radius 4) and `dwpose/wholebody.py` (`resize_image`).
"""

import math

import cv2
import numpy as np
import pytest

from generation.engines import conditions, poses

LIMB_SEQ = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13], [13, 14],
            [2, 1], [1, 15], [15, 17], [1, 16], [16, 18], [3, 17], [6, 18]]  # fmt: skip
COLORS = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
          [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
          [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]  # fmt: skip


def vace_draw_bodypose(canvas, candidate, subset):
    height, width = canvas.shape[:2]
    for i in range(17):
        for n in range(len(subset)):
            index = subset[n][np.array(LIMB_SEQ[i]) - 1]
            if -1 in index:
                continue
            y = candidate[index.astype(int), 0] * float(width)
            x = candidate[index.astype(int), 1] * float(height)
            length = ((x[0] - x[1]) ** 2 + (y[0] - y[1]) ** 2) ** 0.5
            angle = math.degrees(math.atan2(x[0] - x[1], y[0] - y[1]))
            polygon = cv2.ellipse2Poly((int(np.mean(y)), int(np.mean(x))), (int(length / 2), 4), int(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, COLORS[i])
    canvas = (canvas * 0.6).astype(np.uint8)
    for i in range(18):
        for n in range(len(subset)):
            index = int(subset[n][i])
            if index == -1:
                continue
            x, y = candidate[index][0:2]
            cv2.circle(canvas, (int(x * width), int(y * height)), 4, COLORS[i], thickness=-1)
    return canvas


def vace_pose_map(points: np.ndarray, width: int, height: int) -> np.ndarray:
    k = 1024.0 / min(height, width)
    canvas_h, canvas_w = int(np.round(height * k / 64.0)) * 64, int(np.round(width * k / 64.0)) * 64
    candidate = np.stack([points[:, 0] / width, points[:, 1] / height], axis=1)
    subset = np.arange(18, dtype=float)[None]
    drawn = vace_draw_bodypose(np.zeros((canvas_h, canvas_w, 3), np.uint8), candidate, subset)
    shrink = height * width <= canvas_h * canvas_w
    return cv2.resize(drawn[..., ::-1], (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)


def one_pose(width: int, height: int) -> poses.PoseTrack:
    template = poses.TEMPLATES["holding"]
    body = 0.85 * height
    points = np.array([width / 2, 0.55 * height]) + template.at(0.0) * body
    return poses.PoseTrack(template=template, keypoints=points[None], body_height=np.array([body]))


def thickness_across(image: np.ndarray, a: np.ndarray, b: np.ndarray) -> int:
    """How many drawn pixels a line across the limb a→b, through its middle, crosses."""
    mid, along = (a + b) / 2, (b - a) / np.linalg.norm(b - a)
    normal = np.array([-along[1], along[0]])
    samples = [mid + t * normal for t in np.arange(-20, 20.25, 0.25)]
    drawn = [image[round(y), round(x)].max() > 20 for x, y in samples]
    return round(sum(drawn) * 0.25)


@pytest.mark.parametrize(("width", "height"), [(480, 832), (640, 640), (1280, 720)])
def test_pose_frames_match_the_annotators_drawing(width, height):
    track = one_pose(width, height)
    ours = conditions.pose_frames(track, (width, height), channel_order="bgr")[0]
    reference = vace_pose_map(track.keypoints[0], width, height)
    assert np.abs(ours.astype(int) - reference).max() <= 2
    points = track.keypoints[0]
    for a, b in (("r_hip", "r_knee"), ("l_knee", "l_ankle"), ("neck", "r_shoulder")):
        pa, pb = points[poses.K[a]], points[poses.K[b]]
        assert abs(thickness_across(ours, pa, pb) - thickness_across(reference, pa, pb)) <= 1, (a, b)


def test_limbs_are_thinner_than_a_drawing_at_frame_size():
    # What drawing directly on the frame gave: a 9-px stick at any frame size; the annotator's is 9 px at 1024.
    from generation.engines.controlnet_aux_compat import Keypoint, draw_bodypose

    width, height = 480, 832
    track = one_pose(width, height)
    ours = conditions.pose_frames(track, (width, height))[0]
    direct = np.zeros((height, width, 3), np.uint8)
    draw_bodypose(direct, [Keypoint(x / width, y / height) for x, y in track.keypoints[0]])
    hip, knee = track.keypoints[0][poses.K["r_hip"]], track.keypoints[0][poses.K["r_knee"]]
    assert thickness_across(ours, hip, knee) <= thickness_across(direct, hip, knee) - 3


def test_channel_order_is_a_setting_defaulting_to_the_annotators(settings):
    track = one_pose(480, 832)
    default = conditions.pose_frames(track, (480, 832))[0]
    rgb = conditions.pose_frames(track, (480, 832), channel_order="rgb")[0]
    np.testing.assert_array_equal(default, rgb[..., ::-1])
    settings.SHOPVIDEO_DIT_POSE_CHANNELS = "rgb"
    np.testing.assert_array_equal(conditions.pose_frames(track, (480, 832))[0], rgb)
