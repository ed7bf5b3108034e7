"""An ad's music on a remote storage (S3, which has no local paths): copied to a temporary file to be prepared and
its beats found, the copy removed afterwards; the ad's storyboard is planned on those beats."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from generation.models import AudioTrack
from generation.services import ads
from tests import audio_samples
from tests.factories import OrganizationFactory, PhotoFactory, ProductFactory, ensure_presets

pytestmark = pytest.mark.django_db


def test_music_on_s3_is_fetched_to_a_temporary_file_and_its_beats_plan_the_ad(s3_storage, tmp_path):
    ensure_presets()
    org = OrganizationFactory()
    product = ProductFactory(organization=org)
    photos = [PhotoFactory(product=product) for _ in range(2)]
    wav = audio_samples.write_wav(tmp_path / "loop.wav", audio_samples.music(3.0, 48_000, 100.0), 48_000)
    track = AudioTrack(organization=org, name="loop", seconds=3.0, sample_rate=48_000, codec="pcm_s16le")
    track.file.save("loop.wav", ContentFile(wav.read_bytes()), save=True)
    with pytest.raises(NotImplementedError):
        _ = track.file.path  # S3 has no local paths

    with ads.local_audio(track) as local:
        copy = Path(local)
        assert copy.read_bytes() == wav.read_bytes()
    assert not copy.exists()  # the temporary copy is gone

    plan = ads.estimate_ad(
        organization=org, photos=photos, options=ads.AdOptions(market="us", seconds=6, audio=track.pk, seed=1)
    )
    assert plan.storyboard["audio"] == track.pk and plan.credits == 6
    # the loop's kicks, every 0.6 s from each repetition's start (3 s less the prepare stage's crossfade)
    kicks = [r * 2.95 + k * 0.6 for r in range(3) for k in range(5)]
    beats = plan.storyboard["beats"]
    assert len(beats) >= 8 and all(min(abs(b - k) for k in kicks) < 0.03 for b in beats), beats
