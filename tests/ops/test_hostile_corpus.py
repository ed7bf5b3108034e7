"""A hundred malformed or hostile files through the dashboard's upload, one product each: every answer is a clear
400 naming the file or a stored photo; never a 500; nothing executable stored; whatever is stored is served as an
image with nosniff, under the organization's prefix and a name of our own. The set is shared with the API tests
(tests/ops/hostile_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import Photo
from tests.factories import MembershipFactory

from .hostile_files import SAFE_SERVED_TYPES, assert_only_our_images_stored, corpus

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_a_hundred_hostile_files_get_clear_answers_and_nothing_executable_is_stored(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    files = corpus()
    assert len(files) == 100
    member = MembershipFactory()
    client.force_login(member.user)
    statuses: dict[int, int] = {}
    for index, (name, data, ctype) in enumerate(files):
        upload = SimpleUploadedFile(name, data, content_type=ctype)
        response = client.post(
            reverse("dashboard:product_create"), {"title": f"Hostile {index}", "category": "other", "photos": [upload]}
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code in (302, 400), (index, name, response.status_code)
        if response.status_code == 400:
            html = response.content.decode()
            # The photo check names the file and why; Django's form refuses an empty file before it.
            assert "could not be used" in html or "The submitted file is empty" in html, (index, name)
    assert statuses.get(400, 0) >= 80  # nearly all are refused; hostile names on real images are stored

    stored = assert_only_our_images_stored(Path(settings.MEDIA_ROOT), member.organization_id)
    assert len(stored) >= 2 * 8  # the polyglots and hostile names on real images: photo + mask each
    for photo in Photo.objects.filter(organization=member.organization):
        assert "/" not in photo.original_name and "\\" not in photo.original_name and "\x00" not in photo.original_name
        served = client.get(reverse("files:photo", args=[photo.pk]))
        assert served.status_code == 200
        assert served["Content-Type"] in SAFE_SERVED_TYPES
        assert served["X-Content-Type-Options"] == "nosniff"
