"""Dashboard: delete a product (editors and owners) or the whole shop (owners). Thin: the data lifecycle service
does the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from generation import selectors
from generation.services import deletion
from shop_video.merchants.middleware import SESSION_KEY
from shop_video.merchants.models import Membership
from shop_video.merchants.selectors import organizations_for_user
from shop_video.ops import lifecycle

from . import selectors as dashboard_selectors
from .forms import DeleteOrganizationForm
from .views import editor_view, merchant_view


@editor_view
@require_POST
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.get_product(request.organization, pk)  # another organization's product is a 404
    try:
        deletion.request_product_deletion(product=product, actor=request.user, request=request)
    except (deletion.ProductBusy, deletion.ProductInUse) as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:product_detail", pk=product.pk)
    messages.success(request, _("Product “%(title)s” deleted with its photos and videos.") % {"title": product.title})
    return redirect("dashboard:product_list")


@merchant_view(role=Membership.Role.OWNER)
@require_http_methods(["GET", "POST"])
def organization_delete(request: HttpRequest) -> HttpResponse:
    """The owner reads what goes, types the shop's name, and everyone's access ends at once; the files and rows are
    deleted in the background. With other shops left the owner lands in one of them; with none, they are signed out."""
    org = request.organization
    form = DeleteOrganizationForm(request.POST or None, organization=org)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                lifecycle.request_organization_deletion(organization=org, actor=request.user, request=request)
            except lifecycle.OrganizationStillBilled as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                deleted = _("“%(shop)s” is deleted: nobody can open it any more, and its photos, videos and data are "
                            "being removed from storage.") % {"shop": org.name}  # fmt: skip
                remaining = organizations_for_user(request.user).first()
                if remaining is None:
                    logout(request)
                    return render(request, "dashboard/organization_deleted.html", {"message": deleted})
                request.session[SESSION_KEY] = remaining.pk
                messages.success(request, deleted)
                return redirect("dashboard:home")
    context = {"form": form, "summary": dashboard_selectors.deletion_summary(org)}
    return render(request, "dashboard/organization_delete.html", context, status=status)
