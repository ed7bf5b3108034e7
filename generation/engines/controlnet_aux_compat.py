"""The one place that imports controlnet-aux (its canny detector and OpenPose drawing utilities).

controlnet-aux 0.0.10's package `__init__` imports every detector, and several of them need torchvision and timm.
On a GPU host whose torchvision matches torch the normal import works and is used. Here (CPU torch, no
torchvision: installing one beside the CPU wheel fails with `torchvision::nms does not exist`) we register the
packages `controlnet_aux` and `controlnet_aux.open_pose` without running their `__init__` files and import only
the modules we use; none of them needs torchvision, timm or downloaded weights.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from typing import Any

IMPORT_MODE: str  # "normal" or "bypass": how the package was imported in this process (tests and logs read it)


def _torchvision_works() -> bool:
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        importlib.import_module("torchvision.transforms")
    except Exception:  # a torchvision built for another torch fails at import with various errors
        return False
    return True


def _register_without_init(name: str) -> None:
    """Make `name` importable as a package whose submodules load normally but whose __init__ never runs."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not installed (pip install --no-deps controlnet-aux==0.0.10)")
    package = types.ModuleType(name)
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin
    package.__package__ = name
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, package)


def _import() -> tuple[str, Any, Any, Any]:
    with warnings.catch_warnings():
        # open_pose.body imports scipy.ndimage.filters (deprecated namespace): third-party, not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        return _import_modules()


def _import_modules() -> tuple[str, Any, Any, Any]:
    if _torchvision_works():
        try:
            canny = importlib.import_module("controlnet_aux.canny")
            util = importlib.import_module("controlnet_aux.open_pose.util")
            body = importlib.import_module("controlnet_aux.open_pose.body")
            return "normal", canny, util, body
        except ImportError:
            # Some other detector's dependency (timm, …) is missing: fall through to the bypass.
            for key in [k for k in sys.modules if k == "controlnet_aux" or k.startswith("controlnet_aux.")]:
                del sys.modules[key]
    _register_without_init("controlnet_aux")
    _register_without_init("controlnet_aux.open_pose")
    canny = importlib.import_module("controlnet_aux.canny")
    util = importlib.import_module("controlnet_aux.open_pose.util")
    body = importlib.import_module("controlnet_aux.open_pose.body")
    return "bypass", canny, util, body


IMPORT_MODE, _canny, _pose_util, _pose_body = _import()

CannyDetector = _canny.CannyDetector
draw_bodypose = _pose_util.draw_bodypose
Keypoint = _pose_body.Keypoint

__all__ = ["IMPORT_MODE", "CannyDetector", "Keypoint", "draw_bodypose"]
