"""Dashboard forms: they check the shape of the input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from generation import selectors
from generation.constants import (
    ASPECT_RATIOS,
    DURATION_CHOICES,
    ENGINE_CHOICES,
    ENGINES_WITH_MODELS,
    RESOLUTIONS,
)
from generation.models import Product, Video
from generation.presets import PLATFORM_ASPECTS
from shop_video.merchants.models import Membership
from shop_video.webhooks.models import EventType

# What the file picker offers; the ingest stage is the real check (it reads the bytes, not the name).
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"
MASK_ACCEPT = "image/png,image/jpeg,image/webp,.png,.jpg,.jpeg,.webp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files from one <input type=file multiple>."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": PHOTO_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        single = super().clean
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if not files:
            return [single(None, initial)] if self.required else []
        return [single(item, initial) for item in files]


class ProductForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    sku = forms.CharField(label=_("SKU"), max_length=100, required=False, help_text=_("Unique in your shop."))
    category = forms.ChoiceField(label=_("Category"), choices=Product.Category.choices, initial=Product.Category.OTHER)
    photos = MultipleFileField(
        label=_("Photos"),
        help_text=_("JPEG, PNG (a transparent background is used as the cutout) or WebP; at least 256 px a side."),
        error_messages={"required": _("Choose at least one photo.")},
    )


class ProductEditForm(forms.Form):
    """A saved product's own fields; the product service checks the price against its currency."""

    title = forms.CharField(label=_("Title"), max_length=200)
    sku = forms.CharField(label=_("SKU"), max_length=100, required=False, help_text=_("Unique in your shop."))
    category = forms.ChoiceField(label=_("Category"), choices=Product.Category.choices)
    price = forms.CharField(
        label=_("Price"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("For the price tag in captions, e.g. 19.99; leave empty for none."),
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"list": "currency-codes", "autocomplete": "off", "size": 4}),
        help_text=_("ISO 4217 code, e.g. EUR, USD, JPY."),
    )

    @classmethod
    def for_product(cls, product: Product, data=None) -> ProductEditForm:
        initial = {
            "title": product.title,
            "sku": product.sku,
            "category": product.category,
            "price": "" if product.price is None else str(product.price),
            "currency": product.currency,
        }
        # A prefix: the page's other forms have a title field too, and ids must stay unique for the price link.
        return cls(data, initial=initial, prefix="product")


class PhotoAddForm(forms.Form):
    photos = MultipleFileField(label=_("Add photos"), error_messages={"required": _("Choose at least one photo.")})


class MaskForm(forms.Form):
    mask = forms.FileField(
        label=_("Replacement mask"),
        help_text=_("White where the product is, black elsewhere, the same size as the photo."),
        widget=forms.ClearableFileInput(attrs={"accept": MASK_ACCEPT}),
        error_messages={"required": _("Choose a mask image.")},
    )


# Display names of the built-in markets and scenes in the merchant's language (the preset rows hold English;
# merchant-made rows fall back to their own name).
MARKET_NAMES = {
    "us": _("United States"),
    "gb": _("United Kingdom"),
    "de": _("Germany"),
    "fr": _("France"),
    "es": _("Spain"),
    "it": _("Italy"),
    "nl": _("Netherlands"),
    "pl": _("Poland"),
    "jp": _("Japan"),
    "kr": _("South Korea"),
    "br": _("Brazil"),
    "mx": _("Mexico"),
    "sa": _("Saudi Arabia"),
    "ae": _("United Arab Emirates"),
    "id": _("Indonesia"),
    "th": _("Thailand"),
    "vn": _("Vietnam"),
}
LOOK_NAMES = {
    "casual-20s": _("Casual, twenties"),
    "professional-30s": _("Professional, thirties"),
    "active": _("Active"),
    "mature-elegant": _("Mature, elegant"),
    "modest-casual": _("Modest, casual"),
    "modest-formal": _("Modest, formal"),
}
PLATFORM_NAMES = {
    "tiktok": "TikTok",
    "reels": "Instagram Reels",
    "shorts": "YouTube Shorts",
    "amazon": "Amazon",
    "shopify": "Shopify",
    "youtube": "YouTube",
    "feed": _("Social feed"),
}
SCENE_NAMES = {
    "studio-sweep": _("Studio sweep"),
    "soft-gradient": _("Soft gradient"),
    "marble-counter": _("Marble counter"),
    "oak-table": _("Oak table"),
    "garden-bokeh": _("Garden bokeh"),
    "city-evening": _("City evening"),
    "living-room": _("Living room"),
    "kitchen": _("Kitchen"),
}


