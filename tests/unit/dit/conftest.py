import numpy as np
import pytest
import torch

from generation.engines.base import RenderRequest
from generation.pipeline.layout import plan_layout
from generation.presets import MARKETS_BY_SLUG, SCENES_BY_SLUG, scene_palette
from tests import synthetic

from .tiny_wan import save_tiny_model


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    # The machine is shared; the tiny model gains nothing from more threads.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """(folder, in-memory pipeline): a tiny Wan VACE model saved with save_pretrained, as an operator would."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny-wan") / "model")


@pytest.fixture
def make_request():
    def make(width=96, height=160, frames=9, look=None, category="other", motion="pan", seed=0, steps=2, **kw):
        image, mask = synthetic.product_on_white(width=180, height=220, seed=seed)
        photo = np.array(image)
        mask_u8 = mask.astype(np.uint8) * 255
        market = MARKETS_BY_SLUG["us"]
        scene = SCENES_BY_SLUG[market.scenes[0]]
        look_preset = None
        if look:
            look_preset = next(lk for lk in market.looks if lk.slug == look)
        plan = plan_layout(mask=mask_u8, frame_size=(width, height), frames=frames, motion=motion, seed=seed)
        return RenderRequest(
            photo_rgb=photo,
            mask=mask_u8,
            layout=plan,
            width=width,
            height=height,
            fps=16,
            frames=frames,
            market=market,
            scene=scene,
            palette=scene_palette(market, scene),
            look=look_preset,
            product_title="Red bottle",
            product_category=category,
            seed=seed,
            steps=steps,
            **kw,
        )

    return make
