"""Billing pages: credits and packs (Card Element), plans, usage (chart + CSV), payments and invoices. Thin views."""

from __future__ import annotations

import csv
import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billing import gateway, selectors, services
from billing.models import LedgerEntry, Payment
from shop_video.dashboard.views import merchant_view
from shop_video.merchants.models import Membership

owner_view = merchant_view(role=Membership.Role.OWNER)


def _stripe_context() -> dict:
    return {
        "payments_enabled": gateway.enabled(),
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
    }


@merchant_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    org = request.organization
    context = {
        "credits": selectors.credits_for(org),
        "packs": services.credit_packs(),
        "plans": services.plans(),
        "entries": selectors.ledger_for(org)[:20],
        "subscriptions": selectors.subscriptions_for(org)[:5],
        **_stripe_context(),
    }
    return render(request, "billing/overview.html", context)


@owner_view
@require_POST
def buy_pack(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        payment, _secret = services.start_pack_purchase(organization=request.organization, pack=slug, user=request.user)
    except services.BillingError as exc:
        messages.error(request, exc.message)
        return redirect("billing:overview")
    return redirect("billing:pay", pk=payment.pk)


@owner_view
@require_GET
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk, organization=request.organization)
    if payment.status != Payment.Status.PENDING and payment.status != Payment.Status.FAILED:
        return redirect("billing:payment_detail", pk=payment.pk)
    if not gateway.enabled():
        raise Http404
    intent = gateway.retrieve_payment_intent(payment.payment_intent_id)
    context = {
        "payment": payment,
        "client_secret": intent.client_secret,
        "done_url": reverse("billing:payment_detail", args=[payment.pk]),
        **_stripe_context(),
    }
    return render(request, "billing/pay.html", context)


@merchant_view
@require_GET
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk, organization=request.organization)
    return render(request, "billing/payment_detail.html", {"payment": payment})


@merchant_view
@require_GET
def invoices(request: HttpRequest) -> HttpResponse:
    org = request.organization
    context = {"payments": selectors.payments_for(org)[:100], "invoices": selectors.invoices_for(org)[:100]}
    return render(request, "billing/invoices.html", context)


@merchant_view
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    org = request.organization
    days = selectors.daily_balance(org, days=90)
    chart = [{"day": d["day"].isoformat(), "balance": d["balance"], "reserved": d["reserved"]} for d in days]
    peak = max([d["balance"] for d in days] + [1])
    bars = [{**d, "height": round(100 * d["balance"] / peak, 1)} for d in chart]
    context = {
        "credits": selectors.credits_for(org),
        "bars": bars,
        "chart_json": json.dumps(chart),
        "by_market": selectors.spend_by_market(org),
        "by_batch": selectors.spend_by_batch(org),
    }
    return render(request, "billing/usage.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@merchant_view
@require_GET
def usage_csv(request: HttpRequest) -> HttpResponse:
    """The organization's whole ledger as CSV (streamed: it can be long)."""
    from django.http import StreamingHttpResponse

    writer = csv.writer(_Echo())
    header = [
        "id",
        "created_at",
        "kind",
        "credits",
        "balance_delta",
        "reserved_delta",
        "balance_after",
        "reserved_after",
        "job",
        "batch",
        "market",
        "reason",
    ]

    def rows():
        yield writer.writerow(header)
        qs = LedgerEntry.objects.filter(organization=request.organization).select_related("job__market").order_by("id")
        for e in qs.iterator(chunk_size=2000):
            job = e.job
            yield writer.writerow(
                [
                    e.pk,
                    e.created_at.isoformat(),
                    e.kind,
                    e.credits,
                    e.balance_delta,
                    e.reserved_delta,
                    e.balance_after,
                    e.reserved_after,
                    e.job_id or "",
                    job.batch_id if job else "",
                    job.market.slug if job else "",
                    e.reason,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="credits.csv"'
    return response


@owner_view
@require_POST
def cancel_subscription(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_object_or_404(selectors.subscriptions_for(request.organization), pk=pk)
    try:
        services.cancel_subscription(subscription=sub)
    except services.BillingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The subscription was canceled."))
    return redirect("billing:overview")
