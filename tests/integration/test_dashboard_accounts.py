"""Accounts through the Django test client: password reset from the email's link, invitations (new user, existing
user, wrong email, expired, used), and the organization switcher."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from shop_video.merchants.models import Invitation, Membership
from shop_video.merchants.services import invite
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-passphrase-for-2027"


def text(response) -> str:
    return response.content.decode()


def link_in(body: str) -> str:
    (url,) = re.findall(r"https?://testserver(/\S+)", body)
    return url


def log_in(client, email: str, password: str):
    return client.post(reverse("login"), {"username": email, "password": password})


# --- password reset ------------------------------------------------------------------------------------------------


def test_password_reset_from_the_emailed_link_to_a_login_with_the_new_password(client):
    user = UserFactory(email="ana@example.com", username="ana@example.com")

    response = client.post(reverse("dashboard:password_reset"), {"email": "ANA@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:password_reset_done")
    (email,) = mail.outbox
    assert email.to == ["ana@example.com"]
    link = link_in(email.body)

    form_page = client.get(link, follow=True)  # Django swaps the token for a session and redirects
    assert form_page.status_code == 200
    assert 'name="new_password1"' in text(form_page)
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("dashboard:password_reset_complete")

    assert log_in(client, "ana@example.com", PASSWORD).status_code == 200  # the old one: the form again
    assert "_auth_user_id" not in client.session
    response = log_in(client, "ana@example.com", NEW_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    # The link works once.
    client.logout()
    again = client.get(link, follow=True)
    assert 'name="new_password1"' not in text(again)


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(client):
    response = client.post(reverse("dashboard:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:password_reset_done")
    assert mail.outbox == []


# --- invitations ---------------------------------------------------------------------------------------------------


@pytest.fixture
def owner():
    return MembershipFactory(organization__name="Amber Home")


def send_invite(client, owner, email: str, role: str) -> str:
    """The owner invites through the team page; returns the link's path from the email."""
    client.force_login(owner.user)
    response = client.post(reverse("dashboard:team"), {"email": email, "role": role})
    assert response.status_code == 302, text(response)[:3000]
    (message,) = [m for m in mail.outbox if email.lower() in m.to]  # stored and sent in lower case
    assert "Amber Home" in message.subject
    client.logout()
    return link_in(message.body)


def test_invite_accepted_by_a_new_user_who_signs_up(client, owner):
    link = send_invite(client, owner, "new.editor@example.com", Membership.Role.EDITOR)

    page = client.get(link)
    assert page.status_code == 200 and "Join Amber Home" in text(page)
    signup = client.post(
        reverse("dashboard:signup") + f"?next={link}",
        {
            "email": "new.editor@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "organization_name": "Editor's own shop",
            "next": link,
        },
    )
    assert signup.status_code == 302 and signup["Location"] == reverse("dashboard:signup_sent")
    (verification,) = [m for m in mail.outbox if "new.editor@example.com" in m.to and "Confirm" in m.subject]
    (verify_path,) = re.findall(r"https?://\S+?(/verify-email/\S+/)", verification.body)
    confirmed = client.post(verify_path)  # the email confirmed: logged in, back to the invitation
    assert confirmed.status_code == 302 and confirmed["Location"] == link
    accepted = client.post(link)
    assert accepted.status_code == 302

    membership = Membership.objects.get(user__email="new.editor@example.com", organization=owner.organization)
    assert membership.role == Membership.Role.EDITOR
    home = client.get(reverse("dashboard:home"))
    assert "You joined Amber Home." in text(home)
    assert client.session["current_organization_id"] == owner.organization_id
    assert Invitation.objects.get(email="new.editor@example.com").accepted_by == membership.user


def test_invite_accepted_by_an_existing_user_gets_the_role(client, owner):
    viewer = MembershipFactory(user__email="lee@example.com", user__username="lee@example.com")
    link = send_invite(client, owner, "Lee@Example.com", Membership.Role.VIEWER)

    assert log_in(client, "lee@example.com", PASSWORD).status_code == 302
    assert "Accept the invitation" in text(client.get(link))
    client.post(link)

    joined = Membership.objects.get(user=viewer.user, organization=owner.organization)
    assert joined.role == Membership.Role.VIEWER
    # A viewer cannot create products in the new shop.
    assert client.get(reverse("dashboard:product_create")).status_code == 403


