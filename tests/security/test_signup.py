"""Sign-up: email verification before credits and jobs (a one-time link that expires), a limit on sign-ups per
client address (through real requests), and the same answer for a taken email as for a new one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import LedgerEntry
from billing.selectors import credits_for
from generation.models import Job, Product
from shop_video.merchants.models import EmailVerification, Membership, Organization
from tests.factories import PASSWORD, ProductFactory, UserFactory

NEW_PASSWORD = "a-long-enough-passphrase-42"


def _form(email: str, shop: str = "Mei's Bags") -> dict:
    return {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "organization_name": shop}


def _link_path(body: str) -> str:
    (url,) = re.findall(r"https?://\S+(/verify-email/\S+/)", body)
    return url


@pytest.fixture
def signed_up(client, settings):
    """A merchant who has just signed up: (client, membership, link path of the verification email)."""
    settings.SHOPVIDEO_SIGNUP_CREDITS = 30
    response = client.post(reverse("dashboard:signup"), _form("Mei@Example.com"))
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:signup_sent")
    membership = Membership.objects.select_related("organization", "user").get(user__email="mei@example.com")
    (message,) = mail.outbox
    return client, membership, _link_path(message.body)


@pytest.mark.django_db
def test_sign_up_sends_a_verification_email_and_gives_no_credits_yet(signed_up):
    client, membership, _link = signed_up
    (message,) = mail.outbox
    assert message.to == ["mei@example.com"] and "Confirm your email" in message.subject
    assert "_auth_user_id" not in client.session  # nobody is logged in before the email is confirmed
    assert credits_for(membership.organization).available == 0
    assert not LedgerEntry.objects.filter(organization=membership.organization).exists()
    assert "mei@example.com" in client.get(reverse("dashboard:signup_sent")).content.decode()


@pytest.mark.django_db
def test_an_unverified_account_sees_only_check_your_email_and_starts_no_job(signed_up):
    client, membership, _link = signed_up
    assert client.login(username="mei@example.com", password=NEW_PASSWORD)
    pending = reverse("dashboard:verification_pending")
    home = client.get(reverse("dashboard:home"))
    assert home.status_code == 302 and home["Location"] == pending
    page = client.get(pending).content.decode()
    assert "we sent a link to mei@example.com" in page and "Send the link again" in page

    product = ProductFactory(organization=membership.organization)
    for url in (reverse("dashboard:generate", args=[product.pk]), reverse("dashboard:product_create")):
        response = client.post(url, {"markets": ["us"], "aspect_ratios": ["9:16"], "seconds": [5], "title": "x"})
        assert response.status_code == 302 and response["Location"] == pending, url
    assert client.post(reverse("dashboard:api_keys"), {"name": "ci"})["Location"] == pending
    assert Job.objects.count() == 0 and Product.objects.count() == 1


@pytest.mark.django_db
def test_the_link_confirms_once_logs_in_and_grants_the_credits_once(signed_up):
    client, membership, link = signed_up
    assert "Confirm my email" in client.get(link).content.decode()  # a GET (a mail scanner) uses nothing up
    assert credits_for(membership.organization).available == 0

    confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("dashboard:product_create")
    assert client.session["_auth_user_id"] == str(membership.user.pk)
    assert client.get(reverse("dashboard:product_create")).status_code == 200
    assert credits_for(membership.organization).available == 30

    client.logout()
    again = client.post(link)
    assert again.status_code == 410 and 'data-code="verification_used"' in again.content.decode()
    assert credits_for(membership.organization).available == 30
    assert LedgerEntry.objects.filter(organization=membership.organization).count() == 1


@pytest.mark.django_db
def test_an_expired_link_is_refused(signed_up, settings):
    client, membership, link = signed_up
    EmailVerification.objects.filter(user=membership.user).update(
        sent_at=timezone.now() - timedelta(days=settings.SHOPVIDEO_EMAIL_VERIFICATION_DAYS, seconds=1)
    )
    response = client.post(link)
    assert response.status_code == 410 and 'data-code="verification_expired"' in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert credits_for(membership.organization).available == 0
    assert EmailVerification.objects.get(user=membership.user).verified_at is None


@pytest.mark.django_db
def test_resend_sends_a_new_link_and_the_old_one_stops_working(signed_up):
    client, membership, old_link = signed_up
    EmailVerification.objects.filter(user=membership.user).update(sent_at=timezone.now() - timedelta(minutes=2))
    assert client.login(username="mei@example.com", password=NEW_PASSWORD)
    client.post(reverse("dashboard:verification_resend"))
    new_link = _link_path(mail.outbox[-1].body)
    assert new_link != old_link
    assert client.post(old_link).status_code == 404
    assert client.post(new_link).status_code == 302


@pytest.mark.django_db
def test_an_invalid_link_is_a_404(client):
    response = client.get(reverse("dashboard:verify_email", args=["not-a-token"]))
    assert response.status_code == 404 and 'data-code="verification_invalid"' in response.content.decode()


# --- the same answer for a taken email ---------------------------------------------------------------------------


def _sign_up_and_follow(client, email: str) -> tuple[int, str, int, str]:
    first = client.post(reverse("dashboard:signup"), _form(email, shop="Another shop"))
    landing = client.get(first["Location"])
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", landing.content.decode())  # per request
    return first.status_code, first["Location"], landing.status_code, page.replace(email, "<the email>")


@pytest.mark.django_db
def test_a_taken_email_gets_the_same_answer_and_its_owner_an_email(client, settings):
    owner = UserFactory(email="ana@example.com", username="ana@example.com")
    orgs_before = Organization.objects.count()

    taken = _sign_up_and_follow(client, "ana@example.com")
    new = _sign_up_and_follow(Client(), "new.person@example.com")
    assert taken == new  # status, redirect and the page after it
    assert taken[:3] == (302, reverse("dashboard:signup_sent"), 200)

    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)  # nothing about the account changed
    assert Organization.objects.count() == orgs_before + 1  # only the new person's shop
    notice, verification = mail.outbox
    assert notice.to == ["ana@example.com"] and "Someone tried to sign up" in notice.subject
    assert "/account/password-reset/" in notice.body and "/accounts/login/" in notice.body
    assert verification.to == ["new.person@example.com"]


@pytest.mark.django_db
def test_the_sign_up_form_never_says_an_email_has_an_account(client):
    UserFactory(email="ana@example.com", username="ana@example.com")
    page = client.post(reverse("dashboard:signup"), {**_form("ana@example.com"), "password2": "different"})
    assert page.status_code == 400
    assert "exists already" not in page.content.decode() and "The two passwords differ" in page.content.decode()


# --- sign-ups per client address, through real requests ----------------------------------------------------------


def _post_signup(session: requests.Session, base: str, email: str) -> requests.Response:
    form_page = session.get(f"{base}/signup/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page.text).group(1)
    return session.post(
        f"{base}/signup/",
        data={"csrfmiddlewaretoken": token, **_form(email)},
        headers={"Referer": f"{base}/signup/"},
        allow_redirects=False,
        timeout=10,
    )


@pytest.mark.django_db(transaction=True)
def test_sign_ups_from_one_address_stop_at_the_limit(live_server, settings):
    settings.SHOPVIDEO_SIGNUPS_PER_ADDRESS = 3
    answers = [_post_signup(requests.Session(), live_server.url, f"shop{n}@example.com") for n in range(4)]
    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert "Too many sign-ups from your network" in answers[-1].text
    assert answers[-1].headers["Retry-After"] == "3600"
    assert not Membership.objects.filter(user__email="shop3@example.com").exists()
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_a_chinese_sign_up_gets_chinese_pages_and_email(client):
    client.cookies["django_language"] = "zh-hans"
    response = client.post(reverse("dashboard:signup"), _form("li@example.com"))
    sent = client.get(response["Location"]).content.decode()
    assert "我们已向 li@example.com 发送了一封邮件" in sent
    (message,) = mail.outbox
    assert message.subject == "确认您的 ShopVideo 邮箱" and "此链接在 7 天内有效" in message.body
    assert "确认我的邮箱" in client.get(_link_path(message.body)).content.decode()
    assert client.login(username="li@example.com", password=NEW_PASSWORD)
    assert "重新发送链接" in client.get(reverse("dashboard:verification_pending")).content.decode()
