"""factory_boy factories for the tenancy and generation models.

Photos are real files: a synthetic product PNG with alpha (tests.synthetic) and its binary mask, written to the
default storage, so a job made from a factory photo runs through the real pipeline.
"""

from __future__ import annotations

import hashlib
import io

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory
from PIL import Image

from generation.models import Batch, Job, MarketPreset, ModelLook, Photo, Product, Scene, Video
from shop_video.merchants.models import Membership, Organization
from tests import synthetic

PASSWORD = "correct-horse-battery-staple"


def ensure_presets() -> None:
    """Seed the built-in markets/scenes/looks when a test flushed them (transactional tests empty every table)."""
    if MarketPreset.objects.exists():
        return
    import importlib

    from django.apps import apps

    seed_module = importlib.import_module("generation.migrations.0002_seed_presets")
    seed_module.seed(apps, None)


def market(slug: str = "us") -> MarketPreset:
    ensure_presets()
    return MarketPreset.objects.get(slug=slug)


def scene(slug: str = "studio-sweep") -> Scene:
    ensure_presets()
    return Scene.objects.get(slug=slug)


def png(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


TEST_CREDITS = 1_000_000  # the default grant of a test organization


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True  # the grant writes its own rows

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")

    # Submissions reserve credits, so a test organization starts with a grant;
    # OrganizationFactory(credits=0) makes one without, OrganizationFactory(credits=N) one with exactly N.
    @factory.post_generation
    def credits(obj, create, extracted, **kwargs):
        amount = TEST_CREDITS if extracted is None else extracted
        if create and amount:
            from billing.services import grant_credits

            grant_credits(organization=obj, credits=amount, reason="test credits")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"merchant{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.OWNER


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Glass bottle {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    category = Product.Category.HOME


class PhotoFactory(DjangoModelFactory):
    """A stored synthetic product photo (PNG with alpha) with its mask; `width`/`height` pick its size."""

    class Meta:
        model = Photo

    product = factory.SubFactory(ProductFactory)
    organization = factory.SelfAttribute("product.organization")
    original_name = "bottle.png"
    width = 320
    height = 400
    image_seed = factory.Sequence(lambda n: n)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        seed = kwargs.pop("image_seed")
        if kwargs.get("file"):
            return super()._create(model_class, *args, **kwargs)
        image, mask = synthetic.product_png_alpha(kwargs["width"], kwargs["height"], seed=seed)
        data = png(image)
        mask_data = png(Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L"))
        kwargs.setdefault("checksum", hashlib.sha256(data).hexdigest())
        kwargs.setdefault("mask_source", Photo.MaskSource.ALPHA)
        photo = model_class(*args, **kwargs)
        photo.file.save(photo.original_name or "photo.png", ContentFile(data), save=False)
        photo.mask.save("mask.png", ContentFile(mask_data), save=False)
        photo.save()
        return photo


class BatchFactory(DjangoModelFactory):
    class Meta:
        model = Batch

    organization = factory.SubFactory(OrganizationFactory)
    source = Batch.Source.DASHBOARD
    name = factory.Sequence(lambda n: f"Batch {n}")


class JobFactory(DjangoModelFactory):
    """A queued job row (not sent to any broker): photo × one variant, priced like submit_batch prices it."""

    class Meta:
        model = Job

    photo = factory.SubFactory(PhotoFactory)
    organization = factory.SelfAttribute("photo.organization")
    batch = factory.SubFactory(BatchFactory, organization=factory.SelfAttribute("..organization"))
    market = factory.LazyFunction(lambda: market("us"))
    scene = factory.LazyFunction(lambda: scene("studio-sweep"))
    look = None
    aspect_ratio = "1:1"
    resolution = "480p"
    seconds = 1
    fps = 16
    engine = "compositor"
    seed = 7  # fixed, so a test's video is reproducible
    credits = factory.LazyAttribute(lambda o: o.seconds)
    state = Job.State.QUEUED
    max_attempts = 3
    queued_at = factory.LazyFunction(timezone.now)


class ModelLookFactory(DjangoModelFactory):
    class Meta:
        model = ModelLook

    market = factory.LazyFunction(lambda: market("us"))
    organization = factory.SubFactory(OrganizationFactory)
    slug = factory.Sequence(lambda n: f"own-look-{n}")
    name = factory.Sequence(lambda n: f"Own look {n}")
    descriptors = "adult, plain knit sweater, calm expression"


__all__ = [
    "PASSWORD",
    "BatchFactory",
    "JobFactory",
    "MembershipFactory",
    "ModelLookFactory",
    "OrganizationFactory",
    "PhotoFactory",
    "ProductFactory",
    "UserFactory",
    "Video",
    "ensure_presets",
    "market",
    "png",
    "scene",
]
