"""Dashboard pages: webhook endpoints (the secret shown once after creation), the delivery log, replay."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shop_video.ids import parse_id
from shop_video.webhooks import selectors, services
from shop_video.webhooks.models import EventType, WebhookDelivery

from .forms import EndpointForm
from .views import editor_view, merchant_view

PAGE_SIZE = 50
_NEW_SECRET = "webhooks.new_secret"  # noqa: S105 — a session key name


@merchant_view
@require_http_methods(["GET", "POST"])
def endpoint_list(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST":
        return _create(request, form)
    return _render_list(request, form)


def _render_list(request: HttpRequest, form: EndpointForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "endpoints": selectors.endpoints(request.organization),
        # Shown once: popped from the session on the first page view after creation.
        "new_secret": request.session.pop(_NEW_SECRET, None),
    }
    return render(request, "webhooks/endpoint_list.html", context, status=status)


@editor_view
def _create(request: HttpRequest, form: EndpointForm) -> HttpResponse:
    if not form.is_valid():
        return _render_list(request, form, status=400)
    try:
        endpoint = services.create_endpoint(
            organization=request.organization,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            actor=request.user,
            request=request,
        )
    except services.WebhookError as exc:
        for field, errors in exc.fields.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        if not exc.fields:
            form.add_error(None, exc.message)
        return _render_list(request, form, status=400)
    request.session[_NEW_SECRET] = {"id": endpoint.pk, "url": endpoint.url, "secret": endpoint.secret}
    messages.success(request, _("Endpoint added. Copy its signing secret now: it is shown only once."))
    return redirect("webhooks:endpoint_list")


@editor_view
@require_POST
def endpoint_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.get_endpoint(request.organization, pk)
    services.update_endpoint(endpoint=endpoint, active=not endpoint.active, actor=request.user, request=request)
    messages.success(request, _("Endpoint enabled.") if endpoint.active else _("Endpoint paused."))
    return redirect("webhooks:endpoint_list")


@editor_view
@require_POST
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.delete_endpoint(
        endpoint=selectors.get_endpoint(request.organization, pk), actor=request.user, request=request
    )
    messages.success(request, _("Endpoint deleted."))
    return redirect("webhooks:endpoint_list")


@editor_view
@require_POST
def endpoint_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = services.rotate_secret(
        endpoint=selectors.get_endpoint(request.organization, pk), actor=request.user, request=request
    )
    request.session[_NEW_SECRET] = {"id": endpoint.pk, "url": endpoint.url, "secret": endpoint.secret}
    messages.success(request, _("New signing secret made. Copy it now: it is shown only once."))
    return redirect("webhooks:endpoint_list")


@merchant_view
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    endpoint = None
    if raw := request.GET.get("endpoint", ""):
        endpoint_id = parse_id(raw)
        if endpoint_id is None:
            raise Http404("not found")
        endpoint = selectors.get_endpoint(request.organization, endpoint_id)
    status = request.GET.get("status", "")
    status = status if status in WebhookDelivery.Status.values else ""
    event_type = request.GET.get("event_type", "")
    event_type = event_type if event_type in EventType.values else ""
    qs = selectors.deliveries(request.organization, endpoint=endpoint, status=status, event_type=event_type)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "endpoint": endpoint,
        "status": status,
        "event_type": event_type,
        "statuses": WebhookDelivery.Status.choices,
        "event_types": EventType.choices,
        "endpoints": selectors.endpoints(request.organization),
    }
    return render(request, "webhooks/delivery_list.html", context)


@merchant_view
@require_GET
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = selectors.get_delivery(request.organization, pk)
    return render(request, "webhooks/delivery_detail.html", {"delivery": delivery})


@editor_view
@require_POST
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    new = services.replay(delivery=selectors.get_delivery(request.organization, pk))
    messages.success(request, _("The event was queued for delivery again."))
    return redirect("webhooks:delivery_detail", pk=new.pk)
