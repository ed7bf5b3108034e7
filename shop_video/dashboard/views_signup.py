"""Sign-up and email verification pages; the rules live in shop_video.merchants.signup.

A sign-up answers the same whether or not the email has an account (a redirect to "check your email"); nobody is
logged in until the emailed link is confirmed. The link's page asks for a click (POST), so that a mail scanner
opening links does not use it up."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shop_video.core.audit import client_ip
from shop_video.merchants import signup as signup_service
from shop_video.merchants.middleware import SESSION_KEY

from .forms import SignUpForm

SIGNUP_EMAIL_KEY = "signup_email"
SIGNUP_NEXT_KEY = "signup_next"


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else ""


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """A new merchant: the account waits for its email to be confirmed. Too many sign-ups from one address: 429."""
    if request.user.is_authenticated:
        return redirect("dashboard:home")
    nxt = _safe_next(request.GET.get("next") or request.POST.get("next") or "")
    form = SignUpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        address = client_ip(request)
        if not signup_service.signups_allowed(address):
            context = {
                "form": SignUpForm(initial={"email": request.POST.get("email", "")}),
                "next": nxt,
                "refusal": _("Too many sign-ups from your network. Try again in an hour."),
            }
            response = render(request, "registration/signup.html", context, status=429)
            response["Retry-After"] = str(signup_service.SIGNUP_WINDOW_SECONDS)
            return response
        if form.is_valid():
            data = form.cleaned_data
            signup_service.count_signup(address)
            registration = signup_service.register(
                email=data["email"],
                password=data["password1"],
                organization_name=data["organization_name"],
                language=translation.get_language(),
            )
            if registration.created:
                signup_service.send_verification_email(registration.user, registration.token)
            request.session[SIGNUP_EMAIL_KEY] = registration.email
            request.session[SIGNUP_NEXT_KEY] = nxt
            return redirect("dashboard:signup_sent")
        status = 400
    return render(request, "registration/signup.html", {"form": form, "next": nxt}, status=status)


@require_http_methods(["GET"])
def signup_sent(request: HttpRequest) -> HttpResponse:
    """After a sign-up, whatever happened: check your email."""
    email = request.session.get(SIGNUP_EMAIL_KEY, "")
    return render(request, "registration/signup_sent.html", {"email": email})


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET shows a button, POST confirms the email (once), grants the credits and logs in."""
    problem = signup_service.verification_problem(signup_service.verification_for_token(token))
    if problem is None and request.method == "POST":
        try:
            user = signup_service.verify_email(token)
        except signup_service.VerificationError as exc:
            problem = exc
        else:
            nxt = _safe_next(request.session.get(SIGNUP_NEXT_KEY, ""))
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            own = user.memberships.order_by("created_at", "id").first()
            if own is not None:
                request.session[SESSION_KEY] = own.organization_id
            messages.success(
                request, _("Your email is confirmed. Welcome to ShopVideo: start with your first product.")
            )
            return redirect(nxt or "dashboard:product_create")
    if problem is not None:
        status = 404 if problem.code == "verification_invalid" else 410
        return render(request, "registration/verify_email.html", {"problem": problem}, status=status)
    return render(request, "registration/verify_email.html", {"token": token})


@login_required
@require_http_methods(["GET"])
def verification_pending(request: HttpRequest) -> HttpResponse:
    """What an account with an unconfirmed email sees, whatever it asks for."""
    pending = signup_service.pending_for(request.user)
    if pending is None:
        return redirect("dashboard:home")
    return render(request, "registration/verification_pending.html", {"email": request.user.email})


@login_required
@require_POST
def verification_resend(request: HttpRequest) -> HttpResponse:
    pending = signup_service.pending_for(request.user)
    if pending is None:
        return redirect("dashboard:home")
    if not signup_service.can_resend(pending):
        messages.error(request, _("We sent a link less than a minute ago. Check your inbox and spam folder."))
    else:
        token = signup_service.issue_token(request.user)
        signup_service.send_verification_email(request.user, token)
        messages.success(request, _("We sent a new link to %(email)s.") % {"email": request.user.email})
    return redirect("dashboard:verification_pending")
