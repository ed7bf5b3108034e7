from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .selectors import organizations_for_user

SESSION_KEY = "current_organization_id"


class CurrentOrganizationMiddleware:
    """Sets request.organization to the logged-in user's current organization (or None).

    The organization comes only from the user's own memberships, so a crafted session or URL cannot point a
    user at another merchant's data; selectors then scope every query to it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None
        if request.user.is_authenticated:
            orgs = organizations_for_user(request.user)
            wanted = request.session.get(SESSION_KEY)
            org = orgs.filter(pk=wanted).first() if wanted else None
            request.organization = org or orgs.first()
        return self.get_response(request)


class EmailVerificationMiddleware:
    """A logged-in account whose sign-up email is not confirmed yet reaches only the "check your email" page (with
    resend), the verification link, logout and language switching: no shop pages, no jobs, no API keys."""

    OPEN_PREFIXES = (
        "/account/verify/",
        "/verify-email/",
        "/accounts/logout/",
        "/i18n/",
        "/static/",
        "/api/",
        "/healthz",
        "/readyz",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.path.startswith(self.OPEN_PREFIXES):
            from .signup import needs_verification

            if needs_verification(request.user):
                from django.shortcuts import redirect

                return redirect("dashboard:verification_pending")
        return self.get_response(request)
