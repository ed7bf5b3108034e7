"""Dashboard forms: they check the shape of the input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from generation import selectors
from generation.constants import ASPECT_RATIOS, DURATION_CHOICES, ENGINE_CHOICES, RESOLUTIONS
from generation.models import Product

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
        initial=["5"],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one duration.")},
    )
    resolution = forms.ChoiceField(
        label=_("Resolution"), choices=[(r, r) for r in RESOLUTIONS], initial="480p", widget=forms.RadioSelect
    )
    engine = forms.ChoiceField(label=_("Engine"), initial="compositor", widget=forms.RadioSelect)
    name = forms.CharField(label=_("Batch name"), max_length=200, required=False)

    def __init__(self, *args, photo_choices: list[tuple[int, str]], **kwargs):
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
        # Labels built per request, in the merchant's language.
        self.fields["seconds"].choices = [(str(s), _("%(seconds)d s") % {"seconds": s}) for s in DURATION_CHOICES]
        self.fields["engine"].choices = engine_choices()
        self.fields["photos"].choices = [(str(pk), label) for pk, label in photo_choices]
        self.fields["photos"].initial = [str(pk) for pk, _label in photo_choices]
