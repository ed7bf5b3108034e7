"""The ad planner: deterministic for a seed, different across seeds, the platforms' rules, beats, plain data."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from generation.pipeline import ai_label
from generation.pipeline.ads import endcard, rules
from generation.pipeline.ads.photos import AdPhoto
from generation.pipeline.ads.render import render_ad
from generation.pipeline.ads.storyboard import Storyboard, plan_storyboard, snap_to_beats
from generation.pipeline.captions import CaptionContent
from generation.pipeline.errors import BadInputError
from generation.pipeline.layout import mask_bbox
from generation.pipeline.platforms import PLATFORMS
from tests import synthetic


@pytest.fixture(scope="module")
def product():
    photos, masks = [], []
    for seed, shape in enumerate(("bottle", "box")):
        image, mask = synthetic.studio_photo(shape, width=360, height=450, seed=seed)
        photos.append(np.asarray(image))
        masks.append(mask.astype(np.uint8) * 255)
    return photos, masks


def _plan(product, **kw):
    photos, masks = product
    return plan_storyboard(photos, masks, seconds=kw.pop("seconds", 10), **kw)


def _summary(board: Storyboard) -> list:
    return [(s.kind, s.photo, s.start, s.end, s.motion, s.scene) for s in board.shots]


def test_the_plan_is_the_same_for_a_seed_and_differs_across_seeds(product):
    a, b = _plan(product, seed=3), _plan(product, seed=3)
    assert _summary(a) == _summary(b)
    assert all(np.array_equal(x.placements, y.placements) for x, y in zip(a.shots, b.shots, strict=True))
    others = [_summary(_plan(product, seed=s)) for s in (4, 5)]
    assert any(o != _summary(a) for o in others)


def test_shots_fill_the_ad_without_overlapping_and_round_trip_as_json(product):
    board = _plan(product, seed=1)
    assert board.frames == 160 and board.seconds == 10.0
    assert board.shots[0].kind == "hero" and board.shots[-1].kind == "endcard" and board.shots[-1].end == 160
    spans = [(s.start, s.end) for s in board.shots] + [(t["start"], t["end"]) for t in board.transitions]
    covered = np.zeros(board.frames, int)
    for start, end in spans:
        covered[start:end] += 1
    assert (covered == 1).all()  # every frame in exactly one shot or one transition
    assert all(t["end"] - t["start"] <= 8 for t in board.transitions)
    for shot in board.shots:
        assert shot.placements.shape == (shot.frames, 2, 3)
    again = Storyboard.from_dict(json.loads(json.dumps(board.to_dict())))
    assert _summary(again) == _summary(board)
    assert all(np.allclose(x.placements, y.placements) for x, y in zip(again.shots, board.shots, strict=True))


def test_cuts_snap_to_beats_within_limits():
    assert snap_to_beats([2.0, 4.0], [2.2, 3.0, 4.5], fps=16, min_gap=1.0) == [2.2, 4.0]
    assert snap_to_beats([2.0], None, fps=16, min_gap=1.0) == [2.0]


def test_planned_cuts_land_on_beats(product):
    beats = [i * 0.5 + 0.05 for i in range(20)]
    board = _plan(product, seed=2, beats=beats)
    for shot, following in zip(board.shots, board.shots[1:]):
        cut = (shot.end + following.start) / 2 / board.fps  # the middle of the hand-over
        assert min(abs(cut - b) for b in beats) <= 1.5 / board.fps  # on a beat, to a frame or so


@pytest.mark.parametrize(
    ("platform", "aspect", "seconds", "code"),
    [("tiktok", "9:16", 12, "ad_length_not_allowed"), ("youtube", "16:9", 10, "ad_length_not_allowed"),
     ("amazon", "16:9", 60, "ad_length_not_allowed"), ("tiktok", "16:9", 15, "aspect_not_allowed")],
)  # fmt: skip
def test_platform_rules_refuse_with_a_code(platform, aspect, seconds, code):
    with pytest.raises(rules.AdRuleError) as exc:
        rules.check_ad(platform, aspect, seconds, 16)
    assert exc.value.code == code
    rules.check_ad(platform, PLATFORMS[platform].aspects[0], 15, 16)  # the same platform takes a 15 s ad


def test_make_ad_refuses_before_rendering(tmp_path):
    photo = tmp_path / "p.png"
    synthetic.studio_photo(width=120, height=150)[0].save(photo)
    with pytest.raises(CommandError, match=r"^ad_length_not_allowed: "):
        call_command("make_ad", str(photo), "--out", str(tmp_path / "ad.mp4"), "--seconds", "12")
    with pytest.raises(CommandError, match=r"^aspect_not_allowed: "):
        call_command("make_ad", str(photo), "--out", str(tmp_path / "ad.mp4"), "--platform", "youtube")
    with pytest.raises(CommandError, match=r"^bad_mask: 2 masks for 1 photos"):
        call_command("make_ad", str(photo), "--out", str(tmp_path / "ad.mp4"), "--masks", str(photo), str(photo))
    assert not list(tmp_path.glob("ad*"))


def test_music_without_the_audio_module_is_refused_with_a_code(tmp_path):
    try:
        import generation.pipeline.audio  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the audio module is here: --audio is mixed, not refused")
    photo, track = tmp_path / "p.png", tmp_path / "music.wav"
    synthetic.studio_photo(width=120, height=150)[0].save(photo)
    track.write_bytes(b"RIFF")
    with pytest.raises(CommandError, match=r"^audio_unavailable: "):
        call_command("make_ad", str(photo), "--out", str(tmp_path / "ad.mp4"), "--audio", str(track))
    assert not list(tmp_path.glob("ad*"))


def test_a_market_with_the_ai_label_keeps_a_corner_free_of_the_product_and_the_end_card(product):
    board = _plan(product, market="de", seed=1)
    assert board.label_rect is not None
    _, masks = product
    label = ai_label.LabelPlan("", "de", tuple(board.label_rect), np.zeros((1, 1, 4), np.uint8))
    for shot in board.shots:
        mask = masks[shot.photo]
        ai_label.check_clear(label, shot.placements, mask_bbox(mask), mask)
    card = endcard.plan_endcard(CaptionContent(**board.endcard), width=board.width, height=board.height,
                                platform=board.platform, label_rect=board.label_rect)  # fmt: skip
    lx0, ly0, lx1, ly1 = board.label_rect
    tx0, ty0, tx1, ty1 = card.text_rect
    assert not (lx0 < tx1 and tx0 < lx1 and ly0 < ty1 and ty0 < ly1)


def test_the_last_cut_leaves_the_end_card_its_length():
    # A beat just after the last cut would move it into the end card's least length: it stays where it was.
    assert snap_to_beats([4.0], [4.3], fps=16, min_gap=1.0, latest=4.1) == [4.0]
    assert snap_to_beats([4.0], [4.3], fps=16, min_gap=1.0, latest=4.5) == [4.3]


def test_a_storyboard_renders_only_with_the_photos_it_was_planned_for(product, tmp_path):
    board = _plan(product, seed=1)
    photos, masks = product
    others = [AdPhoto(p[:-2], m[:-2], None, "", {"needs_review": False}) for p, m in zip(photos, masks, strict=True)]
    with pytest.raises(BadInputError) as exc:
        render_ad(board, others, tmp_path / "ad.mp4")
    assert exc.value.code == "storyboard_mismatch" and not list(tmp_path.iterdir())


def test_a_model_shot_only_where_the_engine_can_draw_a_person(product):
    """The DiT draws people: its ads get a model shot, with the product small enough to leave room for the person;
    the compositor draws none, so its ads never have one."""
    for seed in range(3):
        assert "model" not in [s.kind for s in _plan(product, seed=seed, seconds=15).shots]
    dit = _plan(product, seed=0, seconds=15, engine="dit")
    model = [s for s in dit.shots if s.kind == "model"]
    assert len(model) == 1 and model[0].photo is not None
    hero = next(s for s in dit.shots if s.kind == "hero" and s.photo == model[0].photo)

    def scale(shot):  # photo pixels to frame pixels, the largest over the shot
        return float(np.abs(np.linalg.det(shot.placements[:, :, :2])).max() ** 0.5)

    assert scale(model[0]) < scale(hero)
