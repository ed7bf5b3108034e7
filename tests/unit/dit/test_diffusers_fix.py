"""The installed diffusers puts reference-image latents AND their mask padding in front of the video's.

diffusers issue 11779 (fixed by pull request 11778): `prepare_masks` appended the reference frames' zero mask
padding after the video's mask while `prepare_video_latents` put the reference latents first, so mask and latents
were misaligned and reference conditioning weakened. The fix is `torch.cat([mask_padding, mask_], dim=1)`.
"""

import numpy as np
import torch
from PIL import Image


def test_reference_latent_and_mask_padding_are_both_in_front(tiny_model):
    pipe = tiny_model[1]
    frames, h, w = 9, 64, 64
    rng = np.random.default_rng(0)
    video = [Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8)) for _ in range(frames)]
    mask = [Image.new("L", (w, h), 255) for _ in range(frames)]  # all generate
    reference = Image.fromarray(np.full((40, 30, 3), (200, 30, 30), np.uint8))
    with torch.no_grad():
        v, m, refs = pipe.preprocess_conditions(video, mask, [reference], 1, h, w, frames, torch.float32, "cpu")
        with_ref = pipe.prepare_video_latents(v, m, refs, None, "cpu")
        without_ref = pipe.prepare_video_latents(v, m, [[]], None, "cpu")
        masks = pipe.prepare_masks(m, refs)
        masks_without = pipe.prepare_masks(m, [[]])
        # The reference alone through the VAE, normalised as the pipeline does.
        vae = pipe.vae
        mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
        ref_latent = (vae.encode(refs[0][0][None, :, None]).latent_dist.mode() - mean) / std

    latent_frames = (frames - 1) // 4 + 1
    assert with_ref.shape[2] == masks.shape[2] == latent_frames + 1
    z = vae.config.z_dim
    # Latents: the reference first (its latent, then zeros for the "reactive" half), the video after it.
    torch.testing.assert_close(with_ref[0, :z, 0], ref_latent[0, :, 0], rtol=1e-4, atol=1e-4)
    assert (with_ref[0, z:, 0] == 0).all()
    torch.testing.assert_close(with_ref[:, :, 1:], without_ref)
    # Mask: zero padding for the reference FIRST (the fix), the all-white video mask after it.
    assert (masks[:, :, 0] == 0).all()
    assert (masks[:, :, 1:] == 1).all()
    torch.testing.assert_close(masks[:, :, 1:], masks_without)
