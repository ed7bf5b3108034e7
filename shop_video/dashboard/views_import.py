"""Dashboard pages of the catalogue import: upload, the row report with the price, confirm, download, discard.
Thin: the services write, the selectors read, scoped to request.organization (another merchant's id → 404)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generation.constants import ASPECT_RATIOS, RESOLUTIONS
from generation.imports import processing, selectors, services
from generation.imports.ads import DEFAULT_AD_SECONDS
from generation.imports.recheck import failed_image_rows
from generation.imports.validate import how_to_fix, report_csv_lines, report_entries
from generation.models import CatalogImport, MarketPreset
from generation.pipeline.ads.rules import AD_LENGTHS
from shop_video.merchants.models import Membership

from .forms import GenerateForm, market_name, platform_presets
from .selectors import credit_standing
from .views import merchant_view

ISSUES_ON_PAGE = 500
ESTIMATE_ISSUES = 20  # rows named under the live price; the confirm names them all


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Catalogue CSV"),
        help_text=gettext_lazy("Our columns, or a Shopify or WooCommerce product export as it is."),
    )
    images = forms.FileField(
        label=gettext_lazy("Images (zip)"),
        required=False,
        help_text=gettext_lazy("For rows that name an image_file instead of an image_url."),
    )
    markets = forms.MultipleChoiceField(
        label=gettext_lazy("Markets for rows that name none"), required=False, widget=forms.CheckboxSelectMultiple
    )
    aspect_ratios = forms.MultipleChoiceField(
        label=gettext_lazy("Formats for rows that name none"),
        required=False,
        choices=[(a, a) for a in ASPECT_RATIOS],
        widget=forms.CheckboxSelectMultiple,
    )
    seconds = forms.TypedChoiceField(
        label=gettext_lazy("Length for rows that name none"),
        choices=[(5, "5 s"), (10, "10 s"), (15, "15 s")],
        coerce=int,
        initial=5,
    )
    resolution = forms.ChoiceField(label=gettext_lazy("Resolution"), choices=[(r, r) for r in RESOLUTIONS])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["markets"].choices = sorted(
            ((m.slug, market_name(m)) for m in MarketPreset.objects.all()), key=lambda choice: choice[1]
        )
        self.fields["markets"].initial = ["us"]


class RecheckForm(forms.Form):
    images = forms.FileField(
        label=gettext_lazy("Images for the failed rows (zip)"),
        required=False,
        help_text=gettext_lazy(
            "Name each image as the “How to fix” column says: the row’s image_file, or the last part of its image URL."
        ),
        widget=forms.FileInput(attrs={"accept": ".zip,application/zip"}),
    )


class ConfirmForm(forms.Form):
    """The wizard's platform and caption options (the very same fields), for every row of the import."""

    platform = GenerateForm.base_fields["platform"]
    captions = GenerateForm.base_fields["captions"]
    caption_price = GenerateForm.base_fields["caption_price"]
    caption_cta = GenerateForm.base_fields["caption_cta"]
    output = forms.ChoiceField(
        label=gettext_lazy("Make"),
        choices=[
            ("videos", gettext_lazy("Videos: one per photo and format")),
            ("ads", gettext_lazy("Ads: one per product and market, with all its photos")),
        ],
        initial="videos",
        required=False,
        widget=forms.RadioSelect,
    )
    ad_seconds = forms.TypedChoiceField(
        label=gettext_lazy("Ad length"),
        choices=[(s, str(s)) for s in AD_LENGTHS],  # labelled in the reader's language in __init__
        coerce=int,
        initial=DEFAULT_AD_SECONDS,
        required=False,
        help_text=gettext_lazy(
            "For ads: a product whose market's platform does not take this length is named in the price and gets no "
            "ad; the others go."
        ),
    )
    # The price the page showed (the live estimate writes it): confirm refuses if the price is no longer that.
    expected_credits = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [
            ("", _("None chosen")),
            *((slug, name) for slug, name, _a in platform_presets()),
        ]
        self.fields["ad_seconds"].choices = [(s, _("%(seconds)d seconds") % {"seconds": s}) for s in AD_LENGTHS]
        self.fields["platform"].help_text = _(
            "Rows that name no formats get its aspect ratios; a row whose formats or lengths break its rules is "
            "named and nothing is made."
        )

    @property
    def caption_fields(self) -> list[forms.BoundField]:
        return [self["captions"], self["caption_price"], self["caption_cta"]]

    def video_options(self) -> services.VideoOptions:
        data = self.cleaned_data
        return services.VideoOptions(
            platform=data.get("platform") or "",
            captions=bool(data.get("captions")),
            caption_price=bool(data.get("caption_price")),
            caption_cta=bool(data.get("caption_cta")),
            output=data.get("output") or "videos",
            ad_seconds=data.get("ad_seconds") or DEFAULT_AD_SECONDS,
        )


