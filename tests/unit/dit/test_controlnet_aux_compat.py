"""controlnet-aux is imported in one place, with or without a working torchvision."""

import json
import subprocess
import sys

import numpy as np

from generation.engines import controlnet_aux_compat as compat

PROBE = """
import json, sys
import numpy as np
from generation.engines import controlnet_aux_compat as c
img = np.zeros((64, 64, 3), np.uint8); img[16:48, 16:48] = 255
edges = c.CannyDetector()(img, detect_resolution=64, image_resolution=64, output_type="np")
pose = c.draw_bodypose(np.zeros((64, 64, 3), np.uint8), [c.Keypoint(0.5, 0.2 + 0.03 * i) for i in range(18)])
print(json.dumps({"mode": c.IMPORT_MODE, "edges": int((edges > 0).sum()), "pose": int((pose.sum(-1) > 0).sum()),
                  "torchvision": "torchvision" in sys.modules, "skimage": "skimage" in sys.modules}))
"""


def test_fresh_interpreter_imports_canny_and_pose_drawing():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["mode"] == ("normal" if compat._torchvision_works() else "bypass")
    assert result["edges"] > 100 and result["pose"] > 100
    if result["mode"] == "bypass":
        # Nothing fake is left behind: no stub torchvision for other libraries to trip over.
        assert not result["torchvision"]


def test_canny_edges_of_a_square():
    img = np.zeros((64, 64, 3), np.uint8)
    img[16:48, 16:48] = 255
    edges = compat.CannyDetector()(img, detect_resolution=64, image_resolution=64, output_type="np")
    assert edges.shape == (64, 64, 3)
    on = edges[..., 0] > 0
    assert on[16:48, 14:18].any() and not on[24:40, 24:40].any()  # the outline, not the inside
