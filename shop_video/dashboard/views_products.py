"""A saved product's page actions: edit its fields (title, SKU, category, price), add and remove photos."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from generation import selectors, services
from generation.services.errors import PhotoInUse
from generation.services.products import remove_photo, update_product
from shop_video.merchants.access import editor_view

from .forms import PhotoAddForm, ProductEditForm
from .views import _apply_field_errors, _render_product


@editor_view
@require_POST
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.get_product(request.organization, pk)
    form = ProductEditForm.for_product(product, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        # The price is checked only when it is changed: an imported price without a currency survives a rename.
        price = (
            {"price": data["price"] or None, "currency": data["currency"]}
            if {"price", "currency"} & set(form.changed_data)
            else {}
        )
        try:
            update_product(product=product, title=data["title"], sku=data["sku"], category=data["category"], **price)
        except services.ProductInvalid as exc:
            product.refresh_from_db()
            _apply_field_errors(form, exc)
        else:
            messages.success(request, _("Product “%(title)s” saved.") % {"title": product.title})
            return redirect("dashboard:product_detail", pk=product.pk)
    return _render_product(request, product, edit_form=form, status=400)


@editor_view
@require_POST
def photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Each good photo is kept; a refused one is named with its reason."""
    product = selectors.get_product(request.organization, pk)
    form = PhotoAddForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("photos", []):
            messages.error(request, error)
    else:
        added = 0
        for upload in form.cleaned_data["photos"]:
            try:
                services.add_photo(product=product, upload=upload, filename=upload.name)
                added += 1
            except services.PhotoRejected as exc:
                messages.error(
                    request, _("%(name)s was not added: %(reason)s") % {"name": exc.filename, "reason": exc.message}
                )
        if added:
            messages.success(
                request, ngettext("%(count)d photo added.", "%(count)d photos added.", added) % {"count": added}
            )
    return redirect(reverse("dashboard:product_detail", args=[product.pk]) + "#photos-title")


@editor_view
@require_POST
def photo_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo no video was made from is removed; one with videos stays (they would go with it)."""
    photo = selectors.get_photo(request.organization, pk)
    try:
        remove_photo(photo=photo)
    except PhotoInUse as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Photo %(photo)s removed.") % {"photo": photo})
    return redirect(reverse("dashboard:product_detail", args=[photo.product_id]) + "#photos-title")