@merchant_view
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not request.can_edit:
            return render(request, "403.html", status=403)
        if form.is_valid():
            data = form.cleaned_data
            try:
                imp = services.stage_import(
                    organization=request.organization,
                    user=request.user,
                    csv_upload=data["file"],
                    filename=data["file"].name,
                    zip_upload=data.get("images") or None,
                    options={
                        "markets": data["markets"],
                        "aspect_ratios": data["aspect_ratios"],
                        "seconds": [data["seconds"]],
                        "resolution": data["resolution"],
                    },
                )
            except services.ImportInvalid as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                return redirect("dashboard:import_detail", pk=imp.pk)
        status = 400
    imports = selectors.imports_for(request.organization)[:50]
    return render(request, "imports/list.html", {"form": form, "imports": imports, "section": "imports"}, status=status)


@merchant_view
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The import's page; with htmx's header, only its price for the confirm options in the query (the form's live
    estimate, like the product page's wizard)."""
    imp = selectors.get_import(request.organization, pk)
    form = ConfirmForm(request.GET or None)
    if request.headers.get("HX-Request") == "true":
        estimate = _estimate(imp, form)
        errors = [e for field_errors in form.errors.values() for e in field_errors] if form.is_bound else []
        response = render(request, "imports/estimate.html", _estimate_context(estimate, errors, request.organization))
    else:
        response = _detail_page(request, imp, form)
    patch_vary_headers(response, ["HX-Request"])  # the page and its fragment share a URL: never cache one as the other
    return response


def _estimate(imp: CatalogImport, form: ConfirmForm) -> services.ImportEstimate | None:
    """What confirming with the form's options would make (an unbound form: its initial values, no options)."""
    if imp.status != CatalogImport.Status.READY:
        return None
    form.is_valid()  # a bound form's valid fields are in cleaned_data even when another one has an error
    return services.estimate_import(imp, form.video_options() if form.is_bound else None)


def _estimate_context(estimate: services.ImportEstimate | None, errors: list[str], organization) -> dict:
    refusal = services.refusal(list(estimate.issues), estimating=True) if estimate and estimate.issues else None
    return {
        "standing": credit_standing(organization, estimate.credits) if estimate and not estimate.issues else None,
        "estimate": estimate,
        "estimate_errors": errors,
        "estimate_refusal": refusal.message if refusal else "",
        "estimate_issues": estimate.issues[:ESTIMATE_ISSUES] if estimate else (),
        "estimate_ads": estimate.ads[:ESTIMATE_ISSUES] if estimate else (),
        "estimate_skipped": [{**i, "how_to_fix": how_to_fix(i)} for i in estimate.skipped[:ESTIMATE_ISSUES]]
        if estimate
        else [],
    }


def _detail_page(
    request: HttpRequest,
    imp: CatalogImport,
    form: ConfirmForm,
    *,
    option_issues=(),
    status: int = 200,
    recheck_form: RecheckForm | None = None,
) -> HttpResponse:
    issues = []
    for entry in report_entries(imp):
        issues.append(entry)
        if len(issues) >= ISSUES_ON_PAGE:
            break
    context = {
        "imp": imp,
        "issues": issues,
        "issues_truncated": len(issues) >= ISSUES_ON_PAGE,
        "confirm_form": form,
        "option_issues": option_issues,
        "can_resume": processing.can_resume(imp),
        "recheck_form": recheck_form or RecheckForm(),
        "rows_to_recheck": (
            len(failed_image_rows(imp))
            if imp.status in (CatalogImport.Status.READY, CatalogImport.Status.FAILED)
            and not processing.can_resume(imp)
            else 0
        ),
        "section": "imports",
        **_estimate_context(_estimate(imp, form), [], request.organization),
    }
    return render(request, "imports/detail.html", context, status=status)


@merchant_view
@require_GET
def import_report(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    imp = selectors.get_import(request.organization, pk)
    response = StreamingHttpResponse(report_csv_lines(report_entries(imp)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-report.csv"'
    return response


@merchant_view(role=Membership.Role.EDITOR)
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    imp = selectors.get_import(request.organization, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, imp, form, status=400)
    try:
        batch = services.confirm_import(
            catalog_import=imp,
            user=request.user,
            video_options=form.video_options(),
            expected_credits=form.cleaned_data.get("expected_credits"),
        )
    except services.ImportNotConfirmable as exc:
        if not exc.fields:
            messages.error(request, exc.message)
            return redirect("dashboard:import_detail", pk=imp.pk)
        # Rows that break the chosen options: the page again with the choices kept and the rows named.
        row_issues = [i for i in exc.issues if i["row"]]
        on_fields = [field for field in exc.fields if field in form.fields]
        for field in on_fields:
            for message in exc.fields[field]:
                form.add_error(field, message)
        if row_issues or not on_fields:
            form.add_error(None, exc.message)
        return _detail_page(request, imp, form, option_issues=row_issues, status=400)
    count = batch.jobs.count()
    if form.video_options().output == "ads":
        message = ngettext(
            "The import was confirmed: %(count)d ad is queued.",
            "The import was confirmed: %(count)d ads are queued.",
            count,
        )
    else:
        message = _("The import was confirmed: %(count)d videos are queued.")
    messages.success(request, message % {"count": count})
    return redirect("dashboard:batch_detail", pk=batch.pk)


@merchant_view(role=Membership.Role.EDITOR)
@require_POST
def import_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the image check to a worker again (the broker may have lost it, or a run stopped on an error);
    running twice is harmless."""
    imp = selectors.get_import(request.organization, pk)
    if processing.resume_processing(imp):
        messages.info(request, _("The images are being checked again."))
    return redirect("dashboard:import_detail", pk=imp.pk)


@merchant_view(role=Membership.Role.EDITOR)
@require_POST
def import_recheck_failed(request: HttpRequest, pk: int) -> HttpResponse:
    """The rows whose images failed, checked again with the zip of their images when one is uploaded; the rows
    that passed are left as they are."""
    imp = selectors.get_import(request.organization, pk)
    form = RecheckForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            count = services.recheck_failed_rows(catalog_import=imp, zip_upload=form.cleaned_data.get("images"))
        except services.ImportInvalid as exc:
            form.add_error("images", exc.message)
        except services.ImportNotConfirmable as exc:
            messages.error(request, exc.message)
            return redirect("dashboard:import_detail", pk=imp.pk)
        else:
            messages.info(
                request,
                ngettext("%(count)d row is being checked again.", "%(count)d rows are being checked again.", count)
                % {"count": count},
            )
            return redirect("dashboard:import_detail", pk=imp.pk)
    return _detail_page(request, imp, ConfirmForm(), recheck_form=form, status=400)


@merchant_view(role=Membership.Role.EDITOR)
@require_POST
def import_discard(request: HttpRequest, pk: int) -> HttpResponse:
    imp = selectors.get_import(request.organization, pk)
    try:
        services.discard_import(catalog_import=imp)
    except services.ImportNotConfirmable as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:import_detail", pk=imp.pk)
    messages.success(request, _("The import was discarded."))
    return redirect("dashboard:import_list")
