"""Merchant dashboard pages. Thin: selectors read (scoped to request.organization), services write.

Every object is looked up through generation.selectors with the request's organization, so another
merchant's id is a 404 on every page, partial and action.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generation import selectors, services
from generation.models import Job
from generation.pipeline.errors import BadInputError

from .forms import GenerateForm, MaskForm, ProductForm

PAGE_SIZE = 24


def merchant_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required (anonymous → login page); a user without an organization sees nothing (404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.organization is None:
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


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
        context.update(
            recent_batches=selectors.batches_for(org)[:5],
            product_count=selectors.products_for(org).count(),
            video_count=selectors.videos_for(org).count(),
        )
    return render(request, "dashboard/home.html", context)


# --- Products -----------------------------------------------------------------------------------------------


@merchant_view
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    products = selectors.products_for(request.organization).prefetch_related("photos")
    return render(request, "dashboard/product_list.html", {"page": _page(request, products)})


@merchant_view
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
                return redirect("dashboard:product_detail", pk=product.pk)
        status = 400
    else:
        form = ProductForm()
        status = 200
    return render(request, "dashboard/product_form.html", {"form": form, "upload_errors": upload_errors}, status=status)


def _generate_form(product, photos, data=None) -> GenerateForm:
    choices = [(p.pk, p.original_name or _("Photo %(id)d") % {"id": p.pk}) for p in photos]
    return GenerateForm(data, photo_choices=choices)


def _render_product(request: HttpRequest, product, *, generate_form=None, status: int = 200) -> HttpResponse:
    photos = list(selectors.photos_for(request.organization, product=product))
    context = {
        "product": product,
        "photos": photos,
        "mask_form": MaskForm(),
        "generate_form": generate_form or _generate_form(product, photos),
    }
    return render(request, "dashboard/product_detail.html", context, status=status)


@merchant_view
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.get_product(request.organization, pk)
    return _render_product(request, product)


@merchant_view
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
    return redirect(reverse("dashboard:product_detail", args=[photo.product_id]) + f"#photo-{photo.pk}")


# --- Generate -----------------------------------------------------------------------------------------------


def _matrix(data: dict) -> services.VariantMatrix:
    return services.VariantMatrix(
        markets=list(data["markets"]),
        scenes=list(data["scenes"]),
        aspect_ratios=list(data["aspect_ratios"]),
        seconds=list(data["seconds"]),
        resolution=data["resolution"],
        engine=data["engine"],
    )


def _apply_field_errors(form, exc: BadInputError) -> None:
    """Service errors with `.fields` go next to their form fields; the rest (e.g. "matrix") above the form."""
    fields = getattr(exc, "fields", None) or {}
    for field, field_messages in fields.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not fields:
        form.add_error(None, exc.message)


@merchant_view
@require_POST
def generate(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.organization
    product = selectors.get_product(org, pk)
    photos = list(selectors.photos_for(org, product=product))
    form = _generate_form(product, photos, request.POST)
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
        else:
            count = batch.jobs.count()
            messages.success(request, _("Batch submitted: %(count)d videos queued.") % {"count": count})
            return redirect("dashboard:batch_detail", pk=batch.pk)
    return _render_product(request, product, generate_form=form, status=400)


@merchant_view
@require_POST
def estimate(request: HttpRequest) -> HttpResponse:
    """The htmx cost preview: "N videos · C credits" for the form as it stands; 404 for another org's photos."""
    org = request.organization
    try:
        ids = sorted({int(value) for value in request.POST.getlist("photos")})
    except ValueError:
        return HttpResponseBadRequest(_("Invalid photo id."))
    photos = [selectors.get_photo(org, pk) for pk in ids]
    form = GenerateForm(request.POST, photo_choices=[(p.pk, str(p)) for p in photos])
    # No market chosen yet: the merchant is still filling the form, so a hint rather than an error.
    hint = not request.POST.getlist("markets")
    context: dict = {"form": form, "estimate": None, "hint": hint}
    if not hint and form.is_valid():
        try:
            matrix = _matrix(form.cleaned_data)
            context["estimate"] = services.estimate_batch(organization=org, photos=photos, matrix=matrix)
        except BadInputError as exc:
            _apply_field_errors(form, exc)
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


@merchant_view
@require_POST
def batch_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.get_batch(request.organization, pk)
    canceled = services.cancel_batch(batch=batch)
    messages.success(request, _("%(count)d jobs canceled.") % {"count": canceled})
    return _after_action(request, batch)


@merchant_view
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


@merchant_view
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


# --- Videos -------------------------------------------------------------------------------------------------


@merchant_view
@require_GET
def video_list(request: HttpRequest) -> HttpResponse:
    videos = selectors.videos_for(request.organization).select_related(
        "job", "job__photo__product", "job__market", "job__scene"
    )
    return render(request, "dashboard/video_list.html", {"page": _page(request, videos)})


@merchant_view
@require_GET
def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    return render(request, "dashboard/video_detail.html", {"video": video, "job": video.job})
