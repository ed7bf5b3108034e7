"""The real URLs plus three views that fail on purpose, for the error-page test (ROOT_URLCONF override)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from shop_video.urls import urlpatterns as real_urlpatterns


def _bad_request(request):
    raise SuspiciousOperation("a malformed request")


def _forbidden(request):
    raise PermissionDenied


def _crash(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("__errors__/400", _bad_request),
    path("__errors__/403", _forbidden),
    path("__errors__/500", _crash),
    *real_urlpatterns,
]
