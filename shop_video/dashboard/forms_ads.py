"""The ad wizard's forms: the ad's options (market, platform, format, length, music), the storyboard's edits as
posted back (the shots in order, each one's scene, the button pressed), and a music upload."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from generation import selectors
from generation.models import AudioTrack
from generation.pipeline.ads.rules import AD_LENGTHS, PLATFORM_AD_LENGTHS
from generation.pipeline.platforms import PLATFORMS
from generation.services.ads import AdOptions

from .forms import PLATFORM_NAMES, market_name

DEFAULT_PLATFORM = "tiktok"
DEFAULT_SECONDS = 15
SHOT_ACTIONS = ("remove", "up", "down")

SHOT_KIND_NAMES = {
    "hero": _("Whole product"),
    "angle": _("Another angle"),
    "detail": _("Close-up"),
    "scene": _("In a scene"),
    "model": _("With a model"),
    "endcard": _("End card"),
}


def shot_kind_name(kind: str) -> str:
    return str(SHOT_KIND_NAMES.get(kind, kind))


def ad_platforms() -> list[tuple[str, str]]:
    return [(slug, str(PLATFORM_NAMES.get(slug, PLATFORMS[slug].name))) for slug in PLATFORM_AD_LENGTHS]


class AdForm(forms.Form):
    """What the ad is: only the lengths and aspect ratios the chosen platform takes are offered (and accepted)."""

    market = forms.ChoiceField(label=_("Market"))
    platform = forms.ChoiceField(label=_("Platform"))
    aspect_ratio = forms.ChoiceField(label=_("Format"))
    seconds = forms.TypedChoiceField(label=_("Length"), coerce=int, widget=forms.RadioSelect)
    audio = forms.TypedChoiceField(label=_("Music"), coerce=int, required=False, empty_value=None)
    seed = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1, widget=forms.HiddenInput)

    def __init__(self, data=None, *, organization, **kwargs) -> None:
        super().__init__(data, **kwargs)
        markets = list(selectors.markets())
        self.fields["market"].choices = sorted(((m.slug, market_name(m)) for m in markets), key=lambda c: c[1])
        slugs = [m.slug for m in markets]
        self.fields["market"].initial = "us" if "us" in slugs else next(iter(slugs), None)
        self.fields["platform"].choices = ad_platforms()
        self.fields["platform"].initial = DEFAULT_PLATFORM
        platform = (data or {}).get("platform") or DEFAULT_PLATFORM
        preset = PLATFORMS.get(platform) or PLATFORMS[DEFAULT_PLATFORM]
        lengths = PLATFORM_AD_LENGTHS.get(preset.slug, AD_LENGTHS)
        self.fields["seconds"].choices = [(s, _("%(seconds)d s") % {"seconds": s}) for s in lengths]
        self.fields["seconds"].initial = DEFAULT_SECONDS if DEFAULT_SECONDS in lengths else lengths[0]
        self.fields["aspect_ratio"].choices = [(a, a) for a in preset.aspects]
        self.fields["aspect_ratio"].initial = preset.aspects[0]
        tracks = AudioTrack.objects.filter(organization=organization).order_by("-created_at", "-id")
        self.fields["audio"].choices = [("", _("No music"))] + [(t.pk, t.name) for t in tracks]

    def options(self, storyboard: dict | None = None) -> AdOptions:
        data = self.cleaned_data
        return AdOptions(
            market=data["market"],
            seconds=data["seconds"],
            platform=data["platform"],
            aspect_ratio=data["aspect_ratio"],
            audio=data.get("audio"),
            seed=data.get("seed"),
            storyboard=storyboard,
        )

    def query(self) -> dict:
        """The options as query parameters (the page's address for these options)."""
        data = self.cleaned_data
        out = {k: data[k] for k in ("market", "platform", "aspect_ratio", "seconds")}
        if data.get("audio"):
            out["audio"] = data["audio"]
        return out


def posted_shots(data) -> list[dict] | None:
    """The storyboard as the page posted it back: `shot` ("kind:photo:seed") and `scene`, one each per shot in
    order. None when there is none or it does not parse (the plan then starts afresh)."""
    keys, scenes = data.getlist("shot"), data.getlist("scene")
    if not keys or len(keys) != len(scenes):
        return None
    shots = []
    for key, scene in zip(keys, scenes, strict=True):
        parts = key.split(":")
        if len(parts) != 3:
            return None
        kind, photo, seed = parts
        try:
            shots.append({"kind": kind, "photo": int(photo) if photo else None, "seed": int(seed), "scene": scene})
        except ValueError:
            return None
    return shots


def posted_action(data) -> tuple[str, int]:
    """The button pressed: ("submit", -1), ("update", -1), or (remove|up|down, the shot's index)."""
    verb, _sep, index = str(data.get("action", "update")).partition(":")
    if verb in SHOT_ACTIONS and index.isdigit():
        return verb, int(index)
    return ("submit", -1) if verb == "submit" else ("update", -1)


class MusicUploadForm(forms.Form):
    music = forms.FileField(label=_("Upload music"), help_text=_("MP3, WAV, M4A/AAC or OGG."))
