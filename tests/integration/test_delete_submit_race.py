"""A product deleted while a batch for it is being submitted: one of the two wins cleanly (PostgreSQL row locks),
never a database error (a 500) and never jobs whose photo is gone."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from generation import services
from generation.models import Job, Product
from generation.services import deletion
from tests.factories import MembershipFactory, PhotoFactory, ensure_presets

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _matrix() -> services.VariantMatrix:
    return services.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=1)


def test_a_submission_waits_for_a_deletion_in_progress_and_is_refused_cleanly():
    ensure_presets()
    member = MembershipFactory(organization__credits=100)
    photo = PhotoFactory(product__organization=member.organization)
    product = photo.product
    locked, release = threading.Event(), threading.Event()

    def delete_slowly() -> None:
        try:
            with transaction.atomic():
                # What request_product_deletion does first; then it holds the lock while it deletes the rows.
                Product.objects.select_for_update().get(pk=product.pk)
                locked.set()
                release.wait(10)
                Product.objects.filter(pk=product.pk).delete()
        finally:
            connection.close()

    deleter = threading.Thread(target=delete_slowly)
    deleter.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    with pytest.raises(services.MatrixInvalid) as info:
        services.submit_batch(organization=member.organization, photos=[photo], matrix=_matrix())
    deleter.join(10)
    assert time.monotonic() - started >= 0.4  # it waited for the deletion instead of racing it
    assert "not found" in str(info.value.message)
    assert not Job.objects.exists()


def test_a_deletion_after_a_submission_is_refused_because_jobs_are_queued():
    ensure_presets()
    member = MembershipFactory(organization__credits=100)
    photo = PhotoFactory(product__organization=member.organization)
    services.submit_batch(organization=member.organization, photos=[photo], matrix=_matrix())
    with pytest.raises(deletion.ProductBusy):
        deletion.request_product_deletion(product=photo.product)
    assert Product.objects.filter(pk=photo.product_id).exists()
