import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests import synthetic


@pytest.fixture
def workdir() -> Path:
    """Artifacts under var/ (SHOPVIDEO_VAR_DIR), so a failing run leaves its MP4s to look at."""
    base = Path(settings.VAR_DIR) / "test-markets"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base))


@pytest.fixture
def photo(workdir) -> Path:
    path = workdir / "bottle.jpg"
    synthetic.product_on_white()[0].save(path, quality=92)
    return path