def market_name(market) -> str:
    return str(MARKET_NAMES.get(market.slug, market.name))


def scene_name(scene) -> str:
    return str(SCENE_NAMES.get(scene.slug, scene.name))


def look_name(look) -> str:
    if getattr(look, "organization_id", None):  # a merchant's own look: its own name
        return look.name
    return str(LOOK_NAMES.get(look.slug, look.name))


def platform_presets() -> list[tuple[str, str, str]]:
    """(slug, name, "9:16 1:1") per platform: shortcuts that tick the platform's aspect ratios."""
    return [
        (slug, str(PLATFORM_NAMES.get(slug, slug)), " ".join(aspects)) for slug, aspects in PLATFORM_ASPECTS.items()
    ]


def duration_choices() -> tuple[int, ...]:
    """Durations offered; a deployment (or a test that needs fast renders) may offer others."""
    return tuple(getattr(settings, "SHOPVIDEO_DASHBOARD_DURATIONS", DURATION_CHOICES))


def engine_choices() -> list[tuple[str, str]]:
    """The DiT engine is offered only where a model folder is configured."""
    if settings.SHOPVIDEO_MODEL_PATH:
        return list(ENGINE_CHOICES)
    return [(value, label) for value, label in ENGINE_CHOICES if value != "dit"]


