"""The six scene painters. Each paints its canvas once per video, in float32 RGB 0..255, from the market palette.

Palettes come ordered light → dark for most styles (presets.py); painters use the lightest colours for walls and
backdrops, the mid tone for surfaces and the darkest for detail (veins, grain, furniture), so the same scene reads
differently per market. Everything random comes from one numpy Generator seeded by the request's seed.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .base import LightSpec, SceneGeometry, SceneLayers, darken, hex_to_rgb, lighten, luminance, mix, to_uint8
from .noise import fbm, smoothstep, soft_blur, value_noise

Painter = Callable[[SceneGeometry, list[np.ndarray], np.random.Generator, str], SceneLayers]

_FALLBACK = ("#f4f4f2", "#d9d9d6", "#b9b9b4")


def _palette(colours: tuple[str, ...] | list[str]) -> list[np.ndarray]:
    rgb = [hex_to_rgb(c) for c in colours] or [hex_to_rgb(c) for c in _FALLBACK]
    while len(rgb) < 3:  # painters use three tones: derive missing ones from the last
        rgb.append(darken(rgb[-1], 0.18))
    return rgb


def _shadow_tint(floor: np.ndarray, depth: float = 0.55) -> np.ndarray:
    """A shadow takes the colour of the surface it falls on, darker and a little more saturated."""
    c = np.clip(floor / 255.0, 0.05, 1.0)
    return (1.0 - depth) * c**1.4 / max(float(c.max()), 1e-3)


def _drift(geo: SceneGeometry, rng: np.random.Generator, anchor: tuple[float, float], span: float) -> tuple:
    """Start and end of a light patch drifting slowly (`span` of the view width over the whole video)."""
    angle = rng.uniform(-0.5, 0.5) + (0.0 if rng.random() < 0.5 else np.pi)
    dx, dy = np.cos(angle) * span * geo.view_w / 2, np.sin(angle) * span * geo.view_w / 2
    return (anchor[0] - dx, anchor[1] - dy), (anchor[0] + dx, anchor[1] + dy)


def _grade(image: np.ndarray, rng: np.random.Generator, geo: SceneGeometry, amount: float) -> np.ndarray:
    """Very low-frequency tonal unevenness, as on real paper, plaster or stone; keeps surfaces from looking CG-flat."""
    blotch = value_noise(rng, (geo.width, geo.height), (geo.width / geo.view_w * 2.5, geo.height / geo.view_h * 2.5))
    return image * (1.0 + amount * blotch)[..., None]


# ---------------------------------------------------------------- studio


def paint_studio(geo: SceneGeometry, pal: list[np.ndarray], rng: np.random.Generator, variant: str) -> SceneLayers:
    """A seamless paper sweep: wall curving into floor behind the product, a key light from above one side."""
    light, mid, dark = pal[0], pal[1], pal[2]
    y, x = geo.rows(), geo.cols()
    ph = geo.product_h
    cove = geo.floor_y - 0.30 * ph  # where the paper bends from wall to floor
    bend = smoothstep(cove - 0.28 * ph, cove + 0.22 * ph, y)
    top = geo.view_y
    wall = mix(mix(dark, mid, 0.55), lighten(light, 0.15), smoothstep(top - 0.2 * geo.view_h, cove, y))
    floor = mix(lighten(light, 0.25), mid, smoothstep(geo.floor_y, geo.view_y + geo.view_h * 1.25, y) * 0.8)
    image = mix(wall, floor, bend)
    # The bend catches less light than the flat parts: a soft darker band, as on a real sweep.
    image = image * (1.0 - 0.05 * np.exp(-(((y - cove) / (0.12 * ph)) ** 2)))[..., None]
    side = -1.0 if rng.random() < 0.5 else 1.0
    kx = geo.product_x + side * 0.35 * geo.view_w
    ky = cove - 0.45 * ph
    d2 = ((x - kx) ** 2 + ((y - ky) * 1.2) ** 2) / (0.75 * max(geo.view_w, geo.view_h)) ** 2
    image = image * (0.84 + 0.22 * np.exp(-d2))[..., None]  # key light falloff
    image = _grade(image, rng, geo, 0.012)
    image = soft_blur(image, 0.6)
    start, end = _drift(geo, rng, (kx, ky + 0.2 * ph), 0.25)
    return SceneLayers(
        base=to_uint8(image),
        light=LightSpec(start, end, radius=0.45 * geo.view_w, amount=0.07, tint=(1.0, 0.985, 0.955)),
        shadow_tint=_shadow_tint(floor[min(int(geo.floor_y), geo.height - 1), 0]),
        shadow_strength=0.62,
        vignette=0.18,
    )


# ---------------------------------------------------------------- gradient


def paint_gradient(geo: SceneGeometry, pal: list[np.ndarray], rng: np.random.Generator, variant: str) -> SceneLayers:
    """A smooth three-stop backdrop with soft colour clouds and a glow behind the product."""
    a, b, c = pal[0], pal[1], pal[2]
    y, x = geo.rows(), geo.cols()
    angle = rng.uniform(-0.45, 0.45)
    u = ((x - geo.view_x) / geo.view_w * np.sin(angle) + (y - geo.view_y) / geo.view_h * np.cos(angle)).astype(
        np.float32
    )
    u = u + 0.12 * value_noise(rng, (geo.width, geo.height), (2.0, 3.0))
    first = smoothstep(-0.1, 0.6, u)
    second = smoothstep(0.55, 1.25, u)
    image = mix(mix(lighten(a, 0.1), b, first), lighten(c, 0.15), second * 0.85)
    gx, gy = geo.product_x, geo.floor_y - 0.55 * geo.product_h
    d2 = ((x - gx) ** 2 + (y - gy) ** 2) / (0.55 * max(geo.view_w, geo.view_h)) ** 2
    image = mix(image, lighten(a, 0.55), 0.45 * np.exp(-d2))
    # A hint of a floor: slightly deeper tone below where the product stands, so it does not float.
    image = (
        image
        * (1.0 - 0.07 * smoothstep(geo.floor_y - 0.1 * geo.product_h, geo.floor_y + 0.5 * geo.product_h, y))[..., None]
    )
    image = _grade(image, rng, geo, 0.01)
    start, end = _drift(geo, rng, (gx, gy), 0.3)
    return SceneLayers(
        base=to_uint8(image),
        light=LightSpec(start, end, radius=0.5 * geo.view_w, amount=0.06),
        shadow_tint=_shadow_tint(b),
        shadow_strength=0.5,
        vignette=0.14,
    )


# ---------------------------------------------------------------- surfaces in perspective (marble, wood)


def _surface_geometry(geo: SceneGeometry, back_edge: float) -> tuple[np.ndarray, float, float]:
    """The tabletop's trapezoid on the canvas (texture top → back edge), and its width at back edge and floor line."""
    cx = geo.width / 2.0
    vanish = back_edge - 1.3 * geo.view_h  # a camera a little above the table, looking slightly down
    half_top = 0.62 * geo.width
    half_bottom = half_top * (geo.height - vanish) / (back_edge - vanish)
    quad = np.float32(
        [
            [cx - half_top, back_edge],
            [cx + half_top, back_edge],
            [cx + half_bottom, geo.height],
            [cx - half_bottom, geo.height],
        ]
    )
    at_floor = half_top * (geo.floor_y - vanish) / (back_edge - vanish)
    return quad, 2 * half_top, 2 * at_floor


