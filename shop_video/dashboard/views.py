"""Merchant dashboard pages. Thin: selectors read (scoped to request.organization), services write.

Every object is looked up through generation.selectors with the request's organization, so another
merchant's id is a 404 on every page, partial and action.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.errors import InsufficientCredits
from generation import market_services, rules, selectors, services
from generation.constants import ENGINE_CHOICES
from generation.models import Job, Video
from generation.services import archives, review
from shop_video.core.errors import BadInputError
from shop_video.ids import parse_id
from shop_video.merchants.access import editor_view, merchant_view
from shop_video.merchants.access import set_role as _set_role
from shop_video.notifications.services import review_reasons

from . import selectors as dashboard_selectors
from .forms import (
    GalleryFilterForm,
    GenerateForm,
    MaskForm,
    PhotoAddForm,
    ProductEditForm,
    ProductForm,
    RejectForm,
    platform_presets,
)

PAGE_SIZE = 24


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Home ---------------------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    org = request.organization
    context: dict = {"organization": org}
    if org is not None:
        _set_role(request)
        context.update(
            recent_batches=selectors.batches_for(org)[:5],
            product_count=selectors.products_for(org).count(),
            video_count=selectors.videos_for(org).count(),
            review_count=selectors.videos_for(org).filter(review=Video.Review.NEEDS_REVIEW).count(),
            standing=dashboard_selectors.credit_standing(org),
        )
    return render(request, "dashboard/home.html", context)


# --- Products -----------------------------------------------------------------------------------------------


@merchant_view
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    products = selectors.products_for(request.organization).prefetch_related("photos")
    return render(request, "dashboard/product_list.html", {"page": _page(request, products)})


@editor_view
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    upload_errors: list[tuple[str, str]] = []
    if request.method == "POST":
        form = ProductForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                product = services.create_product_with_photos(
                    organization=request.organization,
                    title=data["title"],
                    sku=data["sku"],
                    category=data["category"],
                    uploads=[(f.name, f) for f in data["photos"]],
                )
            except services.UploadRejected as exc:
                upload_errors = [(filename, message) for filename, _code, message in exc.errors]
                if not exc.errors:
                    form.add_error("photos", exc.message)
            except services.ProductInvalid as exc:
                _apply_field_errors(form, exc)
            else:
                messages.success(request, _("Product “%(title)s” created.") % {"title": product.title})
                to_check = product.photos.filter(cutout_needs_review=True).count()
                if to_check:
                    messages.warning(
                        request,
                        ngettext(
                            "%(count)d photo needs you to check its cutout before videos are made: draw a box "
                            "around the product on it.",
                            "%(count)d photos need you to check their cutout before videos are made: draw a box "
                            "around the product on each.",
                            to_check,
                        )
                        % {"count": to_check},
                    )
                url = reverse("dashboard:product_detail", args=[product.pk])
                if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                    # The upload script (progress bar) navigates itself; a followed redirect would eat the message.
                    return HttpResponse(status=201, headers={"Location": url})
                return redirect(url)
        status = 400
    else:
        form = ProductForm()
        status = 200
    return render(request, "dashboard/product_form.html", {"form": form, "upload_errors": upload_errors}, status=status)


def _generate_form(product, photos, data=None) -> GenerateForm:
    # A photo whose cutout waits for the merchant's check is not offered until it is checked.
    choices = [(p.pk, p.original_name or _("Photo %(id)d") % {"id": p.pk}) for p in photos if not p.cutout_needs_review]
    return GenerateForm(data, photo_choices=choices, organization=product.organization)


def _price_link(exc: BadInputError, photos) -> str:
    """Where a refused price tag is fixed: the price field of the (first) product without a price."""
    unpriced = [p.product_id for p in photos if p.product.price is None]
    if exc.code != "caption_price_missing" or not unpriced:
        return ""
    return reverse("dashboard:product_detail", args=[unpriced[0]]) + "?edit=price#id_product-price"


def _render_product(
    request: HttpRequest, product, *, generate_form=None, edit_form=None, price_link: str = "", status: int = 200
) -> HttpResponse:
    photos = list(selectors.photos_for(request.organization, product=product))
    context = {
        "product": product,
        "edit_form": edit_form or ProductEditForm.for_product(product),
        "edit_open": edit_form is not None or "edit" in request.GET,
        "photo_add_form": PhotoAddForm(),
        "caption_prices": market_services.caption_prices(product),
        "currency_codes": sorted({m.currency for m in selectors.markets()}),
        "price_link": price_link,
        "photos": photos,
        "mask_form": MaskForm(),
        "generate_form": generate_form or _generate_form(product, photos),
        "platforms": platform_presets(),
        "photos_to_check": [p for p in photos if p.cutout_needs_review],
    }
    return render(request, "dashboard/product_detail.html", context, status=status)


@merchant_view
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.get_product(request.organization, pk)
    return _render_product(request, product)


@editor_view
@require_POST
def photo_mask_upload(request: HttpRequest, pk: int) -> HttpResponse:
    photo = selectors.get_photo(request.organization, pk)
    form = MaskForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("mask", []):
            messages.error(request, error)
    else:
        try:
            services.set_photo_mask(photo=photo, upload=form.cleaned_data["mask"])
        except BadInputError as exc:
            messages.error(
                request, _("The mask for %(photo)s was not saved: %(reason)s") % {"photo": photo, "reason": exc.message}
            )
        else:
            messages.success(request, _("Mask for %(photo)s replaced.") % {"photo": photo})
    # The brush editor posts with fetch and then reloads the page it is on, which shows these messages.
    return redirect(reverse("dashboard:product_detail", args=[photo.product_id]) + f"#photo-{photo.pk}")


# --- Generate -----------------------------------------------------------------------------------------------


def _matrix(data: dict) -> services.VariantMatrix:
    return services.VariantMatrix(
        markets=list(data["markets"]),
        scenes=list(data["scenes"]),
        looks=list(data.get("looks") or []),
        aspect_ratios=list(data["aspect_ratios"]),
        seconds=list(data["seconds"]),
        resolution=data["resolution"],
        engine=data["engine"],
        platform=data.get("platform") or "",
        captions=bool(data.get("captions")),
        caption_price=bool(data.get("caption_price")),
        caption_cta=bool(data.get("caption_cta")),
    )


def _apply_field_errors(form, exc: BadInputError) -> None:
    """Service errors with `.fields` go next to their form fields; the rest (e.g. "matrix") above the form."""
    fields = getattr(exc, "fields", None) or {}
    for field, field_messages in fields.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not fields:
        form.add_error(None, exc.message)


@editor_view
@require_POST
def generate(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.organization
    product = selectors.get_product(org, pk)
    photos = list(selectors.photos_for(org, product=product))
    form = _generate_form(product, photos, request.POST)
    price_link = ""
    if form.is_valid():
        chosen = [p for p in photos if p.pk in set(form.cleaned_data["photos"])]
        try:
            matrix = _matrix(form.cleaned_data)
            services.validate_matrix(organization=org, matrix=matrix, photos=chosen)
            batch = services.submit_batch(
                organization=org,
                user=request.user,
                photos=chosen,
                matrix=matrix,
                source="dashboard",
                name=form.cleaned_data["name"] or product.title,
            )
        except BadInputError as exc:
            _apply_field_errors(form, exc)
            price_link = _price_link(exc, chosen)
        else:
            count = batch.jobs.count()
            messages.success(request, _("Batch submitted: %(count)d videos queued.") % {"count": count})
            return redirect("dashboard:batch_detail", pk=batch.pk)
    return _render_product(request, product, generate_form=form, price_link=price_link, status=400)


@editor_view
@require_POST
def estimate(request: HttpRequest) -> HttpResponse:
    """The htmx cost preview: "N videos · C credits" for the form as it stands; 404 for another org's photos."""
    org = request.organization
    parsed = {parse_id(value) for value in request.POST.getlist("photos")}
    if None in parsed:
        return HttpResponseBadRequest(_("Invalid photo id."))
    ids = sorted(parsed)
    photos = [selectors.get_photo(org, pk) for pk in ids]
    form = GenerateForm(request.POST, photo_choices=[(p.pk, str(p)) for p in photos], organization=org)
    # No market chosen yet: the merchant is still filling the form, so a hint rather than an error.
    hint = not request.POST.getlist("markets")
    context: dict = {"form": form, "estimate": None, "hint": hint}
    if not hint and form.is_valid():
        try:
            matrix = _matrix(form.cleaned_data)
            context["estimate"] = services.estimate_batch(organization=org, photos=photos, matrix=matrix)
        except BadInputError as exc:
            _apply_field_errors(form, exc)
            context["price_link"] = _price_link(exc, photos)
        else:
            estimate = context["estimate"]
            context["standing"] = dashboard_selectors.credit_standing(org, estimate.credits)
            labels = dict(ENGINE_CHOICES)
            context["breakdown"] = [(labels.get(e, e), lines, n, c) for e, lines, n, c in estimate.by_engine]
    return render(request, "dashboard/partials/estimate.html", context)


