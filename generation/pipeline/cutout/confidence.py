"""How sure each automatic method is of its mask, 0..1, and the threshold below which a person must check it.

A wrong cutout cannot be caught by QA later (QA compares the video with our own cutout), so each method scores
what it can see of its own failure modes, and the lowest cue wins.
"""

from __future__ import annotations

import cv2
import numpy as np

# Below these a cutout is marked needs_review: held for the merchant to check before any video is delivered.
# Classical: studio shots score 0.8–1.0; a pale product that lost parts (its sharp edges left outside the mask)
# or a textured backdrop near the fit's limit falls below 0.6.
CLASSICAL_THRESHOLD = 0.6
# Guided: the merchant drew the box, so less doubt is left; product along more than 5 % of a box side (the box cut
# through clutter that the colour models took for product), more than 1 % of the product in small detached pieces
# (clutter of the product's colours kept beside it), or a silhouette mostly through flat colour (the graph cut
# guessed rather than followed an edge), scores below 0.5.
GUIDED_THRESHOLD = 0.5
# Learned: salient-object models are confident (p near 0 or 1) on what they recognise; a band of undecided
# probabilities wider than about a fifth of the product's outline means it is guessing.
LEARNED_THRESHOLD = 0.6

SHARP_ELEVATION = 8.0  # edge_strength above the backdrop's noise floor that counts as a real edge
MIN_BACKDROP_FIT = 0.6  # classical refuses below this inlier share (classical.MIN_BACKDROP_INLIERS)
GOOD_BACKDROP_FIT = 0.9  # at and above this the backdrop fit raises no doubt
# Share of a studio cutout's outline on a sharp edge: 0.99–1.0 on the real studio shots (01, 02, 05, 07); a pale
# pot whose shaded side melts into the backdrop leaves 10 % of the outline in flat colour (0.90) and scores 0.38.
OUTLINE_SHARP = 0.98
OUTLINE_GUESSED = 0.85
BOX_EDGE_PRODUCT = 0.1  # product along this share of a box side (or more) → guided confidence 0
# A piece of the guided mask under this share of its largest piece is a fragment (a second shoe of a pair, an
# earring, is not); specks under SPECK of it are noise. The six in-context cases have no fragments; the camera in
# front of mugs keeps the mug's lettering as three fragments, 1.6 % of the mask.
FRAGMENT = 0.1
SPECK = 0.001
DETACHED_PRODUCT = 0.02  # fragments holding this share of the mask (or more) → guided confidence 0


def _ring(mask: np.ndarray, radius: int) -> np.ndarray:
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    m = mask.astype(np.uint8)
    return (cv2.dilate(m, k) - cv2.erode(m, k)) > 0


def classical(fg: np.ndarray, elevation: np.ndarray, backdrop_inliers: float) -> float:
    """Three cues on the working image: the backdrop fit, stray sharp edges, a sharp silhouette.

    - backdrop fit: the share of the border a smooth backdrop explains (a textured backdrop scores low);
    - stray edges: a plain backdrop has no sharp edges, so sharp edges outside the mask are product parts the
      segmentation lost (a pale leaf on white) or clutter it cannot explain;
    - silhouette: the share of the mask's outline that lies on a sharp edge (an outline through flat colour is
      a guess: where the product melts into the backdrop, the cut went somewhere in between).
    """
    sharp = elevation > SHARP_ELEVATION
    h, w = fg.shape
    band = max(3, min(h, w) // 40)
    inner = np.zeros_like(sharp)
    inner[band:-band, band:-band] = True  # the photo's own border (crop, vignette) is not evidence
    near = cv2.dilate(fg.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    total = max(1, int((sharp & inner).sum()))
    stray = int((sharp & inner & ~near).sum()) / total
    outline = _ring(fg, 1)
    on_edge = (
        float(cv2.dilate(sharp.astype(np.uint8), np.ones((3, 3), np.uint8))[outline].mean()) if outline.any() else 0
    )
    fit = float(np.clip((backdrop_inliers - MIN_BACKDROP_FIT) / (GOOD_BACKDROP_FIT - MIN_BACKDROP_FIT), 0.0, 1.0))
    stray_score = float(np.clip(1.0 - 2.5 * stray, 0.0, 1.0))
    outline_score = float(np.clip((on_edge - OUTLINE_GUESSED) / (OUTLINE_SHARP - OUTLINE_GUESSED), 0.0, 1.0))
    return min(0.4 + 0.6 * fit, stray_score, outline_score)


def guided(fg: np.ndarray, image: np.ndarray, box: tuple[int, int, int, int], open_sides: tuple[bool, ...]) -> float:
    """Three cues on the working crop: the box's own edge, detached fragments, the outline following colour edges.

    - box edge: the merchant's box is drawn around the product, so product pixels along its inner edge mean the
      box cut through something the colour models took for product (a mug behind it, or the product itself);
      sides on the photo's border (`open_sides`: left, top, right, bottom) do not count, a product may be cut there;
    - fragments: small pieces apart from the product (lettering on a mug behind it) are clutter whose colours the
      product's colour model also fits; where the cut took those in, it usually also misplaced the outline;
    - outline: the share of the cut's outline on a visible colour edge (half of it is enough).
    """
    outline = _ring(fg, 1)
    if not outline.any():
        return 0.0
    x0, y0, x1, y1 = box
    lines = [fg[y0:y1, x0 : x0 + 2], fg[y0 : y0 + 2, x0:x1], fg[y0:y1, x1 - 2 : x1], fg[y1 - 2 : y1, x0:x1]]
    along = [line.mean() for line, open_side in zip(lines, open_sides, strict=True) if not open_side and line.size]
    box_score = float(np.clip(1.0 - max(along, default=0.0) / BOX_EDGE_PRODUCT, 0.0, 1.0))
    fragment_score = float(np.clip(1.0 - detached_share(fg) / DETACHED_PRODUCT, 0.0, 1.0))
    f = cv2.GaussianBlur(image, (0, 0), 1.0).astype(np.float32)
    gx, gy = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt((gx * gx + gy * gy).sum(-1)) / 8.0
    edge = cv2.dilate((grad > 6.0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    outline_score = float(np.clip(edge[outline].mean() / 0.5, 0.0, 1.0))
    return min(box_score, fragment_score, outline_score)


def detached_share(fg: np.ndarray) -> float:
    """The share of the mask in fragments: pieces (8-connected) between SPECK and FRAGMENT of the largest one."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    if count <= 2:
        return 0.0
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = areas.max()
    fragments = areas[(areas < FRAGMENT * largest) & (areas >= SPECK * largest)]
    return float(fragments.sum() / areas.sum())


def learned(probability: np.ndarray) -> float:
    """Undecided probabilities (0.1..0.9) against a 5 px band along the outline: as many as the band holds → 0.5."""
    fg = probability > 0.5
    outline = int(_ring(fg, 2).sum())
    if not fg.any() or outline == 0:
        return 0.0
    undecided = int(((probability > 0.1) & (probability < 0.9)).sum())
    return float(np.clip(1.0 - 0.5 * undecided / outline, 0.0, 1.0))
