"""The wizard and make_video offer model looks only with an engine that draws a person (the DiT engine): the
compositor's wizard shows them unavailable and says why, a look posted anyway is refused (look_needs_dit) with
nothing reserved, and make_video --look with the compositor exits with the same code."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from billing import selectors as billing_selectors
from billing.services import grant_credits
from generation.constants import LOOK_NEEDS_DIT_MESSAGE
from generation.models import Batch
from tests import synthetic
from tests.factories import PhotoFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org, title="Linen shirt")
    PhotoFactory(product=product)
    return product


def _looks_inputs(page: str) -> list[str]:
    return re.findall(r'<input[^>]*name="looks"[^>]*>', page)


def test_without_the_dit_engine_the_looks_are_shown_unavailable_with_the_reason(client_a, product):
    page = client_a.get(reverse("dashboard:product_detail", args=[product.pk])).content.decode()
    inputs = _looks_inputs(page)
    assert inputs and all("disabled" in tag for tag in inputs)
    assert "a person is drawn only by the DiT video model" in page


def test_the_reason_is_shown_in_chinese(client_a, product):
    client_a.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client_a.get(reverse("dashboard:product_detail", args=[product.pk])).content.decode()
    assert "只有 DiT 视频模型才能绘制人物" in page


@override_settings(SHOPVIDEO_MODEL_PATH="/models/wan-vace")
def test_with_the_dit_engine_the_looks_are_offered_for_it_only(client_a, product):
    page = client_a.get(reverse("dashboard:product_detail", args=[product.pk])).content.decode()
    inputs = _looks_inputs(page)
    assert inputs and all('data-needs-engine="dit"' in tag and "disabled" not in tag for tag in inputs)


def test_a_look_posted_with_the_compositor_is_refused_and_nothing_is_reserved(client_a, org, product):
    grant_credits(organization=org, credits=500, reason="tests")
    before = billing_selectors.credits_for(org)
    post = {
        "photos": [str(product.photos.get().pk)],
        "markets": ["us"],
        "looks": ["active"],
        "aspect_ratios": ["1:1"],
        "seconds": ["5"],
        "resolution": "480p",
        "engine": "compositor",
        "name": "",
    }

    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), post)

    assert response.status_code == 400
    with translation.override("en"):
        assert str(LOOK_NEEDS_DIT_MESSAGE) in response.content.decode()
    assert not Batch.objects.exists()
    assert billing_selectors.credits_for(org) == before


def test_make_video_with_a_look_and_the_compositor_exits_with_look_needs_dit(tmp_path):
    photo = tmp_path / "white.jpg"
    synthetic.product_on_white()[0].save(photo, quality=92)
    out = tmp_path / "out.mp4"
    with pytest.raises(CommandError, match=r"^look_needs_dit: "):
        call_command("make_video", str(photo), "--out", str(out), "--look", "active", "--engine", "compositor")
    assert not out.exists()