# --- Batches and jobs ---------------------------------------------------------------------------------------


@merchant_view
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "dashboard/batch_list.html", {"page": _page(request, selectors.batches_for(request.organization))}
    )


def _batch_context(request: HttpRequest, batch) -> dict:
    jobs = list(
        selectors.jobs_for(request.organization, batch=batch).select_related(
            "photo", "photo__product", "market", "scene", "look", "video"
        )
    )
    counts = {state: 0 for state, _label in Job.State.choices}
    for job in jobs:
        counts[job.state] += 1
    active = counts[Job.State.QUEUED] + counts[Job.State.RUNNING]
    progress = sum(1.0 if job.is_final else job.progress for job in jobs) / len(jobs) if jobs else 1.0
    positions = dashboard_selectors.queue_positions(request.organization, jobs)
    for job in jobs:
        job.queue_position = positions.get(job.pk)
    return {
        "batch": batch,
        "jobs": jobs,
        "counts": counts,
        "active": active,
        "all_final": active == 0,
        "progress_percent": round(progress * 100),
    }


@merchant_view
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.get_batch(request.organization, pk)
    return render(request, "dashboard/batch_detail.html", _batch_context(request, batch))


@merchant_view
@require_GET
def batch_jobs(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled partial: it carries its own hx-trigger only while some job is still active."""
    batch = selectors.get_batch(request.organization, pk)
    return render(request, "dashboard/partials/batch_jobs.html", _batch_context(request, batch))


def _after_action(request: HttpRequest, batch) -> HttpResponse:
    if _is_htmx(request):
        context = _batch_context(request, batch) | {"partial_messages": True}
        return render(request, "dashboard/partials/batch_jobs.html", context)
    return redirect("dashboard:batch_detail", pk=batch.pk)


@editor_view
@require_POST
def batch_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.get_batch(request.organization, pk)
    canceled = services.cancel_batch(batch=batch)
    messages.success(request, _("%(count)d jobs canceled.") % {"count": canceled})
    return _after_action(request, batch)


@editor_view
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_job(request.organization, pk)
    try:
        services.cancel_job(job=job)
    except BadInputError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Job %(id)d canceled.") % {"id": job.pk})
    return _after_action(request, job.batch)


@editor_view
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_job(request.organization, pk)
    try:
        services.retry_job(job=job)
    except BadInputError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Job %(id)d queued again.") % {"id": job.pk})
    return _after_action(request, job.batch)


# --- Gallery, review and downloads --------------------------------------------------------------------------


def _gallery_filters(request: HttpRequest) -> tuple[GalleryFilterForm, dict]:
    form = GalleryFilterForm(request.GET or None, organization=request.organization)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    return form, filters


@merchant_view
@require_GET
def video_list(request: HttpRequest) -> HttpResponse:
    form, filters = _gallery_filters(request)
    videos = dashboard_selectors.gallery(request.organization, **filters)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": _page(request, videos),
        "filter_form": form,
        "filtered": bool(filters),
        "query": query.urlencode(),
        "approved_count": selectors.videos_for(request.organization).filter(review=Video.Review.APPROVED).count(),
    }
    return render(request, "dashboard/video_list.html", context)


@merchant_view
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    videos = dashboard_selectors.review_queue(request.organization)
    page = _page(request, videos)
    for video in page.object_list:
        video.reasons = review_reasons(video)  # the same words as the review email
    context = {"page": page, "reject_form": RejectForm()} | _qa_thresholds()
    return render(request, "dashboard/review_queue.html", context)


def _qa_thresholds() -> dict:
    return {"qa_min_psnr": settings.SHOPVIDEO_QA_MIN_PSNR, "qa_min_ssim": settings.SHOPVIDEO_QA_MIN_SSIM}


def _video_context(video, reject_form) -> dict:
    shots = rules.ad_shots_qa(video) if video.job.format == "ad" else []
    return {"video": video, "job": video.job, "reject_form": reject_form, "ad_shots": shots} | _qa_thresholds()


@merchant_view
@require_GET
def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    return render(request, "dashboard/video_detail.html", _video_context(video, RejectForm()))


def _back_to_video(request: HttpRequest, video) -> HttpResponse:
    # The review queue and the gallery post here too; they pass where to go back to (only our own paths).
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("dashboard:video_detail", pk=video.pk)


@editor_view
@require_POST
def video_approve(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    try:
        charged = review.approve_video(video=video)
    except InsufficientCredits as exc:
        messages.error(request, _("%(reason)s Buy credits, then approve the video again.") % {"reason": exc.message})
        return _back_to_video(request, video)
    if charged:
        messages.success(
            request,
            ngettext(
                "Video approved and delivered: %(credits)d credit charged.",
                "Video approved and delivered: %(credits)d credits charged.",
                charged,
            )
            % {"credits": charged},
        )
    else:
        messages.success(request, _("Video approved."))
    return _back_to_video(request, video)


@editor_view
@require_POST
def video_reject(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return render(request, "dashboard/video_detail.html", _video_context(video, form), status=400)
    try:
        review.reject_video(video=video, reason=form.cleaned_data["reason"])
    except BadInputError as exc:
        form.add_error("reason", exc.message)
        return render(request, "dashboard/video_detail.html", _video_context(video, form), status=400)
    messages.success(request, _("Video rejected. Make a new take with another seed when you are ready."))
    return _back_to_video(request, video)


@editor_view
@require_POST
def video_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    try:
        batch = review.regenerate_video(video=video, user=request.user)
    except BadInputError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:video_detail", pk=video.pk)
    messages.success(request, _("A new take is queued with another seed."))
    return redirect("dashboard:batch_detail", pk=batch.pk)


@merchant_view
@require_GET
def video_zip(request: HttpRequest) -> HttpResponse:
    """?video=1&video=2 for a selection, or ?review=approved for every approved video; streamed from a temp file."""
    org = request.organization
    ids = request.GET.getlist("video")
    if ids:
        videos = dashboard_selectors.videos_by_ids(org, ids)
        name = "shopvideo-selection.zip"
    elif request.GET.get("review") == Video.Review.APPROVED:
        videos = list(dashboard_selectors.gallery(org, review=Video.Review.APPROVED))
        name = "shopvideo-approved.zip"
    else:
        videos = []
        name = ""
    if not videos:
        messages.error(request, _("Nothing to download: tick some videos, or approve some first."))
        return redirect("dashboard:video_list")
    archive = archives.write_zip(videos)
    return FileResponse(archive, as_attachment=True, filename=name, content_type="application/zip")
