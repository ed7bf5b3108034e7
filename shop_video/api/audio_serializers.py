"""Serializers of /api/v1/audio (beside serializers.py, which is near its size limit)."""

from __future__ import annotations

from rest_framework import serializers

from generation.models import AudioTrack

from .serializers import StrictSerializer


class AudioUploadSerializer(StrictSerializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text="The music: MP3, WAV, M4A/AAC or OGG (Vorbis, Opus); at most 10 minutes."
    )


class AudioTrackSerializer(serializers.ModelSerializer):
    seconds = serializers.FloatField(read_only=True, help_text="The track's length, decoded.")

    class Meta:
        model = AudioTrack
        fields = ["id", "name", "seconds", "created_at"]
        read_only_fields = fields
