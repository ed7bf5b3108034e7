import hashlib
import posixpath
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .constants import ASPECT_RATIO_CHOICES, ENGINE_CHOICES, RESOLUTION_CHOICES
from .presets import SCENE_STYLES


class Scene(models.Model):
    """A scene the product is shown in; `style` picks the compositor renderer, `prompt` guides the DiT."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    style = models.CharField(_("style"), max_length=20, choices=[(s, s) for s in SCENE_STYLES])
    prompt = models.CharField(_("prompt"), max_length=300, blank=True)
    palette = models.JSONField(_("palette"), default=list)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("scene")
        verbose_name_plural = _("scenes")

    def __str__(self) -> str:
        return self.name


class MarketPreset(models.Model):
    slug = models.SlugField(max_length=8, unique=True, help_text=_("Lower-case ISO 3166 code"))
    name = models.CharField(_("name"), max_length=120)
    locale = models.CharField(_("locale"), max_length=16)
    currency = models.CharField(_("currency"), max_length=3)
    caption_language = models.CharField(_("caption language"), max_length=8)
    direction = models.CharField(_("reading direction"), max_length=3, default="ltr")
    platforms = models.JSONField(_("platforms"), default=list)
    palettes = models.JSONField(_("palettes per scene style"), default=dict)
    scenes = models.ManyToManyField(Scene, related_name="markets", blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    cta = models.CharField(_("call to action"), max_length=120, blank=True)
    numbering_system = models.CharField(
        _("digits"), max_length=8, default="latn", help_text=_("CLDR numbering system for prices: latn, arab, …")
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("market preset")
        verbose_name_plural = _("market presets")

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class ModelLook(models.Model):
    """How the human model looks in a market. Built-in looks have no organization; merchants add their own."""

    market = models.ForeignKey(MarketPreset, on_delete=models.CASCADE, related_name="looks")
    organization = models.ForeignKey(
        "merchants.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="model_looks"
    )
    slug = models.SlugField(max_length=60)
    name = models.CharField(_("name"), max_length=120)
    descriptors = models.CharField(_("descriptors"), max_length=400)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        ordering = ["market", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "slug"], condition=Q(organization__isnull=True), name="look_unique_builtin"
            ),
            models.UniqueConstraint(fields=["market", "organization", "slug"], name="look_unique_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.market.slug}/{self.slug}"


class Product(models.Model):
    class Category(models.TextChoices):
        APPAREL = "apparel", _("Apparel")
        FOOTWEAR = "footwear", _("Footwear")
        ACCESSORIES = "accessories", _("Accessories")
        BEAUTY = "beauty", _("Beauty")
        ELECTRONICS = "electronics", _("Electronics")
        HOME = "home", _("Home")
        FOOD = "food", _("Food and drink")
        TOYS = "toys", _("Toys")
        SPORTS = "sports", _("Sports")
        OTHER = "other", _("Other")

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="products")
    title = models.CharField(_("title"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True, help_text=_("ISO 4217, e.g. EUR"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sku"], condition=~Q(sku=""), name="product_unique_sku"),
        ]

    def __str__(self) -> str:
        return self.title


class ProductLocalization(models.Model):
    """The merchant's own title (and call to action) for one caption language; captions never machine-translate."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="localizations")
    language = models.CharField(_("language"), max_length=12, help_text=_("BCP 47, e.g. de, ja, pt-BR"))
    title = models.CharField(_("title"), max_length=200)
    cta = models.CharField(_("call to action"), max_length=120, blank=True)

    class Meta:
        ordering = ["product", "language"]
        constraints = [
            models.UniqueConstraint(fields=["product", "language"], name="localization_unique_language"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.language}"


def unguessable_part() -> str:
    """A random segment for storage names of merchant files: knowing ids, checksums and the naming scheme (or even
    the secret key that signs download links) is not enough to name another organization's file."""
    return secrets.token_urlsafe(12)


def with_random_part(filename: str) -> str:
    """`video.mp4` → `video-<random>.mp4`. Names already stored keep working: the database holds each name."""
    stem, ext = posixpath.splitext(filename)
    return f"{stem}-{unguessable_part()}{ext}"


def photo_upload_to(photo: "Photo", filename: str) -> str:
    folder = f"orgs/{photo.organization_id}/photos/{photo.checksum[:2]}/{photo.checksum}"
    return f"{folder}/{with_random_part(filename)}"


def mask_upload_to(photo: "Photo", filename: str) -> str:
    folder = f"orgs/{photo.organization_id}/photos/{photo.checksum[:2]}/{photo.checksum}"
    return f"{folder}/{with_random_part('mask-' + filename)}"


class Photo(models.Model):
    class MaskSource(models.TextChoices):
        ALPHA = "alpha", _("Transparent background")
        SEGMENTED = "segmented", _("Background removed")
        SUPPLIED = "supplied", _("Supplied mask")
        GUIDED = "guided", _("Cut out from your box")
        LEARNED = "learned", _("Cut out by the model")

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="photos")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=photo_upload_to, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(help_text=_("After EXIF rotation"))
    height = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64, help_text=_("SHA-256 of the uploaded bytes"))
    mask = models.FileField(_("mask"), upload_to=mask_upload_to, max_length=300, blank=True)
    mask_source = models.CharField(max_length=12, choices=MaskSource.choices, blank=True)
    # How sure the cutout method was (0..1; null: no cutout yet). A doubtful cutout, or none where the automatic
    # one was refused, waits for the merchant to check it with the box tool: `cutout_needs_review`.
    cutout_confidence = models.FloatField(null=True, blank=True)
    cutout_needs_review = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name or f"photo {self.pk}"

    @property
    def cutout_method(self) -> str:
        """The method that made the mask (one of MaskSource); "" when there is none."""
        return self.mask_source

    @property
    def mask_version(self) -> str:
        """Changes with the stored mask file: appended to the mask's URL, a browser never shows a cached old one."""
        return hashlib.sha256(self.mask.name.encode()).hexdigest()[:12] if self.mask else ""

    @property
    def needs_cutout(self) -> bool:
        """The automatic cutout was refused and no mask was drawn yet: no video can be made from this photo."""
        return self.cutout_needs_review and not self.mask

    @property
    def cutout_doubtful(self) -> bool:
        """A mask exists but its method was not sure of it: videos are held for review until it is checked."""
        return self.cutout_needs_review and bool(self.mask)


