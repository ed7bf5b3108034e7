"""Moved to generation.engines.controlnet_aux_compat."""

from generation.engines.controlnet_aux_compat import IMPORT_MODE, CannyDetector, Keypoint, draw_bodypose

__all__ = ["IMPORT_MODE", "CannyDetector", "Keypoint", "draw_bodypose"]
