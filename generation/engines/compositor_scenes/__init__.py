"""Procedural scenes for the compositor engine: one painter per scene style, each painting a canvas once per video.

`paint_scene(style, geometry, palette, seed, variant)` returns the layers the engine moves with the camera:
an opaque background, an optional additive glow layer (bokeh discs that drift on their own), a slowly moving
light patch and the colour of the contact shadow on that scene's floor.
"""

from .base import LightSpec, SceneGeometry, SceneLayers, hex_to_rgb
from .painters import PAINTERS, paint_scene

__all__ = ["PAINTERS", "LightSpec", "SceneGeometry", "SceneLayers", "hex_to_rgb", "paint_scene"]