def test_invite_for_another_email_is_refused_with_a_message(client, owner):
    link = send_invite(client, owner, "invited@example.com", Membership.Role.OWNER)
    intruder = MembershipFactory(user__email="intruder@example.com", user__username="intruder@example.com")
    client.force_login(intruder.user)

    page = client.get(link)
    assert page.status_code == 403
    assert "This invitation is for invited@example.com, but you are logged in as intruder@example.com" in text(page)
    response = client.post(link)
    assert response.status_code == 403
    assert not Membership.objects.filter(user=intruder.user, organization=owner.organization).exists()
    assert Invitation.objects.get(email="invited@example.com").accepted_at is None
    # The page's Log out button comes back to the invitation, for the invited person to log in.
    logout = client.post(reverse("logout"), {"next": link})
    assert logout.status_code == 302 and logout["Location"] == link
    assert "Create an account" in text(client.get(link))


def test_expired_invite_is_refused_with_a_message(client, owner, settings):
    settings.SHOPVIDEO_INVITATION_DAYS = 7
    link = send_invite(client, owner, "late@example.com", Membership.Role.EDITOR)
    Invitation.objects.filter(email="late@example.com").update(created_at=owner.created_at - timedelta(days=8))
    late = UserFactory(email="late@example.com", username="late@example.com")
    client.force_login(late)

    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410
        assert "This invitation has expired. Ask the shop owner to invite you again." in text(response)
    assert not Membership.objects.filter(user=late, organization=owner.organization).exists()


def test_used_invite_is_refused_with_a_message(client, owner):
    link = send_invite(client, owner, "once@example.com", Membership.Role.EDITOR)
    first = UserFactory(email="once@example.com", username="once@example.com")
    client.force_login(first)
    client.post(link)
    assert Membership.objects.filter(user=first, organization=owner.organization).exists()
    client.logout()

    response = client.get(link)
    assert response.status_code == 410
    assert "This invitation was already used." in text(response)


def test_a_made_up_invitation_token_is_a_404_with_a_message(client):
    response = client.get(reverse("dashboard:accept_invitation", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "This invitation cannot be used" in text(response)


def test_service_refuses_an_expired_invitation_under_lock(owner, settings):
    from shop_video.merchants import services

    settings.SHOPVIDEO_INVITATION_DAYS = 0  # expires at once
    invitation, _token = invite(organization=owner.organization, email="x@example.com", role="editor", invited_by=None)
    user = UserFactory(email="x@example.com", username="x@example.com")
    with pytest.raises(services.MembershipError, match="expired"):
        services.accept_invitation(invitation=invitation, user=user)


# --- organization switcher -----------------------------------------------------------------------------------------


def test_a_member_of_two_shops_switches_and_sees_the_other_shops_data(client):
    first = MembershipFactory(organization__name="Alpha Teas")
    second = Membership.objects.create(
        user=first.user, organization=OrganizationFactory(name="Beta Bags"), role=Membership.Role.VIEWER
    )
    ProductFactory(organization=first.organization, title="Jasmine tea tin")
    ProductFactory(organization=second.organization, title="Canvas tote")
    stranger = OrganizationFactory(name="Gamma Shoes")
    ProductFactory(organization=stranger, title="Running shoe")
    client.force_login(first.user)

    products = text(client.get(reverse("dashboard:product_list")))
    assert "Jasmine tea tin" in products and "Canvas tote" not in products
    switcher = text(client.get(reverse("dashboard:home")))
    assert "Alpha Teas" in switcher and "Beta Bags" in switcher and "Gamma Shoes" not in switcher

    response = client.post(reverse("dashboard:switch_organization"), {"organization": second.organization_id})
    assert response.status_code == 302
    products = text(client.get(reverse("dashboard:product_list")))
    assert "Canvas tote" in products and "Jasmine tea tin" not in products
    # The role follows the shop: a viewer in Beta Bags.
    assert client.get(reverse("dashboard:product_create")).status_code == 403

    # Not a member of Gamma Shoes: refused, and still working in Beta Bags.
    for bad in (stranger.pk, "999999", "x", ""):
        assert client.post(reverse("dashboard:switch_organization"), {"organization": bad}).status_code == 404
    products = text(client.get(reverse("dashboard:product_list")))
    assert "Canvas tote" in products and "Running shoe" not in products


def test_a_stale_session_after_leaving_a_shop_falls_back_to_a_shop_of_the_user(client):
    first = MembershipFactory(organization__name="Alpha Teas")
    second = Membership.objects.create(user=first.user, organization=OrganizationFactory(name="Beta Bags"))
    ProductFactory(organization=second.organization, title="Canvas tote")
    client.force_login(first.user)
    client.post(reverse("dashboard:switch_organization"), {"organization": second.organization_id})
    second.delete()  # removed from Beta Bags by its owner

    products = text(client.get(reverse("dashboard:product_list")))
    assert "Canvas tote" not in products
    assert "Alpha Teas" in products
