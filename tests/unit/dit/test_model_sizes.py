"""The sizes each DiT model family supports, told by the model folder's transformer config."""

import json

import pytest

from generation.engines import model_sizes
from generation.engines.model_sizes import ResolutionUnsupportedError, check_resolution, family_of, supports
from tests.model_folders import config_only_folder


@pytest.mark.parametrize(
    ("family", "resolution", "ok"),
    [("vace-1.3B", "480p", True), ("vace-1.3B", "720p", False), ("vace-14B", "480p", True), ("vace-14B", "720p", True)],
)
def test_support_by_family(tmp_path, family, resolution, ok):
    folder = config_only_folder(tmp_path / family, family)
    assert family_of(folder) == family
    assert supports(folder, resolution) is ok


def test_every_480p_aspect_is_within_the_trained_area_and_no_720p_one():
    # 1:1 (640×640) and 4:5 (512×640) are not in Wan's list; they count by their pixel count.
    assert model_sizes.tiers_of("vace-1.3B") == {"480p"}
    assert model_sizes.tiers_of("vace-14B") == {"480p", "720p"}


def test_a_refusal_has_its_code_and_says_what_the_model_takes(tmp_path):
    folder = config_only_folder(tmp_path / "m", "vace-1.3B")
    with pytest.raises(ResolutionUnsupportedError) as info:
        check_resolution(folder, "720p")
    assert info.value.code == "resolution_unsupported_by_model"
    assert "vace-1.3B" in info.value.message and "480p" in info.value.message


def test_a_folder_may_state_its_family(tiny_model, tmp_path):
    import shutil

    folder = tmp_path / "tiny"
    shutil.copytree(tiny_model[0], folder)
    assert family_of(folder) is None and supports(folder, "720p")  # toy dims: no family, no restriction
    (folder / model_sizes.FAMILY_FILE).write_text(json.dumps({"family": "vace-1.3B"}))
    model_sizes._family_in_folder.cache_clear()
    assert family_of(folder) == "vace-1.3B" and not supports(folder, "720p")


def test_the_setting_names_the_family_for_servers_without_the_folder(settings):
    settings.SHOPVIDEO_DIT_MODEL_FAMILY = "vace-1.3B"
    assert not supports("/nonexistent", "720p") and supports("/nonexistent", "480p")