class Batch(models.Model):
    class Source(models.TextChoices):
        DASHBOARD = "dashboard", _("Dashboard")
        API = "api", _("API")
        CSV = "csv", _("CSV import")
        DEMO = "demo", _("Demo")

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.DASHBOARD)
    name = models.CharField(_("name"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return self.name or f"batch {self.pk}"


class Job(models.Model):
    """One video to make: photo × variant. The database row is the truth; Celery carries only its id."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)
    FINAL_STATES = (State.SUCCEEDED, State.FAILED, State.CANCELED)

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="jobs")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="jobs")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="jobs")
    market = models.ForeignKey(MarketPreset, on_delete=models.PROTECT, related_name="jobs")
    scene = models.ForeignKey(Scene, on_delete=models.PROTECT, related_name="jobs")
    look = models.ForeignKey(ModelLook, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    aspect_ratio = models.CharField(max_length=5, choices=ASPECT_RATIO_CHOICES)
    resolution = models.CharField(max_length=5, choices=RESOLUTION_CHOICES, default="480p")
    seconds = models.PositiveSmallIntegerField()
    fps = models.PositiveSmallIntegerField(default=16)
    engine = models.CharField(max_length=12, choices=ENGINE_CHOICES, default="compositor")
    seed = models.BigIntegerField(default=0)
    credits = models.PositiveIntegerField(default=0, help_text=_("Price in credits, fixed at submission"))
    # Made for one platform (generation.pipeline.platforms): the video must pass its export check to be delivered.
    # Blank: no platform chosen; the video is still checked against its market's default, for information.
    platform = models.CharField(_("platform"), max_length=12, blank=True)
    # Caption overlay (generation.pipeline.captions): the localized title, and optionally the price tag and the
    # call to action, drawn into the video and the poster.
    captions = models.BooleanField(_("captions"), default=False)
    caption_price = models.BooleanField(_("price tag"), default=False)
    caption_cta = models.BooleanField(_("call to action"), default=False)

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    attempt = models.PositiveSmallIntegerField(default=0, help_text=_("Number of the current or last attempt"))
    max_attempts = models.PositiveSmallIntegerField(default=3)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    # When the job id was last sent to the broker; null while it waits for its organization's fair share.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat"),
            models.Index(fields=["state", "dispatched_at"], name="job_state_dispatched"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "succeeded", "failed", "canceled"]),
                name="job_state_valid",
            ),
            models.CheckConstraint(condition=Q(progress__gte=0.0) & Q(progress__lte=1.0), name="job_progress_range"),
            models.CheckConstraint(
                condition=Q(aspect_ratio__in=["9:16", "1:1", "16:9", "4:5"]), name="job_aspect_valid"
            ),
            models.CheckConstraint(condition=Q(engine__in=["compositor", "dit"]), name="job_engine_valid"),
            models.CheckConstraint(
                condition=Q(captions=True) | (Q(caption_price=False) & Q(caption_cta=False)),
                name="job_caption_parts_need_captions",
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


def video_upload_to(video: "Video", filename: str) -> str:
    # Keyed by job and attempt, so a late worker from an earlier attempt never overwrites the delivered files.
    # The random part is in the file name: the attempt folder stays what cleanup and retention look for.
    folder = f"orgs/{video.organization_id}/videos/job-{video.job_id}/attempt-{video.attempt}"
    return f"{folder}/{with_random_part(filename)}"


class Video(models.Model):
    class Review(models.TextChoices):
        READY = "ready", _("Ready")  # passed QA; delivered
        NEEDS_REVIEW = "needs_review", _("Needs review")  # below the QA thresholds after retries; not delivered
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="videos")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="video")
    attempt = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to=video_upload_to, max_length=300)
    poster = models.FileField(upload_to=video_upload_to, max_length=300)
    preview = models.FileField(upload_to=video_upload_to, max_length=300, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.PositiveSmallIntegerField()
    frames = models.PositiveIntegerField()
    duration_seconds = models.FloatField()
    size_bytes = models.PositiveBigIntegerField(default=0)
    psnr_min = models.FloatField(null=True)
    psnr_mean = models.FloatField(null=True)
    ssim_min = models.FloatField(null=True)
    edge_iou = models.FloatField(null=True)
    flicker = models.FloatField(null=True)
    qa_passed = models.BooleanField(default=False)
    review = models.CharField(max_length=14, choices=Review.choices, default=Review.READY)
    review_note = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text=_("Engine, placements summary, stage timings"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"video of job {self.job_id}"


def audio_upload_to(track: "AudioTrack", filename: str) -> str:
    return f"orgs/{track.organization_id}/audio/{with_random_part(filename)}"


class AudioTrack(models.Model):
    """A merchant's music for ads: checked at upload (generation.pipeline.audio.probe_track), stored as sent."""

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="audio_tracks")
    name = models.CharField(_("name"), max_length=200)
    file = models.FileField(_("file"), upload_to=audio_upload_to, max_length=300)
    seconds = models.FloatField(_("length in seconds"))
    sample_rate = models.PositiveIntegerField()
    codec = models.CharField(max_length=20)
    bytes = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("music track")
        verbose_name_plural = _("music tracks")

    def __str__(self) -> str:
        return self.name


# --- bulk catalogue import (generation.imports) ----------------------------------------------------------------


def import_upload_to(catalog_import: "CatalogImport", filename: str) -> str:
    folder = f"orgs/{catalog_import.organization_id}/imports/{catalog_import.checksum[:16]}"
    return f"{folder}/{with_random_part(filename)}"


class CatalogImport(models.Model):
    """One uploaded catalogue file (our CSV, a Shopify or a WooCommerce export, optionally a zip of images):
    validated row by row, images fetched by a worker, then confirmed by the merchant into one Batch."""

    class Format(models.TextChoices):
        SHOPVIDEO = "shopvideo", _("ShopVideo CSV")
        SHOPIFY = "shopify", _("Shopify product export")
        WOOCOMMERCE = "woocommerce", _("WooCommerce product export")

    class Status(models.TextChoices):
        FETCHING = "fetching", _("Checking images")
        READY = "ready", _("Ready to confirm")
        CONFIRMED = "confirmed", _("Confirmed")
        FAILED = "failed", _("Cannot be imported")

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    file = models.FileField(upload_to=import_upload_to, max_length=300)
    images_zip = models.FileField(upload_to=import_upload_to, max_length=300, blank=True)
    fix_zip = models.FileField(
        upload_to=import_upload_to,
        max_length=300,
        blank=True,
        help_text=_("Images uploaded to fix the rows whose images failed (the last re-check's zip)"),
    )
    original_name = models.CharField(max_length=255, blank=True)
    checksum = models.CharField(max_length=64, help_text=_("SHA-256 of the CSV and the zip together"))
    format = models.CharField(max_length=12, choices=Format.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FETCHING)
    options = models.JSONField(default=dict, blank=True, help_text=_("Defaults for rows that name none"))
    lines_total = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    file_issues = models.JSONField(default=list, blank=True)
    batch = models.ForeignKey(Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="imports")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "checksum"], name="catalog_import_unique_file"),
        ]

    def __str__(self) -> str:
        return self.original_name or f"import {self.pk}"


class CatalogImportRow(models.Model):
    """One product of an import (a Shopify handle or a WooCommerce parent spans several lines of the file)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        VALID = "valid", _("Valid")
        INVALID = "invalid", _("Invalid")

    catalog_import = models.ForeignKey(CatalogImport, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    line = models.PositiveIntegerField(help_text=_("First row of the file for this product (header = 1)"))
    group_key = models.CharField(max_length=300, blank=True)
    sku = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500, blank=True)
    category = models.CharField(max_length=20, blank=True)
    price = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text=_("Images, markets, formats, localized titles"))
    photos = models.JSONField(default=list, blank=True, help_text=_("Fetched and checked images, staged"))
    issues = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["catalog_import", "position"], name="catalog_import_row_unique_pos"),
        ]
        indexes = [models.Index(fields=["catalog_import", "status"], name="catalog_import_row_status")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.sku or self.title or self.group_key}"
