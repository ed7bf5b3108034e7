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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import gateway, selectors, services
from billing.chart import balance_chart
from billing.models import LedgerEntry, Payment
from shop_video.merchants.access import merchant_view
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


def _card_page(request: HttpRequest, template: str, context: dict, *, purpose: str) -> HttpResponse:
    """A page with the Card Element: a fresh SetupIntent for `confirmCardSetup` on every showing (a confirmed one
    cannot take another card)."""
    try:
        setup_secret = services.start_card_setup(organization=request.organization, purpose=purpose)
    except services.BillingError as exc:
        messages.error(request, exc.message)
        setup_secret = ""
    return render(request, template, {**context, "setup_secret": setup_secret, **_stripe_context()})


@owner_view
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the Card Element for a pack. POST (after Stripe.js saved the card): the server charges it."""
    payment = get_object_or_404(Payment, pk=pk, organization=request.organization)
    if payment.status != Payment.Status.PENDING and payment.status != Payment.Status.FAILED:
        return redirect("billing:payment_detail", pk=payment.pk)
    if not gateway.enabled():
        raise Http404
    context = {"payment": payment, "done_url": reverse("billing:payment_detail", args=[payment.pk])}
    if request.method == "POST":
        try:
            result = services.pay_with_card(payment=payment, setup_intent_id=request.POST.get("setup_intent", ""))
        except services.BillingError as exc:
            messages.error(request, exc.message)
            return redirect("billing:pay", pk=payment.pk)
        if result.status == "requires_action":  # 3-D Secure: Stripe.js shows the bank's challenge on this page
            return render(
                request, "billing/pay.html", {**context, "action_secret": result.client_secret, **_stripe_context()}
            )
        messages.success(request, _("Thank you: your card was charged. The credits appear as soon as Stripe confirms."))
        return redirect("billing:payment_detail", pk=payment.pk)
    return _card_page(request, "billing/pay.html", context, purpose="pack")


@owner_view
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """A monthly plan paid with a card from the Card Element (saved by `confirmCardSetup`); the current plan, its
    next billing date, and cancel."""
    org = request.organization
    if request.method == "POST":
        plan = request.POST.get("plan", "")
        try:
            sub = services.subscribe_with_card(
                organization=org, plan=plan, setup_intent_id=request.POST.get("setup_intent", "")
            )
        except services.BillingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _(
                    "You are subscribed to the %(plan)s plan. Its credits are added as soon as Stripe confirms "
                    "the payment."
                )
                % {"plan": sub.plan},
            )
        return redirect("billing:subscribe")
    subscriptions = list(selectors.subscriptions_for(org)[:5])
    live = next((s for s in subscriptions if s.is_live), None)
    context = {
        "plans": services.plans(),
        "live_subscription": live,
        "subscriptions": subscriptions,
    }
    if live is not None or not gateway.enabled():
        return render(request, "billing/subscribe.html", {**context, "setup_secret": "", **_stripe_context()})
    return _card_page(request, "billing/subscribe.html", context, purpose="plan")


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
    context = {
        "credits": selectors.credits_for(org),
        "chart": balance_chart(days),
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
    return redirect("billing:subscribe")
