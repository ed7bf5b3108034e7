from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from .models import Membership, Organization


@transaction.atomic
def create_organization(*, name: str, slug: str | None = None, owner=None) -> Organization:
    org = Organization.objects.create(name=name, slug=slug or slugify(name)[:80])
    if owner is not None:
        Membership.objects.create(user=owner, organization=org, role=Membership.Role.OWNER)
    return org


@transaction.atomic
def create_merchant_user(*, email: str, password: str, organization_name: str, org_slug: str | None = None):
    """A user with their own organization, as sign-up and the demo seed create them."""
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    org = create_organization(name=organization_name, slug=org_slug, owner=user)
    return user, org
