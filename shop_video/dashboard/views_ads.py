"""The ad wizard of a product: choose the ad's options, read and edit its storyboard (a thumbnail per shot) and its
price beside the balance, then submit it as one job. Works without JavaScript: the storyboard is a form posted
back to re-plan and re-price (`generation.services.ads` does both)."""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from generation import selectors
from generation.presets import MARKETS_BY_SLUG
from generation.rules import public_storyboard
from generation.services import ads
from generation.services.audio import upload_audio
from shop_video.core.errors import BadInputError
from shop_video.merchants.access import editor_view

from . import selectors as dashboard_selectors
from .forms import SCENE_NAMES
from .forms_ads import AdForm, MusicUploadForm, posted_action, posted_shots, shot_kind_name
from .views import _apply_field_errors


def _ad_photos(organization, product) -> list:
    """The product's photos an ad may use: those whose cutout needs no check, at most an ad's worth."""
    photos = [p for p in selectors.photos_for(organization, product=product) if not p.cutout_needs_review]
    return photos[: ads.MAX_AD_PHOTOS]


def _shot_rows(plan: ads.AdPlan) -> list[dict]:
    """Per shot: what the page shows (kind, length, thumbnail, scene choices) and posts back (its key)."""
    board = public_storyboard(plan.storyboard) or {"shots": [], "fps": 16}
    market = MARKETS_BY_SLUG[plan.market.slug]
    scenes = [(slug, str(SCENE_NAMES.get(slug, slug))) for slug in market.scenes]
    rows = []
    thumbnails = ads.ad_thumbnails(plan)
    last_product = len(board["shots"]) - 2
    for i, (shot, jpeg) in enumerate(zip(board["shots"], thumbnails, strict=True)):
        photo = "" if shot["photo"] is None else shot["photo"]
        scene = shot["scene"] or market.scenes[0]
        choices = scenes if scene in dict(scenes) else [*scenes, (scene, str(SCENE_NAMES.get(scene, scene)))]
        rows.append({
            "index": i,
            "kind": shot["kind"],
            "kind_name": shot_kind_name(shot["kind"]),
            "key": f"{shot['kind']}:{photo}:{shot['seed']}",
            "scene": scene,
            "scenes": choices,
            "seconds": (shot["end"] - shot["start"]) / board["fps"],
            "frames": shot["end"] - shot["start"],
            "thumbnail": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"),
            "editable": shot["kind"] != "endcard",
            "can_remove": shot["kind"] != "endcard" and last_product > 0,
            "can_up": 0 < i <= last_product,
            "can_down": i < last_product,
        })  # fmt: skip
    return rows


def _render(request: HttpRequest, product, form: AdForm, *, plan=None, music_form=None, status: int = 200):
    context = {
        "product": product,
        "form": form,
        "music_form": music_form or MusicUploadForm(),
        "plan": plan,
        "shots": _shot_rows(plan) if plan is not None else [],
        "photo_count": len(_ad_photos(request.organization, product)),
        "standing": dashboard_selectors.credit_standing(request.organization, plan.credits if plan else None),
    }
    return render(request, "dashboard/ad_form.html", context, status=status)


@editor_view
@require_http_methods(["GET", "POST"])
def ad_new(request: HttpRequest, pk: int) -> HttpResponse:
    """GET with options: a fresh plan. POST: the storyboard posted back with a button: remove, up, down, update
    (re-plan the same seed with the shots and scenes as posted) or submit (the job, with exactly that storyboard)."""
    org = request.organization
    product = selectors.get_product(org, pk)
    photos = _ad_photos(org, product)
    posted = request.method == "POST"
    data = request.POST if posted else (request.GET if "market" in request.GET else None)
    form = AdForm(data, organization=org)
    if data is None:
        return _render(request, product, form)
    if not form.is_valid():
        return _render(request, product, form, status=400)
    action, index = posted_action(request.POST) if posted else ("update", -1)
    shots = posted_shots(request.POST) if posted else None
    if shots is not None and action in ("remove", "up", "down"):
        shots = ads.edit_shots(shots, action, index)
    edited = {"seed": form.cleaned_data["seed"], "shots": shots} if shots is not None else None
    options = form.options(storyboard=edited)
    try:
        if not photos:
            raise ads.AdInvalid(_("Add a photo of the product first."), "photo_not_found")
        if action == "submit":
            job = ads.submit_ad(organization=org, photos=photos, options=options, user=request.user,
                                source="dashboard", name=product.title)  # fmt: skip
            messages.success(request, _("Ad submitted: %(credits)d credits reserved.") % {"credits": job.credits})
            return redirect("dashboard:batch_detail", pk=job.batch_id)
        plan = ads.estimate_ad(organization=org, photos=photos, options=options)
    except BadInputError as exc:
        _apply_field_errors(form, exc)
        plan = None
        if action == "submit":  # refused at submit (credits short, a photo gone): the storyboard stays in view
            with contextlib.suppress(BadInputError):
                plan = ads.estimate_ad(organization=org, photos=photos, options=options)
        return _render(request, product, form, plan=plan, status=400)
    return _render(request, product, form, plan=plan)


@editor_view
@require_POST
def ad_music(request: HttpRequest, pk: int) -> HttpResponse:
    """A music upload from the ad page: stored (then chosen) when it is usable music; else the page again with the
    reason, and nothing stored."""
    org = request.organization
    product = selectors.get_product(org, pk)
    form = AdForm(request.POST, organization=org)
    music_form = MusicUploadForm(request.POST, request.FILES)
    if not music_form.is_valid():
        return _render(request, product, form, music_form=music_form, status=400)
    upload = music_form.cleaned_data["music"]
    try:
        track = upload_audio(organization=org, upload=upload, filename=upload.name)
    except BadInputError as exc:
        music_form.add_error("music", exc.message)
        return _render(request, product, form, music_form=music_form, status=400)
    messages.success(request, _("Music “%(name)s” added.") % {"name": track.name})
    query = form.query() if form.is_valid() else {}
    query["audio"] = track.pk
    return redirect(reverse("dashboard:ad_new", args=[product.pk]) + "?" + urlencode(query))
