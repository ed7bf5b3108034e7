"""The photo page's box tool: a live preview of the guided cutout (an overlay PNG, nothing stored) and saving it
as the photo's mask. Thin: generation.photo_cutouts does the work; the body is JSON from static/js/app.js."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from generation import photo_cutouts, selectors
from generation.pipeline.errors import BadInputError

from .views import editor_view

MAX_BODY = 512 * 1024  # a box and a few hand-drawn strokes are a few kilobytes


def _guide(request: HttpRequest) -> dict:
    """{"box": [...], "keep": [...], "remove": [...]} from the JSON body; BadInputError when it is not that."""
    if len(request.body) > MAX_BODY:
        raise BadInputError(_("Too many stroke points."), "cutout_strokes_invalid")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise BadInputError(_("The request is not valid JSON."), "parse_error") from exc
    if not isinstance(body, dict) or "box" not in body:
        raise BadInputError(_("Draw a box around the product first."), "cutout_box_invalid")
    keep, remove = body.get("keep") or [], body.get("remove") or []
    if not isinstance(keep, list) or not isinstance(remove, list):
        raise BadInputError(_("A stroke must be a list of [x, y] points."), "cutout_strokes_invalid")
    return {"box": body["box"], "keep": keep, "remove": remove}


def _error(exc: BadInputError) -> JsonResponse:
    return JsonResponse({"error": {"code": exc.code, "message": exc.message}}, status=400)


@editor_view
@require_POST
def photo_cutout_preview(request: HttpRequest, pk: int) -> HttpResponse:
    photo = selectors.get_photo(request.organization, pk)
    try:
        png = photo_cutouts.preview_overlay(photo=photo, **_guide(request))
    except BadInputError as exc:
        return _error(exc)
    return HttpResponse(png, content_type="image/png", headers={"Cache-Control": "no-store"})


@editor_view
@require_POST
def photo_cutout_save(request: HttpRequest, pk: int) -> HttpResponse:
    photo = selectors.get_photo(request.organization, pk)
    try:
        photo_cutouts.cut_out_with_box(photo=photo, **_guide(request))
    except BadInputError as exc:
        return _error(exc)
    if photo.cutout_needs_review:
        messages.warning(
            request,
            _(
                "Cutout of %(photo)s saved, but it is still doubtful (confidence %(confidence).2f): draw the box "
                "closer or add keep / remove strokes. Videos of this photo are held for review until then."
            )
            % {"photo": photo, "confidence": photo.cutout_confidence or 0.0},
        )
    else:
        messages.success(request, _("Cutout of %(photo)s saved.") % {"photo": photo})
    url = reverse("dashboard:product_detail", args=[photo.product_id]) + f"#photo-{photo.pk}"
    return JsonResponse({"redirect": url})
