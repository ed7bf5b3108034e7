"""Moved to generation.engines.poses."""

from generation.engines.poses import TEMPLATES, PoseTrack, choose_template, layout_fill, plan_pose

__all__ = ["TEMPLATES", "PoseTrack", "choose_template", "layout_fill", "plan_pose"]
