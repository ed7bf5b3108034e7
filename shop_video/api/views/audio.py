"""/api/v1/audio: the merchant's music for ads: upload (checked before it is stored), list, get, delete."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from generation import selectors
from generation.services import audio as audio_services

from .. import audio_serializers as s
from ..idempotency import idempotent
from ..parsers import MultiPartParser
from ..schema import IDEMPOTENCY_KEY
from ..schema_examples import EXAMPLE_TIME, MULTIPART, error_response, example, page_of
from .base import OrgViewSet

AUDIO_EXAMPLE = {"id": 17, "name": "summer-sale-loop", "seconds": 42.5, "created_at": EXAMPLE_TIME}


@extend_schema_view(
    list=extend_schema(
        summary="List music tracks",
        description="Newest first, cursor-paginated.",
        examples=[example("A page of music tracks", page_of(AUDIO_EXAMPLE))],
    ),
    retrieve=extend_schema(summary="Get a music track", examples=[example("A music track", AUDIO_EXAMPLE)]),
    destroy=extend_schema(
        summary="Delete a music track",
        description="Deletes the track; its stored file is removed once the deletion is committed.",
        responses={204: OpenApiResponse(description="Deleted.")},
    ),
)
class AudioTrackViewSet(OrgViewSet):
    serializer_class = s.AudioTrackSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return selectors.audio_tracks_for(self.organization)

    def list(self, request: Request) -> Response:
        return self.paged(self.get_queryset(), s.AudioTrackSerializer)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(s.AudioTrackSerializer(selectors.get_audio_track(self.organization, pk)).data)

    @extend_schema(
        summary="Upload a music track",
        description="multipart/form-data `file`: MP3, WAV, M4A/AAC or OGG (Vorbis, Opus), recognized by its "
        "content, not its name. It is decoded before it is stored; a file that cannot be used is refused with "
        "400 and nothing is kept: `audio_invalid` (not audio, cut short, no sound stream), `audio_too_long` "
        "(over 10 minutes, from the file's header), `audio_too_large` (over 50 MB), `audio_silent`. Ads bring "
        "the music to −14 LUFS with true peak at most −1 dBTP, looped or cut to the ad's length.",
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": s.AudioUploadSerializer},
        responses={
            201: s.AudioTrackSerializer,
            400: error_response(
                "Not usable music",
                "audio_invalid",
                "The file is not audio we can play (MP3, WAV, M4A/AAC or OGG).",
                {"file": ["The file is not audio we can play (MP3, WAV, M4A/AAC or OGG)."]},
            ),
        },
        examples=[
            example(
                "multipart fields", {"file": "(the music file)"}, request=True, response=False, media_type=MULTIPART
            ),
            example("Created", AUDIO_EXAMPLE, status_codes=["201"]),
        ],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.AudioUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        track = audio_services.upload_audio(organization=self.organization, upload=upload, filename=upload.name)
        return Response(s.AudioTrackSerializer(track).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk=None) -> Response:
        audio_services.delete_audio(track=selectors.get_audio_track(self.organization, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
