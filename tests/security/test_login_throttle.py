"""Login throttling through real HTTP requests against a live server: failed logins are counted per account and per
client address; past the limit the login page says for how long logging in is blocked, and the right password does
not log in during the lockout. API keys keep their own throttle."""

from __future__ import annotations

import re

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Browser:
    """A client with its own cookies, logging in through the login form like a browser."""

    def __init__(self, base: str, language: str = "en"):
        self.base = base
        self.session = requests.Session()
        self.session.cookies.set("django_language", language)

    def login(self, email: str, password: str) -> requests.Response:
        page = self.session.get(f"{self.base}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.session.post(
            f"{self.base}/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": email, "password": password, "next": ""},
            headers={"Referer": f"{self.base}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )

    def logged_in(self) -> bool:
        return self.session.get(f"{self.base}/", allow_redirects=False, timeout=10).status_code == 200


def test_wrong_passwords_lock_the_account_and_the_right_one_then_does_not_log_in(live_server):
    user = MembershipFactory().user
    browser = Browser(live_server.url)
    answers = [browser.login(user.email, "wrong-password").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert answers[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again, with its error
    assert answers[-1] == 429

    during = browser.login(user.email, PASSWORD)
    assert during.status_code == 429
    assert "Too many failed login attempts" in during.text and "15 minutes" in during.text
    assert re.search(r"until \d\d:\d\d UTC", during.text)
    assert during.headers["Retry-After"] == "900"
    assert not browser.logged_in()


def test_the_lock_is_per_account_whatever_the_client_address(live_server):
    """The same account from another address (a second browser here stands for it: the address lock is tested
    below) stays locked: locking is per account as well as per address."""
    user = MembershipFactory().user
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Browser(live_server.url).login(user.email.upper(), "wrong-password")
    with override_settings(AXES_LOCKOUT_PARAMETERS=["username"]):  # the address no longer counts
        fresh = Browser(live_server.url)
        assert fresh.login(user.email, PASSWORD).status_code == 429
        assert not fresh.logged_in()


def test_failures_from_one_address_lock_that_address_for_every_account(live_server):
    """Guessing one password each for many accounts from one address: the address is locked."""
    users = [MembershipFactory().user for _ in range(settings.AXES_FAILURE_LIMIT + 1)]
    for user in users[:-1]:
        Browser(live_server.url).login(user.email, "wrong-password")
    other = Browser(live_server.url)
    assert other.login(users[-1].email, PASSWORD).status_code == 429
    assert not other.logged_in()


def test_a_good_login_before_the_limit_logs_in_and_resets_the_count(live_server):
    user = MembershipFactory().user
    browser = Browser(live_server.url)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert browser.login(user.email, "wrong-password").status_code == 200
    assert browser.login(user.email, PASSWORD).status_code == 302
    assert browser.logged_in()
    again = Browser(live_server.url)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert again.login(user.email, "wrong-password").status_code == 200


def test_the_lockout_message_is_in_chinese_for_a_chinese_browser(live_server):
    user = MembershipFactory().user
    browser = Browser(live_server.url, language="zh-hans")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        browser.login(user.email, "wrong-password")
    page = browser.login(user.email, PASSWORD)
    assert page.status_code == 429
    assert "登录失败次数过多" in page.text and "15 分钟" in page.text


def test_production_counts_login_failures_and_sign_ups_in_redis(tmp_path):
    """Every web process of a deployment sees the same counts: the cache they are kept in is Redis."""
    import os
    import subprocess
    import sys

    from tests.ops.test_security import _TEST_ONLY_ENV, PROD_ENV, ROOT

    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_HANDLER, s.CACHES[s.AXES_CACHE]['BACKEND'], s.CACHES[s.SHOPVIDEO_THROTTLE_CACHE]['BACKEND'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_ENV}
    env.update(PROD_ENV, SHOPVIDEO_VAR_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    redis = "django.core.cache.backends.redis.RedisCache"
    assert out.stdout.split() == ["axes.handlers.cache.AxesCacheHandler", redis, redis]
