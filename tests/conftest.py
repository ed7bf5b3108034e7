import io

import pytest

from tests import synthetic


@pytest.fixture
def png_bytes():
    def encode(image, fmt: str = "PNG", **kwargs) -> bytes:
        buf = io.BytesIO()
        image.save(buf, fmt, **kwargs)
        return buf.getvalue()

    return encode


@pytest.fixture
def synthetic_photos():
    return synthetic
