from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404
from django.shortcuts import get_object_or_404

# API keys live in .api_keys; re-exported beside the other reads.
from .api_keys import api_key_for_secret, api_keys_for, get_api_key  # noqa: F401
from .models import Invitation, Membership, Organization


def organizations_for_user(user: AbstractBaseUser):
    return Organization.objects.filter(memberships__user=user).order_by("name")


def membership_for(user: AbstractBaseUser, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


def members_of(organization: Organization):
    return Membership.objects.filter(organization=organization).select_related("user").order_by("user__email")


def get_member(organization: Organization, pk) -> Membership:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("not found") from None
    return get_object_or_404(members_of(organization), pk=pk)


def pending_invitations(organization: Organization):
    return Invitation.objects.filter(organization=organization, accepted_at__isnull=True)
