"""A new merchant's whole way, in a real browser with a real worker: sign up, drop two photos, touch up a mask,
choose 2 markets × 2 aspect ratios, see the cost, submit, watch progress reach done, play a video, approve it,
download the zip of approved videos and decode what is inside."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from django.core import mail
from PIL import Image

from generation.downloads import download_name
from generation.models import Job, Photo, Product, Video
from shop_video.merchants.models import Membership, NotificationSent
from tests import synthetic
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EMAIL = "mei@example.com"
PASSWORD = "a-long-and-unusual-passphrase-42"

DROP_FILES = """([files]) => {
  const dt = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
    dt.items.add(new File([bytes], f.name, {type: 'image/png'}));
  }
  return dt;
}"""

PLAY = """async () => {
  const v = document.getElementById('player');
  v.muted = true;
  if (v.readyState < 1) await new Promise((ok, bad) => {
    v.addEventListener('loadedmetadata', ok, {once: true});
    v.addEventListener('error', () => bad(new Error('video error ' + (v.error && v.error.code))), {once: true});
    v.load();
  });
  await v.play();
  const t0 = performance.now();
  while (v.currentTime <= 0.1 && performance.now() - t0 < 8000) await new Promise(ok => setTimeout(ok, 50));
  // Seeking needs HTTP Range from the file view: jump back near the start and read the position.
  v.pause();
  v.currentTime = 0.05;
  await new Promise(ok => v.addEventListener('seeked', ok, {once: true}));
  return {duration: v.duration, currentTime: v.currentTime, played: v.played.length ? v.played.end(0) : 0,
          seekable: v.seekable.length ? v.seekable.end(0) : 0, width: v.videoWidth, height: v.videoHeight};
}"""


def png_b64(seed: int) -> str:
    buf = io.BytesIO()
    synthetic.product_png_alpha(480, 600, seed=seed)[0].save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def studio_png_b64() -> str:
    """An opaque studio shot (the cutout segments it): the brush can add backdrop pixels to the product there,
    which it cannot on a transparent PNG (transparent pixels have no colour to keep)."""
    buf = io.BytesIO()
    synthetic.studio_photo("bottle", width=480, height=600)[0].save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def shot(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.jpg"), type="jpeg", quality=70, full_page=True)


def mask_array(photo: Photo) -> np.ndarray:
    with photo.mask.open("rb") as fh:
        return np.array(Image.open(fh).convert("L"))


def drag(page, box: dict | None, points: list[tuple[float, float]]) -> None:
    """A brush stroke through points given as fractions of the canvas box."""
    xs = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xs[0])
    page.mouse.down()
    for x, y in xs[1:]:
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


def test_new_merchant_from_sign_up_to_a_downloaded_zip(
    page, live_server, start_worker, settings, screens_dir, tmp_path
):
    # Short videos keep the test quick; the merchant picks the duration in the form like any other.
    settings.SHOPVIDEO_DASHBOARD_DURATIONS = (1, 5)
    worker = start_worker(wait=False)  # starts while the merchant signs up
    shots = screens_dir / "en"
    shots.mkdir(exist_ok=True)
    base = live_server.url

    # --- sign up -----------------------------------------------------------------------------------------------
    page.goto(f"{base}/accounts/login/")
    shot(page, shots, "01-login")
    page.get_by_role("link", name="Create your shop").click()
    page.get_by_label("Shop name").fill("Mei's Bags")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    shot(page, shots, "02-signup")
    page.get_by_role("button", name="Create shop").click()
    page.wait_for_url(f"{base}/signup/sent/")
    assert page.get_by_text(f"We sent a message to {EMAIL}.").is_visible()
    # The emailed link confirms the address (one click on its page), logs in and opens the first product form.
    (verification,) = [m for m in mail.outbox if m.to == [EMAIL]]
    (verify_path,) = re.findall(r"https?://\S+?(/verify-email/\S+/)", verification.body)
    page.goto(f"{base}{verify_path}")
    page.get_by_role("button", name="Confirm my email").click()
    page.wait_for_url(f"{base}/products/new/")
    membership = Membership.objects.select_related("organization", "user").get(user__email=EMAIL)
    assert membership.role == Membership.Role.OWNER
    assert membership.organization.name == "Mei's Bags"
    org = membership.organization

    # --- two photos by drag-and-drop ----------------------------------------------------------------------------
    page.get_by_label("Title").fill("Canvas tote")
    page.get_by_label("SKU").fill("TOTE-1")
    files = [{"name": "tote-front.png", "b64": studio_png_b64()}, {"name": "tote-side.png", "b64": png_b64(2)}]
    dt = page.evaluate_handle(DROP_FILES, [files])
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event("#dropzone", event, {"dataTransfer": dt})
    previews = page.locator("#previews li")
    assert previews.count() == 2
    assert previews.nth(0).locator("span").inner_text() == "tote-front.png"
    assert page.locator("#previews img").nth(1).evaluate("img => img.complete && img.naturalWidth") == 480
    shot(page, shots, "03-upload")
    page.get_by_role("button", name="Create product").click()
    page.wait_for_url(re.compile(r"/products/\d+/$"))
    product = Product.objects.get(organization=org)
    photos = list(product.photos.order_by("id"))
    assert [p.original_name for p in photos] == ["tote-front.png", "tote-side.png"]
    assert page.get_by_text("Product “Canvas tote” created.").is_visible()

    # --- mask touch-up with the brush ---------------------------------------------------------------------------
    photo = photos[0]
    before = mask_array(photo)
    assert before[:30, :30].max() == 0 and before[300, 240] == 255  # corner is background, centre is product
    editor = page.locator(f"#photo-{photo.pk}")
    editor.get_by_text("Touch up the mask with a brush").click()  # the brush, not the box tool
    form = editor.locator("form[data-mask-editor]")
    # Locator waits, not wait_for_function: the page's CSP forbids eval, which wait_for_function needs.
    editor.locator("form[data-mask-editor][data-ready=true]").wait_for()
    canvas = form.locator("canvas")
    form.get_by_label("Add").check()
    canvas.evaluate("c => c.scrollIntoView({block: 'center'})")  # the mouse only reaches what is on screen
    drag(page, canvas.bounding_box(), [(0.02, 0.02), (0.12, 0.02), (0.12, 0.08)])  # add the top-left corner
    form.get_by_label("Remove").check()
    # A cut in from the left edge (a hole in the middle would be filled again by the cutout's clean-up).
    drag(page, canvas.bounding_box(), [(0.01, 0.50), (0.50, 0.50)])  # boxes re-read: checking may scroll
    shot(page, shots, "04-mask-editor")
    form.get_by_role("button", name="Save mask").click()
    page.get_by_text("Mask for tote-front.png replaced.").wait_for()
    photo.refresh_from_db()
    after = mask_array(photo)
    assert photo.mask_source == Photo.MaskSource.SUPPLIED
    assert after.shape == before.shape
    assert after[10:20, 10:40].min() == 255, "the added corner is product now"
    assert before[300, 216] == 255 and after[300, 216] == 0, "the removed stripe is background now"
    assert set(np.unique(after)) <= {0, 255}

    # --- the variant wizard: 2 markets × 2 aspect ratios, the cost, submit -------------------------------------
    wizard = page.locator("#generate-form")
    wizard.locator("input[name=markets][value=us]").check()
    wizard.locator("input[name=markets][value=de]").check()
    wizard.get_by_role("button", name="TikTok").click()  # the preset ticks 9:16
    wizard.locator("input[name=aspect_ratios][value='1:1']").check()
    wizard.locator("input[name=seconds][value='5']").uncheck()
    wizard.locator("input[name=seconds][value='1']").check()
    assert wizard.locator("input[name=aspect_ratios][value='9:16']").is_checked()
    estimate = page.locator("#estimate .estimate[data-videos]")
    page.locator("#estimate .estimate[data-videos='8']").wait_for()
    # 2 photos × 2 markets × 2 formats, 1 s at 1 credit/s; the breakdown and the balance follow the total
    assert estimate.inner_text().splitlines()[0] == "8 videos · 8 credits"
    shot(page, shots, "05-wizard")
    worker.wait_ready()
    page.get_by_role("button", name="Submit batch").click()
    page.wait_for_url(re.compile(r"/batches/\d+/$"))
    assert page.get_by_text("Batch submitted: 8 videos queued.").is_visible()
    shot(page, shots, "06-batch-progress")

    # --- live progress reaches done, without reloading the page -------------------------------------------------
    page.locator("#batch-jobs[data-active='0']").wait_for(timeout=150_000)
    jobs = Job.objects.filter(organization=org)
    assert jobs.count() == 8
    assert set(jobs.values_list("state", flat=True)) == {Job.State.SUCCEEDED}, worker.log()[-3000:]
    assert page.locator(".jobs-table .badge.succeeded").count() == 8
    assert page.locator(".progress.done[aria-label]").get_attribute("aria-valuenow") == "100"
    shot(page, shots, "07-batch-done")
    # The worker's notification task mailed the merchant once that the batch is finished (console backend here).
    wait_for(lambda: NotificationSent.objects.filter(organization=org).exists(), 30, 0.2, "the batch email")
    assert list(NotificationSent.objects.filter(organization=org).values_list("kind", "user__email")) == [
        (NotificationSent.Kind.BATCH_FINISHED, EMAIL)
    ]

    # --- play a video -------------------------------------------------------------------------------------------
    page.locator(".jobs-table").get_by_role("link", name="Watch").first.click()
    page.wait_for_url(re.compile(r"/videos/\d+/$"))
    video = Video.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    played = page.evaluate(PLAY)
    assert played["duration"] == pytest.approx(video.duration_seconds, abs=0.1) and played["duration"] > 0
    assert played["played"] > 0.1, played
    assert played["seekable"] > 0.5, "seekable range needs HTTP Range"
    assert (played["width"], played["height"]) == (video.width, video.height)
    shot(page, shots, "08-video")

    # --- approve it ---------------------------------------------------------------------------------------------
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Video approved.").wait_for()
    assert page.locator("#review-state").inner_text() == "Approved"
    video.refresh_from_db()
    assert video.review == Video.Review.APPROVED

    # --- the gallery and the zip of approved videos --------------------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Videos").click()
    assert page.locator(".video-card").count() == 8
    page.get_by_label("State").select_option("approved")
    page.get_by_role("button", name="Filter").click()
    assert page.locator(".video-card").count() == 1
    shot(page, shots, "09-gallery")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download 1 approved video (zip)").click()
    path = tmp_path / "approved.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [download_name(video)]  # the name it downloads under on its own
        data = archive.read(names[0])
    with video.file.open("rb") as fh:
        assert data == fh.read()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert stream.codec_context.name == "h264"
    assert len(frames) == video.frames
    assert frames[0].shape == (video.height, video.width, 3)
    assert frames[0].std() > 5  # a real picture, not a blank frame
    assert page.js_errors == []