def _texture_size(geo: SceneGeometry, back_edge: float) -> tuple[tuple[int, int], np.ndarray]:
    quad, _, width_at_floor = _surface_geometry(geo, back_edge)
    # One texel per frame pixel where the product stands (sharp in focus); foreshortened 1.8× in depth.
    tex_w = int(min(width_at_floor, 2.6 * geo.width))
    tex_h = int(min(1.8 * (geo.height - back_edge) * tex_w / max(width_at_floor, 1.0), 2.0 * geo.height)) + 8
    return (tex_w, max(tex_h, 16)), quad


def _lay_surface(texture: np.ndarray, quad: np.ndarray, geo: SceneGeometry, back_edge: float) -> np.ndarray:
    tex_h, tex_w = texture.shape[:2]
    src = np.float32([[0, 0], [tex_w, 0], [tex_w, tex_h], [0, tex_h]])
    matrix = cv2.getPerspectiveTransform(src, quad)
    surface = cv2.warpPerspective(
        texture, matrix, (geo.width, geo.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    # Depth of field: the far part of the table goes soft; in focus where the product stands.
    y = geo.rows()
    far = 1.0 - smoothstep(back_edge, geo.floor_y, y)
    blurred = soft_blur(surface, 0.012 * geo.view_w)
    return mix(surface, blurred, np.broadcast_to(far, (geo.height, 1)) * 0.9)


def _back_wall(geo: SceneGeometry, colour: np.ndarray, rng: np.random.Generator, back_edge: float) -> np.ndarray:
    y = geo.rows()
    rise = smoothstep(back_edge, geo.view_y - 0.3 * geo.view_h, y)
    wall = mix(colour, darken(colour, 0.16), rise) * np.ones((1, geo.width, 1), np.float32)
    wall = _grade(wall, rng, geo, 0.04)
    return soft_blur(wall, 0.02 * geo.view_w)


def _join(wall: np.ndarray, surface: np.ndarray, geo: SceneGeometry, back_edge: float) -> np.ndarray:
    y = geo.rows()
    on_surface = smoothstep(back_edge - 0.8, back_edge + 0.8, y)
    image = mix(wall, surface, np.broadcast_to(on_surface, (geo.height, 1)))
    # Contact shade where wall meets table, and the table's back edge catching a line of light.
    shade = 1.0 - 0.12 * np.exp(-np.maximum(back_edge - y, 0) / (0.02 * geo.view_h)) * (y < back_edge)
    edge = 1.0 + 0.05 * np.exp(-(((y - back_edge - 2.0) / 2.0) ** 2))
    return image * (shade * edge)[..., None]


def _streaks(rng: np.random.Generator, size: tuple[int, int], angle: float, cells: tuple[float, float]) -> np.ndarray:
    """fBm stretched along `angle` (radians): `cells` (along, across) noise cells per texture width."""
    width, height = size
    side = int(np.ceil(np.hypot(width, height) / 2)) + 2  # generated at half resolution: it is smooth anyway
    field = fbm(rng, (side, side), cells, octaves=6)
    centre = (side - 1) / 2.0
    # Inverse map (output px → field px): rotate and halve around the centres of both.
    rot = cv2.getRotationMatrix2D((0.0, 0.0), float(np.degrees(angle)), 0.5)
    rot[:, 2] = np.array([centre, centre]) - rot[:, :2] @ np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    return cv2.warpAffine(field, rot, (width, height), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP)


def paint_marble(geo: SceneGeometry, pal: list[np.ndarray], rng: np.random.Generator, variant: str) -> SceneLayers:
    """A veined marble counter in perspective against a soft, out-of-focus wall."""
    base, cloud_tone, vein_tone = pal[0], pal[1], pal[2]
    back_edge = geo.floor_y - 0.32 * geo.product_h
    (tw, th), quad = _texture_size(geo, back_edge)
    cells = (tw / 420.0, th / 420.0)
    cloud = fbm(rng, (tw, th), (cells[0] * 0.8, cells[1] * 0.8), octaves=4)
    # Veins are the zero crossings of noise stretched along one direction: long, meandering, branching lines.
    main = np.abs(_streaks(rng, (tw, th), rng.uniform(-0.7, 0.7), (tw / 900.0, tw / 260.0)))
    hair = np.abs(_streaks(rng, (tw, th), rng.uniform(-0.9, 0.9), (tw / 600.0, tw / 140.0)))
    fade1 = smoothstep(-0.5, 0.4, value_noise(rng, (tw, th), (cells[0] * 1.2, cells[1] * 1.2)))
    fade2 = smoothstep(0.0, 0.6, value_noise(rng, (tw, th), (cells[0] * 2.5, cells[1] * 2.5)))
    v1, v2 = 1.0 - np.minimum(main * 2.0, 1.0), 1.0 - np.minimum(hair * 2.0, 1.0)
    core = v1**50 * 0.8 + v1**9 * 0.2  # a fine dark line inside a soft halo
    vein = np.clip(core * fade1 + v2**90 * 0.45 * fade2, 0, 1)
    stone = mix(lighten(base, 0.25), cloud_tone, np.clip(0.25 + 0.4 * cloud, 0, 1) * 0.5)
    stone = mix(stone, vein_tone, vein * 0.9)
    stone = cv2.GaussianBlur(stone, (0, 0), 0.7)  # polished stone: veins are soft-edged, never aliased
    surface = _lay_surface(stone, quad, geo, back_edge)
    wall = _back_wall(geo, lighten(base, 0.08), rng, back_edge)
    image = _join(wall, surface, geo, back_edge)
    side = -1.0 if rng.random() < 0.5 else 1.0
    # Daylight from a window to one side: brighter on that half, falling off across the set.
    x = geo.cols()
    image = image * (1.0 + 0.07 * np.tanh(side * (x - geo.product_x) / (0.5 * geo.view_w)))[..., None]
    start, end = _drift(geo, rng, (geo.product_x + side * 0.3 * geo.view_w, back_edge), 0.25)
    return SceneLayers(
        base=to_uint8(image),
        light=LightSpec(start, end, radius=0.5 * geo.view_w, amount=0.08, tint=(0.98, 0.995, 1.02)),
        shadow_tint=_shadow_tint(cloud_tone),
        shadow_strength=0.6,
        vignette=0.14,
    )


def paint_wood(geo: SceneGeometry, pal: list[np.ndarray], rng: np.random.Generator, variant: str) -> SceneLayers:
    """Wooden planks running away from the camera (they converge), grain and seams, a warm soft wall behind."""
    light, mid, dark = pal[0], pal[1], pal[2]
    back_edge = geo.floor_y - 0.30 * geo.product_h
    (tw, th), quad = _texture_size(geo, back_edge)
    plank_w = max(24.0, tw / rng.uniform(6.5, 9.0))
    count = int(np.ceil(tw / plank_w)) + 1
    tx = np.arange(tw, dtype=np.float32)[None, :]
    ty = np.arange(th, dtype=np.float32)[:, None]
    index = np.minimum((tx // plank_w).astype(np.int32), count - 1)
    local = tx - index * plank_w
    tone = rng.uniform(0.0, 1.0, count).astype(np.float32)
    bright = rng.uniform(0.93, 1.06, count).astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, count).astype(np.float32)
    t = tone[:, None] * 0.85
    colours = ((light * (1.0 - t) + mid * t) * bright[:, None]).astype(np.float32)
    wood = np.broadcast_to(colours[index[0]][None], (th, tw, 3)).copy()
    # Grain: rings along the plank, bent by noise stretched along its length.
    bend = value_noise(rng, (tw, th), (tw / 40.0, th / 500.0)) + 0.5 * value_noise(
        rng, (tw, th), (tw / 12.0, th / 160.0)
    )
    rings = np.sin(local / plank_w * 2 * np.pi * rng.uniform(1.6, 2.6) + 2.2 * bend + phase[index])
    grain = (0.5 + 0.5 * rings) ** 5
    fibre = value_noise(rng, (tw, th), (tw / 2.5, th / 60.0))
    wood = mix(wood, dark, np.clip(grain * 0.38 + 0.05 * fibre, 0, 1))
    # Seams between planks and staggered end joints.
    seam = np.exp(-((np.minimum(local, plank_w - local) / 1.1) ** 2))
    joint_len = rng.uniform(0.8, 1.6, count).astype(np.float32) * th * 0.7
    joint_off = rng.uniform(0, 1, count).astype(np.float32) * joint_len
    along = np.mod(ty + joint_off[index], joint_len[index])
    joint = np.exp(-((np.minimum(along, joint_len[index] - along) / 1.2) ** 2))
    wood = mix(wood, darken(dark, 0.35), np.clip(np.maximum(seam, joint) * 0.7, 0, 1))
    wood = cv2.GaussianBlur(wood, (0, 0), 0.6)
    surface = _lay_surface(wood, quad, geo, back_edge)
    wall = _back_wall(geo, mix(lighten(light, 0.45), mid, 0.15), rng, back_edge)
    image = _join(wall, surface, geo, back_edge)
    side = -1.0 if rng.random() < 0.5 else 1.0
    x = geo.cols()
    image = image * (1.0 + 0.06 * np.tanh(side * (x - geo.product_x) / (0.5 * geo.view_w)))[..., None]
    start, end = _drift(geo, rng, (geo.product_x + side * 0.25 * geo.view_w, back_edge - 0.2 * geo.product_h), 0.3)
    return SceneLayers(
        base=to_uint8(image),
        light=LightSpec(start, end, radius=0.45 * geo.view_w, amount=0.09, tint=(1.02, 0.99, 0.94)),
        shadow_tint=_shadow_tint(mid, 0.6),
        shadow_strength=0.6,
        vignette=0.16,
    )


# ---------------------------------------------------------------- bokeh


def paint_bokeh(geo: SceneGeometry, pal: list[np.ndarray], rng: np.random.Generator, variant: str) -> SceneLayers:
    """Out of focus outdoors: a blurred colour field, a soft ledge to stand on, and bokeh discs that drift."""
    ordered = sorted(pal, key=luminance)
    deep, lights = ordered[0], ordered[1:]
    y = geo.rows()
    size = (geo.width, geo.height)
    unit = (geo.width / geo.view_w, geo.height / geo.view_h)
    field = fbm(rng, size, (unit[0] * 3, unit[1] * 4), octaves=3)
    patches = smoothstep(-0.15, 0.35, fbm(rng, size, (unit[0] * 5, unit[1] * 7), octaves=3))
    sky = smoothstep(geo.floor_y - 0.2 * geo.product_h, geo.view_y, y)
    image = mix(deep, mix(deep, lights[0], 0.55), np.clip(0.5 + 0.5 * field, 0, 1))
    image = mix(image, lights[-1] * 0.5 + deep * 0.5, patches * 0.35)
    image = mix(image, lighten(lights[0], 0.2), sky * 0.25)
    image = soft_blur(image, 0.035 * geo.view_w)
    # The ledge the product stands on: nearer, so less blurred; a light rim at its back edge.
    back_edge = geo.floor_y - 0.22 * geo.product_h
    ledge_colour = mix(deep, lights[-1], 0.45)
    ledge = ledge_colour * (1.0 + 0.05 * value_noise(rng, size, (unit[0] * 12, unit[1] * 20)))[..., None]
    ledge = mix(ledge, darken(ledge_colour, 0.3), smoothstep(geo.floor_y, geo.view_y + 1.2 * geo.view_h, y))
    ledge = soft_blur(ledge, 0.004 * geo.view_w)
    on_ledge = smoothstep(back_edge - 1.5, back_edge + 1.5, y)
    image = mix(image, ledge, np.broadcast_to(on_ledge, (geo.height, 1)))
    image = image * (1.0 + 0.06 * np.exp(-(((y - back_edge - 2.5) / 2.5) ** 2)))[..., None]

    # Glow layer (additive, half resolution): discs of the palette's light colours, with the brighter rim of a lens.
    scale = 0.5
    gw, gh = int(geo.width * scale) + 1, int(geo.height * scale) + 1
    glow = np.zeros((gh, gw, 3), np.float32)
    strength = 0.35 + 0.65 * (1.0 - luminance(deep))  # bright scenes get subtler discs (no clipping to white)
    count = int(28 * geo.width * geo.height / (geo.view_w * geo.view_h))
    for _ in range(count):
        r = float(np.exp(rng.uniform(np.log(0.018), np.log(0.07)))) * min(geo.view_w, geo.view_h) * scale
        cx = rng.uniform(0, gw)
        cy = rng.uniform(0, back_edge * scale - 1.2 * r)  # behind the ledge, never in front of it
        colour = lights[rng.integers(len(lights))] * rng.uniform(0.12, 0.38) * strength
        # Each disc is drawn on its own small patch and added, so overlapping discs add up like light does.
        x0, y0 = max(0, int(cx - r) - 2), max(0, int(cy - r) - 2)
        x1, y1 = min(gw, int(cx + r) + 3), min(gh, int(cy + r) + 3)
        if x1 <= x0 or y1 <= y0:
            continue
        disc = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
        centre = (round((cx - x0) * 4), round((cy - y0) * 4))
        cv2.circle(disc, centre, round(r * 4), colour.tolist(), -1, cv2.LINE_AA, shift=2)
        cv2.circle(disc, centre, round(r * 4), (colour * 1.35).tolist(), max(1, round(r * 0.12)), cv2.LINE_AA, shift=2)
        glow[y0:y1, x0:x1] += disc
    glow = cv2.GaussianBlur(glow, (0, 0), 1.2)
    drift = (rng.uniform(-0.05, 0.05) * geo.view_w, -rng.uniform(0.02, 0.05) * geo.view_h)
    start, end = _drift(geo, rng, (geo.product_x, geo.floor_y - 0.7 * geo.product_h), 0.35)
    return SceneLayers(
        base=to_uint8(image),
        light=LightSpec(start, end, radius=0.55 * geo.view_w, amount=0.06, tint=(1.02, 1.0, 0.96)),
        shadow_tint=_shadow_tint(ledge_colour, 0.5),
        shadow_strength=0.55,
        vignette=0.2,
        glow=to_uint8(glow),
        glow_scale=scale,
        glow_drift=drift,
    )


# ---------------------------------------------------------------- room


def _rect(
    canvas: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour: np.ndarray, radius: float = 0
) -> None:
    """A filled, anti-aliased (rounded) rectangle, drawn in place."""
    c = colour.tolist()
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    p = [round(v * 4) for v in (x0, y0, x1, y1)]
    r = round(min(radius, (x1 - x0) / 2, (y1 - y0) / 2) * 4)
    if r <= 0:
        cv2.rectangle(canvas, (p[0], p[1]), (p[2], p[3]), c, -1, cv2.LINE_AA, shift=2)
        return
    cv2.rectangle(canvas, (p[0] + r, p[1]), (p[2] - r, p[3]), c, -1, cv2.LINE_AA, shift=2)
    cv2.rectangle(canvas, (p[0], p[1] + r), (p[2], p[3] - r), c, -1, cv2.LINE_AA, shift=2)
    for cx, cy in ((p[0] + r, p[1] + r), (p[2] - r, p[1] + r), (p[0] + r, p[3] - r), (p[2] - r, p[3] - r)):
        cv2.circle(canvas, (cx, cy), r, c, -1, cv2.LINE_AA, shift=2)


def paint_room(geo: SceneGeometry, pal: list[np.ndarray], rng: np.random.Generator, variant: str) -> SceneLayers:
    """A lifestyle room behind a table: wall, window light, furniture silhouettes, all out of focus."""
    wall_c, table_c, furniture_c = pal[0], pal[1], pal[2]
    y = geo.rows()
    vx, vy, vw, vh = geo.view_x, geo.view_y, geo.view_w, geo.view_h
    back_edge = geo.floor_y - 0.28 * geo.product_h
    flip = rng.random() < 0.5

    def at(u: float) -> float:  # horizontal position in view units, mirrored for half the seeds
        return vx + (1.0 - u if flip else u) * vw

    room = (
        mix(wall_c, darken(wall_c, 0.12), smoothstep(back_edge, vy - 0.2 * vh, y)) * np.ones((1, geo.width, 1))
    ).astype(np.float32)
    room = _grade(room, rng, geo, 0.03)
    skirting = back_edge - 0.04 * vh
    _rect(room, 0, skirting, geo.width, geo.height, darken(mix(wall_c, table_c, 0.5), 0.1))
    # Window: bright panes with mullions; its light falls as a skewed patch on the wall beside it.
    wx0, wx1 = sorted((at(0.6), at(0.95)))
    wy0, wy1 = vy + 0.06 * vh, back_edge - 0.2 * vh
    sky = lighten(mix(wall_c, np.array([200, 220, 240], np.float32), 0.35), 0.6)
    _rect(room, wx0 - 0.015 * vw, wy0 - 0.015 * vw, wx1 + 0.015 * vw, wy1 + 0.015 * vw, lighten(wall_c, 0.3))
    _rect(room, wx0, wy0, wx1, wy1, sky)
    bar = 0.012 * vw
    _rect(room, (wx0 + wx1) / 2 - bar / 2, wy0, (wx0 + wx1) / 2 + bar / 2, wy1, lighten(wall_c, 0.2))
    _rect(room, wx0, (wy0 + wy1) / 2 - bar / 2, wx1, (wy0 + wy1) / 2 + bar / 2, lighten(wall_c, 0.2))
    patch = np.zeros((geo.height, geo.width), np.float32)
    shear = (-1.0 if flip else 1.0) * 0.35 * vw
    pts = np.float32([[wx0, wy1], [wx1, wy1], [wx1 - shear, back_edge], [wx0 - shear, back_edge]]) * 4
    cv2.fillConvexPoly(patch, pts.astype(np.int32), 1.0, cv2.LINE_AA, shift=2)
    room = mix(room, lighten(wall_c, 0.35), cv2.GaussianBlur(patch, (0, 0), 0.02 * vw) * 0.5)
    if "kitchen" in variant:
        # Tiled splashback and a row of wall cabinets.
        tile = 0.06 * vw
        ty0 = back_edge - 0.22 * vh
        yy, xx = np.mgrid[0 : geo.height, 0 : geo.width].astype(np.float32)
        grout = (
            (np.minimum(np.mod(xx, tile), np.mod(yy - ty0, tile)) < max(1.0, 0.06 * tile))
            & (yy > ty0)
            & (yy < skirting)
        )
        room[grout] = darken(room[grout], 0.1)
        cab = darken(mix(furniture_c, wall_c, 0.3), 0.05)
        for u0 in (0.02, 0.2, 0.38):
            _rect(room, at(u0), vy - 0.1 * vh, at(u0 + 0.16), ty0 - 0.1 * vh, cab, 0.01 * vw)
        _rect(room, at(0.04), ty0 + 0.05 * vh, at(0.12), skirting, darken(table_c, 0.15), 0.01 * vw)  # canister
    else:
        # Sofa with cushions, a framed picture over it, a plant, a floor lamp.
        sofa = darken(furniture_c, 0.05)
        top = back_edge - 0.17 * vh
        _rect(room, at(-0.1), top, at(0.5), geo.height, sofa, 0.04 * vw)
        for u0 in (0.0, 0.2):
            _rect(room, at(u0), top + 0.03 * vh, at(u0 + 0.17), back_edge, lighten(sofa, 0.18), 0.03 * vw)
        _rect(room, at(0.05), top - 0.26 * vh, at(0.33), top - 0.07 * vh, darken(furniture_c, 0.35), 0.004 * vw)
        _rect(room, at(0.07), top - 0.245 * vh, at(0.31), top - 0.085 * vh, mix(table_c, wall_c, 0.4))
        leaf = mix(furniture_c, np.array([70, 110, 70], np.float32), 0.5)
        px = at(0.55)
        for _ in range(14):
            cx = px + rng.normal(0, 0.05) * vw
            cy = back_edge - rng.uniform(0.08, 0.3) * vh
            cv2.ellipse(
                room,
                (round(cx * 4), round(cy * 4)),
                (round(rng.uniform(0.02, 0.05) * vw * 4), round(rng.uniform(0.008, 0.018) * vw * 4)),
                rng.uniform(0, 180),
                0,
                360,
                (leaf * rng.uniform(0.8, 1.15)).tolist(),
                -1,
                cv2.LINE_AA,
                shift=2,
            )
        lx = at(0.97)
        _rect(room, lx - 0.004 * vw, back_edge - 0.45 * vh, lx + 0.004 * vw, back_edge, darken(furniture_c, 0.3))
        shade = lighten(mix(table_c, wall_c, 0.5), 0.4)
        _rect(room, lx - 0.07 * vw, back_edge - 0.55 * vh, lx + 0.07 * vw, back_edge - 0.45 * vh, shade, 0.01 * vw)
    room = soft_blur(room, 0.03 * vw)  # depth of field: the room is far behind the product

    # The table the product stands on: in focus near the product, softer further back.
    size = (geo.width, geo.height)
    table = table_c * (1.0 + 0.035 * fbm(rng, size, (geo.width / vw * 6, geo.height / vh * 3), octaves=3))[..., None]
    table = mix(lighten(table, 0.08), darken(table_c, 0.12), smoothstep(geo.floor_y, vy + 1.2 * vh, y))
    far = 1.0 - smoothstep(back_edge, geo.floor_y, y)
    table = mix(table, soft_blur(table, 0.01 * vw), np.broadcast_to(far, (geo.height, 1)))
    image = _join(room, table, geo, back_edge)
    start, end = _drift(geo, rng, ((wx0 + wx1) / 2 - shear / 2, back_edge - 0.1 * vh), 0.3)
    return SceneLayers(
        base=to_uint8(image),
        light=LightSpec(start, end, radius=0.5 * vw, amount=0.09, tint=(1.02, 0.995, 0.95)),
        shadow_tint=_shadow_tint(table_c, 0.6),
        shadow_strength=0.62,
        vignette=0.16,
    )


PAINTERS: dict[str, Painter] = {
    "studio": paint_studio,
    "gradient": paint_gradient,
    "marble": paint_marble,
    "wood": paint_wood,
    "bokeh": paint_bokeh,
    "room": paint_room,
}


def paint_scene(
    style: str, geometry: SceneGeometry, palette: tuple[str, ...] | list[str], seed: int, variant: str = ""
) -> SceneLayers:
    """Paint the canvas of `style`; unknown styles fall back to the studio sweep (a scene added in the database)."""
    style = style if style in PAINTERS else "studio"
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, sum(style.encode())])
    painter = PAINTERS[style]
    return painter(geometry, _palette(palette), rng, variant)
