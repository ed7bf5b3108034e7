"""Serializers of ad jobs (`"format": "ad"` in POST /api/v1/jobs and /jobs/estimate): shape and types only; the
ad's rules (lengths per platform, aspect ratios, music, the storyboard) are `generation.services.ads`'."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from generation import rules
from generation.constants import ASPECT_RATIOS, ENGINES, RESOLUTIONS
from generation.pipeline.platforms import PLATFORMS
from generation.services.ads import MAX_AD_PHOTOS

from .serializers import MAX_SEED, Id, StrictSerializer, Text, market_choices

STORYBOARD_SCHEMA = {
    "type": "object",
    "description": "The ad's plan: `shots` in order (kind `hero`, `angle`, `detail`, `scene`, `model` or "
    "`endcard`; `photo`: index into `photo_ids`; `start`/`end`: frames; `scene`, `motion`, `seed`, "
    "`transition_in`), `transitions`, `frames`, `fps`, `seconds`, `seed`, `platform`, `endcard` (its text), "
    "`photo_ids`, `audio`, `beats`. The per-frame placements stay on the server.",
    "properties": {
        "seed": {"type": "integer"},
        "shots": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["hero", "angle", "detail", "scene", "model", "endcard"]},
                    "photo": {"type": "integer", "nullable": True},
                    "seed": {"type": "integer"},
                    "scene": {"type": "string", "nullable": True},
                },
            },
        },
    },
    "additionalProperties": True,
}


@extend_schema_field(STORYBOARD_SCHEMA)
class StoryboardField(serializers.JSONField):
    """An edited storyboard: only each shot's kind, photo and seed (which planned shot) and scene are read."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict) or not isinstance(value.get("shots"), list):
            raise serializers.ValidationError(_("An object with a list of shots."), code="storyboard_invalid")
        return value


class AdJobRequestSerializer(StrictSerializer):
    format = serializers.ChoiceField(choices=["ad"], help_text="`ad`: several shots of one product and an end card.")
    product = Id(required=False, help_text="The product the ad shows; left out, the product of `photos`.")
    photos = serializers.ListField(
        child=Id(),
        required=False,
        max_length=MAX_AD_PHOTOS,
        help_text="Photo ids of the product, the hero first; all of its photos (up to 8) when left out.",
    )
    market = serializers.ChoiceField(choices=market_choices(), help_text="Market slug (lower-case ISO 3166 code).")
    platform = serializers.ChoiceField(
        choices=sorted(PLATFORMS),
        required=False,
        allow_null=True,
        help_text="The platform the ad is for; default: the market's first that takes the aspect ratio.",
    )
    aspect_ratio = serializers.ChoiceField(choices=list(ASPECT_RATIOS), default="9:16")
    seconds = serializers.IntegerField(
        min_value=1,
        max_value=120,
        help_text="6, 10, 15, 30 or 60, as the platform takes them (400 `ad_length_not_allowed` otherwise).",
    )
    resolution = serializers.ChoiceField(choices=list(RESOLUTIONS), default="480p")
    engine = serializers.ChoiceField(choices=list(ENGINES), required=False)
    audio = Id(
        required=False,
        allow_null=True,
        help_text="A music track (`/api/v1/audio`) of your organization: levelled to −14 LUFS, the cuts on its "
        "beats (400 `audio_not_found` for any other id).",
    )
    scene = Text(max_length=60, required=False, allow_null=True, help_text="Scene slug; the market's default.")
    seed = serializers.IntegerField(
        min_value=0, max_value=MAX_SEED, required=False, allow_null=True, help_text="Random when left out."
    )
    storyboard = StoryboardField(
        required=False,
        allow_null=True,
        help_text="A storyboard from an estimate, edited: shots removed or reordered, a shot's `scene` changed "
        "(the end card stays last). Priced and rendered as edited; 400 `storyboard_invalid` when it is not the "
        "plan's shots.",
    )
    name = Text(max_length=200, required=False, allow_blank=True, help_text="Batch name; the product title by default.")

    def validate(self, attrs):
        attrs.setdefault("engine", rules.default_engine())
        return attrs


class AdEstimateSerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    videos = serializers.IntegerField()
    seconds = serializers.FloatField(help_text="The ad's length as it will be rendered.")
    storyboard = StoryboardField(help_text="What will be rendered; send it back edited to re-price it.")
