"""python manage.py seed_demo: the demo merchant "Demo Shop", its login and sample products. Safe to run again."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from generation.demo_photos import demo_photos
from generation.models import Photo, Product
from generation.services.products import create_product_with_photos
from shop_video.merchants.models import Membership, Organization
from shop_video.merchants.services import create_merchant_user

DEMO_EMAIL = "demo@shopvideo.local"
DEMO_PASSWORD = "demo-shop-2026"  # noqa: S105 (a published demo login on a local-only database)
DEMO_ORG_NAME = "Demo Shop"
DEMO_ORG_SLUG = "demo-shop"


@dataclass
class DemoSeed:
    organization: Organization
    user: object
    products: list[Product]
    created: list[str]  # what this run added, for the printout

    def photos(self) -> list[Photo]:
        """One photo per product, in the catalogue's order (alpha, white, gradient, …)."""
        return [p.photos.order_by("id").first() for p in self.products]


def seed_demo(*, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> DemoSeed:
    created: list[str] = []
    User = get_user_model()
    with transaction.atomic():
        org = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
        user = User.objects.filter(username=email).first()
        if org is None and user is None:
            user, org = create_merchant_user(
                email=email, password=password, organization_name=DEMO_ORG_NAME, org_slug=DEMO_ORG_SLUG
            )
            created.append(f"organization {org.name!r} and user {email}")
        else:
            if org is None:
                org = Organization.objects.create(name=DEMO_ORG_NAME, slug=DEMO_ORG_SLUG)
                created.append(f"organization {org.name!r}")
            if user is None:
                user = User.objects.create_user(username=email, email=email, password=password)
                created.append(f"user {email}")
            elif not user.check_password(password):
                # The printed login must work: a second run restores it if someone changed it.
                user.set_password(password)
                user.save(update_fields=["password"])
            Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Membership.Role.OWNER})

    products = []
    for sample in demo_photos():
        product = Product.objects.filter(organization=org, sku=sample.sku).first()
        if product is None or not product.photos.exists():
            if product is not None:  # a half-made product from an interrupted run: make it again
                product.delete()
            product = create_product_with_photos(
                organization=org,
                title=sample.title,
                sku=sample.sku,
                category=sample.category,
                uploads=[(sample.filename, sample.encode())],
            )
            created.append(f"product {sample.title!r}")
        products.append(product)
    # Billing: the demo runs in free-credits mode; top the demo shop up to the demo grant.
    from billing.services import grant_demo_credits

    if grant_demo_credits(org) is not None:
        created.append("demo credits")
    return DemoSeed(organization=org, user=user, products=products, created=created)


class Command(BaseCommand):
    help = "Create the demo merchant (organization, login, sample products with photos). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args, **opts):
        seed = seed_demo(email=opts["email"], password=opts["password"])
        for line in seed.created:
            self.stdout.write(f"created {line}")
        if not seed.created:
            self.stdout.write("demo data already present; nothing to add")
        self.stdout.write(
            f"organization: {seed.organization.name} ({seed.organization.slug}), "
            f"{len(seed.products)} products, {sum(p.photos.count() for p in seed.products)} photos"
        )
        self.stdout.write(f"login: {opts['email']} / {opts['password']}")
