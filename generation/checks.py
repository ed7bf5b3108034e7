"""System check: a configured learned cutout model must exist and load, or no photo could be cut out with it."""

from __future__ import annotations

from django.core.checks import Error, register

from generation.pipeline import cutout


@register()
def cutout_model_check(app_configs=None, **kwargs) -> list[Error]:
    path = cutout.configured_model_path()
    if not path:
        return []
    try:
        cutout.load_model(path)
    except cutout.CutoutModelUnavailable as exc:
        return [
            Error(
                f"{exc.code}: {exc.message}",
                hint="Install the model file (README, 'Cutout models') or unset SHOPVIDEO_CUTOUT_MODEL.",
                id="shopvideo.E001",
            )
        ]
    return []
