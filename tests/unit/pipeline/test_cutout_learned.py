"""Learned cutout: an ONNX model through the real loading path (onnxruntime), with a tiny model of known answer."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from generation.pipeline import cutout
from generation.pipeline.errors import BadInputError
from generation.pipeline.ingest import ingest_photo
from tests import incontext, onnx_models


@pytest.fixture
def blue_model(tmp_path, settings):
    path = onnx_models.blue_detector(tmp_path / "blue.onnx")
    settings.SHOPVIDEO_CUTOUT_MODEL = str(path)
    return path


def _bottle_on_wood():
    rgb, mask = incontext.blue_bottle()
    return incontext.paste(rgb, mask, incontext.background("wood"), (0.5, 0.5), 0.6)


def test_the_model_cuts_out_a_product_the_classical_path_refuses(blue_model, settings):
    rgb, truth = _bottle_on_wood()
    photo = ingest_photo(incontext.jpeg(rgb))
    result = cutout.compute_cutout(photo)
    assert result.method == "learned"
    assert incontext.iou(result.mask, truth) >= 0.99
    assert not result.needs_review
    settings.SHOPVIDEO_CUTOUT_MODEL = ""
    with pytest.raises(cutout.CutoutError) as err:
        cutout.compute_cutout(photo)
    assert err.value.code == "background_not_plain"


def test_the_session_is_loaded_once_per_process(blue_model):
    assert cutout.load_model(str(blue_model)) is cutout.load_model(str(blue_model))


def test_the_model_reads_its_normalisation_from_its_metadata(blue_model):
    model = cutout.load_model(str(blue_model))
    assert (model.mean, model.std) == ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert model.size == (1024, 1024)  # dynamic input: SHOPVIDEO_CUTOUT_MODEL_SIZE


def test_a_guide_wins_over_the_model(blue_model):
    rgb, truth = incontext.case("tote-on-wood")
    result = cutout.compute_cutout(
        ingest_photo(incontext.jpeg(rgb)), guide=cutout.CutoutGuide(incontext.padded_box(truth))
    )
    assert result.method == "guided"


@pytest.mark.parametrize("content", [None, b"\x00garbage, not a protobuf\xff" * 50])
def test_a_missing_or_broken_model_is_refused_with_its_code(tmp_path, settings, content):
    path = tmp_path / "model.onnx"
    if content is not None:
        path.write_bytes(content)
    settings.SHOPVIDEO_CUTOUT_MODEL = str(path)
    rgb, _ = _bottle_on_wood()
    with pytest.raises(cutout.CutoutModelUnavailable) as err:
        cutout.compute_cutout(ingest_photo(incontext.jpeg(rgb)))
    assert err.value.code == "cutout_model_unavailable"
    # bad input to the job service: the job fails with the code at once, never retried
    assert isinstance(err.value, BadInputError) and not err.value.transient


@pytest.mark.parametrize("content", [None, b"\x00garbage" * 50])
def test_manage_py_check_reports_an_unusable_model(tmp_path, settings, content):
    path = tmp_path / "model.onnx"
    if content is not None:
        path.write_bytes(content)
    settings.SHOPVIDEO_CUTOUT_MODEL = str(path)
    with pytest.raises(SystemCheckError) as err:
        call_command("check")
    assert "shopvideo.E001" in str(err.value) and "cutout_model_unavailable" in str(err.value)


def test_manage_py_check_accepts_a_usable_model(blue_model, capsys):
    call_command("check")
    assert "no issues" in capsys.readouterr().out
