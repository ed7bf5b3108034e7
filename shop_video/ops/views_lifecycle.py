"""Dashboard: delete a product (editors and owners). Thin: the data lifecycle service does the work."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from generation import selectors
from shop_video.dashboard.views import editor_view

from . import lifecycle


@editor_view
@require_POST
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.get_product(request.organization, pk)  # another organization's product is a 404
    try:
        lifecycle.request_product_deletion(product=product, actor=request.user, request=request)
    except (lifecycle.ProductBusy, lifecycle.ProductInUse) as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:product_detail", pk=product.pk)
    messages.success(request, _("Product “%(title)s” deleted with its photos and videos.") % {"title": product.title})
    return redirect("dashboard:product_list")
