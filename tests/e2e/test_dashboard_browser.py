"""Dashboard behaviour that lives in the browser: ticking videos in the gallery and downloading the zip of just those,
the organization switcher in the header, and the translated file button that shows the chosen file's name."""

from __future__ import annotations

import io
import re
import zipfile

import av
import pytest
from django.urls import reverse
from PIL import Image

from shop_video.merchants.models import Membership
from tests.e2e.test_languages import log_in
from tests.factories import JobFactory, MembershipFactory, OrganizationFactory, PhotoFactory, ProductFactory, png
from tests.integration.test_files import make_video, mp4_bytes
from tests.synthetic import product_png_alpha

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def shop():
    owner = MembershipFactory(
        organization__name="Alpha Teas", user__username="ana@example.com", user__email="ana@example.com"
    )
    photo = PhotoFactory(product__organization=owner.organization, product__title="Jasmine tin")
    videos = [
        make_video(JobFactory(photo=photo, aspect_ratio=aspect), data=mp4_bytes(frames=frames))
        for aspect, frames in (("9:16", 12), ("1:1", 8), ("16:9", 4))
    ]
    return {"user": owner.user, "org": owner.organization, "photo": photo, "videos": videos}


def test_tick_two_videos_and_download_only_those(page, live_server, shop, tmp_path):
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:video_list')}")
    first, _second, third = shop["videos"]
    for video in (first, third):
        page.locator(f"#video-{video.pk}").get_by_label("Select").check()

    with page.expect_download() as info:
        page.get_by_role("button", name="Download selected (zip)").click()
    path = tmp_path / "selection.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        assert names == sorted([f"Jasmine-tin-us-9x16-1s-{first.pk}.mp4", f"Jasmine-tin-us-16x9-1s-{third.pk}.mp4"])
        for name in names:
            with av.open(io.BytesIO(archive.read(name))) as container:
                assert sum(1 for _ in container.decode(video=0)) in (12, 4)
    assert page.js_errors == []


def test_nothing_ticked_says_what_to_do(page, live_server, shop):
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:video_list')}")
    page.get_by_role("button", name="Download selected (zip)").click()
    page.get_by_text("Nothing to download: tick some videos, or approve some first.").wait_for()


def test_switch_shop_in_the_header(page, live_server, shop):
    other = OrganizationFactory(name="Beta Bags")
    Membership.objects.create(user=shop["user"], organization=other, role=Membership.Role.VIEWER)
    ProductFactory(organization=other, title="Canvas tote")
    base = live_server.url
    log_in(page, base, "ana@example.com")

    page.goto(f"{base}{reverse('dashboard:product_list')}")
    assert page.get_by_role("link", name="Jasmine tin").count() == 1
    page.get_by_label("Shop").select_option(label="Beta Bags")
    page.get_by_role("button", name="Switch").click()
    page.get_by_text("You are now working in Beta Bags.").wait_for()
    page.goto(f"{base}{reverse('dashboard:product_list')}")
    assert page.get_by_role("link", name="Canvas tote").count() == 1
    assert page.get_by_role("link", name="Jasmine tin").count() == 0
    # A viewer there: no New product button on the home page.
    page.goto(f"{base}/")
    assert page.get_by_role("link", name="New product").count() == 0
    assert page.js_errors == []


def test_mask_file_button_is_translated_and_shows_the_chosen_file(page, live_server, shop, tmp_path):
    _image, mask = product_png_alpha(320, 400, seed=3)
    mask_path = tmp_path / "my-mask.png"
    mask_path.write_bytes(png(Image.fromarray((mask * 255).astype("uint8"), "L")))
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:product_detail', args=[shop['photo'].product_id])}")

    picker = page.locator(f"#mask-{shop['photo'].pk}")
    assert page.get_by_text("Choose a file").is_visible()
    picker.set_input_files(str(mask_path))
    assert page.locator("[data-file-name]").inner_text() == "my-mask.png"
    page.get_by_role("button", name="Upload mask").click()
    page.get_by_text(re.compile(r"Mask for .+ replaced\.")).wait_for()
    assert page.js_errors == []
