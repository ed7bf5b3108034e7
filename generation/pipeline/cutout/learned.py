"""Learned automatic cutout: a salient-object model (BiRefNet, ISNet, U²-Net exported to ONNX) on onnxruntime.

The operator installs the model file and names it in ``SHOPVIDEO_CUTOUT_MODEL``; nothing is downloaded here. The
model takes 1×3×S×S RGB, normalised as ``(rgb / 255 − mean) / std``, and gives 1×1×S×S foreground probability
(or logits, which are passed through a sigmoid). S comes from the model's input shape when it is fixed, else from
``SHOPVIDEO_CUTOUT_MODEL_SIZE``; mean and std from the model's metadata (``mean`` / ``std``: three numbers,
comma-separated) when it has them, else from settings (ImageNet's by default). One session per process.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import cv2
import numpy as np
from django.conf import settings
from django.utils.translation import gettext

from . import confidence
from .base import CutoutModelUnavailable
from .classical import refine_full_resolution

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class LoadedModel:
    session: object  # onnxruntime.InferenceSession
    input_name: str
    size: tuple[int, int]  # (width, height) the model is fed
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def configured_model_path() -> str:
    return str(getattr(settings, "SHOPVIDEO_CUTOUT_MODEL", "") or "")


def load_model(path: str) -> LoadedModel:
    """The model at `path`, loaded once per process (and again only when the file changes)."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise CutoutModelUnavailable(
            gettext("The cutout model file %(path)s cannot be read: %(reason)s")
            % {"path": path, "reason": exc.strerror or exc}
        ) from exc
    return _load(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _load(path: str, mtime_ns: int, size: int) -> LoadedModel:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: a model's harmless warnings are not the operator's concern
    try:
        session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for every kind of bad file
        raise CutoutModelUnavailable(
            gettext("The cutout model %(path)s is not a model onnxruntime can load: %(reason)s")
            % {"path": path, "reason": str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}
        ) from exc
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or not outputs or len(inputs[0].shape) != 4:
        raise CutoutModelUnavailable(
            gettext("The cutout model %(path)s must take one 1×3×H×W image and give a 1×1×H×W mask.") % {"path": path}
        )
    shape = inputs[0].shape
    fallback = int(getattr(settings, "SHOPVIDEO_CUTOUT_MODEL_SIZE", 1024))
    height = shape[2] if isinstance(shape[2], int) and shape[2] > 0 else fallback
    width = shape[3] if isinstance(shape[3], int) and shape[3] > 0 else fallback
    meta = session.get_modelmeta().custom_metadata_map
    mean = _triple(meta.get("mean")) or tuple(getattr(settings, "SHOPVIDEO_CUTOUT_MODEL_MEAN", IMAGENET_MEAN))
    std = _triple(meta.get("std")) or tuple(getattr(settings, "SHOPVIDEO_CUTOUT_MODEL_STD", IMAGENET_STD))
    return LoadedModel(session, inputs[0].name, (int(width), int(height)), mean, std)


def _triple(text: str | None) -> tuple[float, float, float] | None:
    if not text:
        return None
    try:
        a, b, c = (float(v) for v in text.split(","))
    except ValueError:
        return None
    return a, b, c


def probability(model: LoadedModel, rgb: np.ndarray) -> np.ndarray:
    """Foreground probability (float32 0..1) at the model's input size."""
    small = cv2.resize(rgb, model.size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    x = (small - np.array(model.mean, np.float32)) / np.array(model.std, np.float32)
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    try:
        out = model.session.run(None, {model.input_name: x})[0]
    except Exception as exc:  # a model that loads but cannot run on a 1×3×H×W image is as unusable
        raise CutoutModelUnavailable(
            gettext("The cutout model failed to run: %(reason)s") % {"reason": str(exc).splitlines()[0][:200]}
        ) from exc
    prob = np.asarray(out, np.float32).reshape(out.shape[-2:])
    if prob.min() < 0.0 or prob.max() > 1.0:  # logits
        prob = 1.0 / (1.0 + np.exp(-np.clip(prob, -30, 30)))
    return prob


def learned_cutout(rgb: np.ndarray, path: str) -> tuple[np.ndarray, float]:
    """The product mask (0/255 at the photo's size) and its confidence."""
    model = load_model(path)
    prob = probability(model, rgb)
    sure = confidence.learned(prob)
    h, w = rgb.shape[:2]
    # The probability is upsampled to a working size, thresholded there, and the edge settled at full resolution.
    scale = min(1.0, 1024 / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    fg = cv2.resize(prob, (sw, sh), interpolation=cv2.INTER_LINEAR) > 0.5
    if not fg.any():
        return np.zeros((h, w), np.uint8), sure
    return refine_full_resolution(rgb, small, fg, scale), sure