class GenerateForm(forms.Form):
    """The variant matrix: photos × markets × scenes × aspect ratios × durations."""

    photos = forms.TypedMultipleChoiceField(
        label=_("Photos"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one photo.")},
    )
    markets = forms.MultipleChoiceField(
        label=_("Markets"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one market.")},
    )
    scenes = forms.MultipleChoiceField(
        label=_("Scenes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Optional: each market's default scene otherwise."),
    )
    looks = forms.MultipleChoiceField(
        label=_("Model looks"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Optional: a person presents the product (DiT video model only: the compositor draws no person). "
            "None chosen: the product alone."
        ),
    )
    aspect_ratios = forms.MultipleChoiceField(
        label=_("Aspect ratios"),
        required=False,
        choices=[(a, a) for a in ASPECT_RATIOS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Optional: each market's platform formats otherwise."),
    )
    seconds = forms.TypedMultipleChoiceField(
        label=_("Durations"),
        coerce=int,
        choices=[(str(s), str(s)) for s in DURATION_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one duration.")},
    )
    resolution = forms.ChoiceField(
        label=_("Resolution"), choices=[(r, r) for r in RESOLUTIONS], initial="480p", widget=forms.RadioSelect
    )
    engine = forms.ChoiceField(label=_("Engine"), initial="compositor", widget=forms.RadioSelect)
    # Captions and the target platform: the services check them (platform rules, a price for the tag).
    platform = forms.ChoiceField(
        label=_("Made for platform"),
        required=False,
        help_text=_(
            "Its aspect ratios when none are ticked; its length, size and bitrate rules are checked and a video "
            "that breaks one is not delivered."
        ),
    )
    captions = forms.BooleanField(
        label=_("Add captions"),
        required=False,
        help_text=_("The product's title for each market: your localized title, else the original one."),
    )
    caption_price = forms.BooleanField(
        label=_("Price tag"), required=False, help_text=_("The product's price, written the market's way.")
    )
    caption_cta = forms.BooleanField(
        label=_("Call to action"),
        required=False,
        help_text=_("Your localized call to action for the market, else the market's own."),
    )
    name = forms.CharField(label=_("Batch name"), max_length=200, required=False)

    def __init__(self, *args, photo_choices: list[tuple[int, str]], organization=None, **kwargs):
        """photo_choices: (id, label) of photos the caller already resolved through the org-scoped selectors."""
        super().__init__(*args, **kwargs)
        market_rows = list(selectors.markets())
        self.fields["markets"].choices = sorted(
            ((m.slug, f"{market_name(m)} · {m.slug.upper()}") for m in market_rows), key=lambda item: item[1]
        )
        scenes: dict[str, str] = {}
        for m in market_rows:
            for s in selectors.scenes_for_market(m.slug):
                scenes.setdefault(s.slug, scene_name(s))
        self.fields["scenes"].choices = sorted(scenes.items(), key=lambda item: item[1])
        looks: dict[str, str] = {}
        if organization is not None:
            for m in market_rows:
                for look in selectors.looks_for(organization, m.slug):
                    looks.setdefault(look.slug, look_name(look))
        self.fields["looks"].choices = sorted(looks.items(), key=lambda item: item[1])
        # Labels built per request, in the merchant's language.
        durations = duration_choices()
        self.fields["seconds"].choices = [(str(s), _("%(seconds)d s") % {"seconds": s}) for s in durations]
        self.fields["seconds"].initial = ["5" if 5 in durations else str(durations[0])]
        self.fields["engine"].choices = engine_choices()
        self._offer_looks_only_with_an_engine_that_draws_people()
        self.fields["platform"].choices = [
            ("", _("None chosen")),
            *((slug, name) for slug, name, _a in platform_presets()),
        ]
        self.fields["photos"].choices = [(str(pk), label) for pk, label in photo_choices]
        self.fields["photos"].initial = [str(pk) for pk, _label in photo_choices]
        self.ai_label_markets = self._ai_label_markets(market_rows)

    def _ai_label_markets(self, market_rows) -> list[dict]:
        """The markets that draw the visible AI label, with its text per engine offered here (the label is in
        the market's language, so its text is shown as the video shows it)."""
        names = {m.slug: market_name(m) for m in market_rows}
        engines = dict(self.fields["engine"].choices)
        return [
            {
                "slug": slug,
                "name": names.get(slug, slug.upper()),
                "language": language,
                "texts": [(engines[engine], text) for engine, text in texts.items() if engine in engines],
            }
            for slug, language, texts in selectors.labelled_markets()
        ]

    def _offer_looks_only_with_an_engine_that_draws_people(self) -> None:
        """The compositor draws no person: without an engine that does, the looks are shown unavailable; with one,
        the browser disables them while the compositor is chosen. A look posted anyway is refused by the services
        (look_needs_dit), never dropped."""
        field = self.fields["looks"]
        people_engines = [value for value, _label in self.fields["engine"].choices if value in ENGINES_WITH_MODELS]
        if not people_engines:
            field.widget.attrs["disabled"] = True
            field.help_text = _(
                "Unavailable here: a person is drawn only by the DiT video model, which this service does not run. "
                "The compositor makes videos of the product alone."
            )
        else:
            field.widget.attrs["data-needs-engine"] = " ".join(people_engines)

    @property
    def caption_fields(self) -> list[forms.BoundField]:
        return [self["captions"], self["caption_price"], self["caption_cta"]]


# --- accounts and team ----------------------------------------------------------------------------------------


class SignUpForm(forms.Form):
    organization_name = forms.CharField(label=_("Shop name"), max_length=200)
    email = forms.EmailField(label=_("Email"))
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_email(self) -> str:
        # Whether the email has an account is not said here: sign-up answers the same (merchants.signup).
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict:
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(
                    p1, get_user_model()(username=data.get("email", ""), email=data.get("email", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the video is rejected, so the next one can be better.")},
    )


class NotificationForm(forms.Form):
    batch_finished = forms.BooleanField(label=_("A batch is finished"), required=False)
    needs_review = forms.BooleanField(label=_("A video needs review"), required=False)
    credits_low = forms.BooleanField(label=_("Credits are running low"), required=False)
    language = forms.ChoiceField(label=_("Language of the emails"), choices=settings.LANGUAGES)


class GalleryFilterForm(forms.Form):
    """Filters of the gallery; choices limited to what the organization has, so ids of others match nothing."""

    product = forms.TypedChoiceField(label=_("Product"), required=False, coerce=int, empty_value=None)
    market = forms.ChoiceField(label=_("Market"), required=False)
    scene = forms.ChoiceField(label=_("Scene"), required=False)
    review = forms.ChoiceField(label=_("State"), required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["product"].choices = everything + [
            (str(p.pk), p.title) for p in selectors.products_for(organization).only("pk", "title")
        ]
        self.fields["market"].choices = everything + sorted(
            ((m.slug, market_name(m)) for m in selectors.markets()), key=lambda item: item[1]
        )
        self.fields["scene"].choices = everything + sorted(
            ((s.slug, scene_name(s)) for s in selectors.all_scenes()), key=lambda item: item[1]
        )
        self.fields["review"].choices = everything + list(Video.Review.choices)


class DeleteOrganizationForm(forms.Form):
    """Deleting a shop cannot be undone: the owner types its name, as GitHub asks for a repository's."""

    name = forms.CharField(label=_("Type the shop's name to confirm"), max_length=200, strip=True)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["name"].widget.attrs.update(autocomplete="off", spellcheck="false")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name != self.organization.name.strip():
            raise forms.ValidationError(_("That is not this shop's name: nothing was deleted."))
        return name


class EndpointForm(forms.Form):
    """A webhook endpoint: its URL, the events it receives, a note for the merchant."""

    url = forms.CharField(label=_("URL"), max_length=500, widget=forms.URLInput(attrs={"placeholder": "https://"}))
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        initial=list(EventType.values),
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
