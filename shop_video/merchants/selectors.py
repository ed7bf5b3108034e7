from django.contrib.auth.models import AbstractBaseUser

from .models import Membership, Organization


def organizations_for_user(user: AbstractBaseUser):
    return Organization.objects.filter(memberships__user=user).order_by("name")


def membership_for(user: AbstractBaseUser, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()
