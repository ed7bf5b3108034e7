"""Dashboard pages for the market side of a catalogue: a product's localized titles (the captions' text per
language) and the organization's model looks per market. Thin: generation.market_services write, the selectors
read, scoped to request.organization (another merchant's product or look → 404)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from generation import market_services, selectors
from generation.models import ModelLook, ProductLocalization
from generation.presets import BUILTIN_REVIEW_NOTE, MARKETS_BY_SLUG

from .forms import look_name, market_name
from .views import editor_view, merchant_view


def language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


class LocalizationForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Caption language"))
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=200,
        help_text=gettext_lazy("Your own wording: captions are never machine-translated."),
    )
    cta = forms.CharField(
        label=gettext_lazy("Call to action"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("Optional: the market's own call to action otherwise."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [
            (code, f"{language_name(code)} · {code}") for code in market_services.caption_languages()
        ]


class LookForm(forms.Form):
    market = forms.ChoiceField(label=gettext_lazy("Market"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    slug = forms.SlugField(
        label=gettext_lazy("Short name"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Used in the API and CSV; the slug of a built-in look replaces that look for you."),
    )
    descriptors = forms.CharField(
        label=gettext_lazy("Descriptors"),
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Styling, age range and mood, as the video model should read them."),
    )
    review_note = forms.CharField(
        label=gettext_lazy("Review note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Who checked this look for the market, and what to watch for."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["market"].choices = [(m.slug, f"{market_name(m)} · {m.slug.upper()}") for m in selectors.markets()]


# --- localized titles (on the product page) ---------------------------------------------------------------------


def _back_to_product(product) -> HttpResponse:
    return redirect(reverse("dashboard:product_detail", args=[product.pk]) + "#localizations")


@editor_view
@require_POST
def localization_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Add or replace the product's title (and call to action) for one caption language."""
    product = selectors.get_product(request.organization, pk)
    form = LocalizationForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "markets/localization_form.html",
            {"product": product, "form": form, "localizations": _localizations(product)},
            status=400,
        )
    data = form.cleaned_data
    market_services.set_localized_title(
        product=product, language=data["language"], title=data["title"], cta=data["cta"]
    )
    messages.success(request, _("Title for %(language)s saved.") % {"language": language_name(data["language"])})
    return _back_to_product(product)


@editor_view
@require_POST
def localization_delete(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    product = selectors.get_product(request.organization, pk)
    deleted, _rows = ProductLocalization.objects.filter(product=product, language=language).delete()
    if deleted:
        messages.success(
            request,
            _("Title for %(language)s removed: captions use the original title.")
            % {"language": language_name(language)},
        )
    return _back_to_product(product)


def _localizations(product) -> list[ProductLocalization]:
    rows = list(product.localizations.all())
    for row in rows:
        row.language_name = language_name(row.language)
    return rows


# --- model looks per market (linked from the navigation) --------------------------------------------------------


def _looks_page(request: HttpRequest, form: LookForm, *, status: int = 200, editing: ModelLook | None = None):
    # A market's block starts open when it holds looks of the organization's own or the look being edited.
    focus = {editing.market.slug} if editing is not None else set()
    focus.add(str(form["market"].value() or "") if form.is_bound else str(form.initial.get("market", "")))
    groups = []
    for market, looks in selectors.looks_by_market(request.organization):
        for look in looks:
            look.display_name = look_name(look) if look.organization_id is None else look.name
            # Built-in rows leave the note to the page, which says it once. A merchant's own note shows as typed,
            # except the built-in text kept by a copy, which is stored in English and shown in the reader's language.
            own_note = look.review_note if look.organization_id else ""
            look.note_text = _(BUILTIN_REVIEW_NOTE) if own_note == BUILTIN_REVIEW_NOTE else own_note
        is_open = market.slug in focus or any(look.organization_id for look in looks)
        groups.append((market, market_name(market), looks, is_open))
    context = {
        "groups": groups,
        "form": form,
        "editing": editing,
        # The note is the same for every built-in look: the page says it once.
        "builtin_note": _(BUILTIN_REVIEW_NOTE),
        "section": "looks",
    }
    return render(request, "markets/looks.html", context, status=status)


@merchant_view
@require_GET
def look_list(request: HttpRequest) -> HttpResponse:
    initial = {}
    # "Edit" on a built-in look: the form starts from the preset's values; saving makes the organization's copy.
    base = request.GET.get("from")
    if base and ":" in base:
        market_slug, slug = base.split(":", 1)
        for look in selectors.looks_for(request.organization, market_slug) if market_slug in MARKETS_BY_SLUG else []:
            if look.slug == slug:
                initial = {
                    "market": market_slug,
                    "name": look.name,
                    "slug": look.slug,
                    "descriptors": look.descriptors,
                    "review_note": look.review_note,
                }
    return _looks_page(request, LookForm(initial=initial))


@editor_view
@require_POST
def look_save(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a look (pk None) or edit one of the organization's own."""
    look = selectors.own_look(request.organization, pk) if pk is not None else None
    form = LookForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        market = next(m for m in selectors.markets() if m.slug == data["market"])
        if look is None:
            # An own look with this slug already: edit it rather than refuse (the form was started from it).
            slug = data["slug"] or ""
            look = (
                ModelLook.objects.filter(organization=request.organization, market=market, slug=slug).first()
                if slug
                else None
            )
        try:
            saved = market_services.save_look(
                organization=request.organization,
                market=market,
                name=data["name"],
                descriptors=data["descriptors"],
                slug=data["slug"],
                review_note=data["review_note"],
                look=look if look is not None and look.market_id == market.pk else None,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Look %(name)s saved.") % {"name": saved.name})
            return redirect("dashboard:look_list")
    return _looks_page(request, form, status=400, editing=look)


@editor_view
@require_GET
def look_edit(request: HttpRequest, pk: int) -> HttpResponse:
    look = selectors.own_look(request.organization, pk)
    form = LookForm(
        initial={
            "market": look.market.slug,
            "name": look.name,
            "slug": look.slug,
            "descriptors": look.descriptors,
            "review_note": look.review_note,
        }
    )
    return _looks_page(request, form, editing=look)


@editor_view
@require_POST
def look_delete(request: HttpRequest, pk: int) -> HttpResponse:
    look = selectors.own_look(request.organization, pk)
    try:
        market_services.delete_look(organization=request.organization, look=look)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Look %(name)s removed.") % {"name": look.name})
    return redirect("dashboard:look_list")
