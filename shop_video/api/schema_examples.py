"""Examples and error responses shown in the OpenAPI schema of /api/v1/ (documentation only, no behaviour)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from . import serializers as s

EXAMPLE_TIME = "2026-11-25T10:00:00Z"
PHOTO_EXAMPLE = {
    "id": 311,
    "product": 42,
    "original_name": "bottle-front.png",
    "width": 1200,
    "height": 1600,
    "checksum": "9f2c…",
    "mask_source": "alpha",
    "cutout_method": "alpha",
    "cutout_confidence": 1.0,
    "cutout_needs_review": False,
    "file_url": "https://shop.example/files/signed/eyJrIjoicCJ9:1tQ…",
    "mask_url": "https://shop.example/files/signed/eyJrIjoicCJ9:1tR…",
    "created_at": EXAMPLE_TIME,
}
PRODUCT_EXAMPLE = {
    "id": 42,
    "title": "Amber glass bottle",
    "sku": "AGB-100",
    "category": "home",
    "price": "19.90",
    "currency": "EUR",
    "photo_ids": [311, 312],
    "photos": [
        {
            "id": 311,
            "original_name": "bottle-front.png",
            "width": 1200,
            "height": 1600,
            "mask_source": "alpha",
            "cutout_needs_review": False,
        },
        {
            "id": 312,
            "original_name": "bottle-side.jpg",
            "width": 1500,
            "height": 1500,
            "mask_source": "segmented",
            "cutout_needs_review": False,
        },
    ],
    "localized_titles": {
        "de": {"title": "Braunglasflasche", "cta": ""},
        "ja": {"title": "琥珀色のガラスボトル", "cta": "今すぐチェック"},
    },
    "created_at": EXAMPLE_TIME,
    "updated_at": EXAMPLE_TIME,
}
BATCH_EXAMPLE = {
    "id": 7,
    "name": "Amber glass bottle",
    "source": "api",
    "job_count": 2,
    "counts": {"queued": 1, "running": 1, "succeeded": 0, "failed": 0, "canceled": 0},
    "progress": 0.2,
    "finished": False,
    "created_at": EXAMPLE_TIME,
}
VIDEO_EXAMPLE = {
    "id": 90,
    "job": 1001,
    "batch": 7,
    "product": 42,
    "photo": 311,
    "market": "us",
    "scene": "studio-sweep",
    "aspect_ratio": "9:16",
    "resolution": "480p",
    "engine": "compositor",
    "width": 480,
    "height": 832,
    "fps": 16,
    "frames": 81,
    "duration_seconds": 5.0625,
    "size_bytes": 912345,
    "qa": {"passed": True, "psnr_min": 41.2, "psnr_mean": 44.9, "ssim_min": 0.981, "edge_iou": 0.97, "flicker": 0.4},
    "review": "ready",
    "delivered": True,
    "download_url": "https://shop.example/files/signed/eyJrIjoidiJ9:1tS…",
    "download_expires_in": 900,
    "poster_url": "https://shop.example/files/signed/eyJrIjoidiJ9:1tT…",
    "export_check": {"platform": "tiktok", "enforced": True, "passed": True, "violations": []},
    "created_at": EXAMPLE_TIME,
}
JOB_EXAMPLE = {
    "id": 1001,
    "batch": 7,
    "format": "single",
    "product": 42,
    "photo": 311,
    "market": "us",
    "scene": "studio-sweep",
    "model_look": None,
    "aspect_ratio": "9:16",
    "resolution": "480p",
    "seconds": 5,
    "fps": 16,
    "engine": "compositor",
    "seed": 1234,
    "platform": "tiktok",
    "captions": {"enabled": True, "price": True, "cta": False},
    "audio": None,
    "storyboard": None,
    "credits": 5,
    "state": "running",
    "progress": 0.4,
    "stage": "render",
    "attempt": 1,
    "max_attempts": 3,
    "error": None,
    "video": None,
    "created_at": EXAMPLE_TIME,
    "queued_at": EXAMPLE_TIME,
    "started_at": EXAMPLE_TIME,
    "finished_at": None,
}
JOB_DONE_EXAMPLE = {
    **JOB_EXAMPLE,
    "state": "succeeded",
    "progress": 1.0,
    "stage": "done",
    "finished_at": EXAMPLE_TIME,
    "video": VIDEO_EXAMPLE,
}
JOB_REQUEST_EXAMPLE = {
    "product": 42,
    "markets": ["us", "de"],
    "scenes": [],
    "model_looks": [],
    "aspect_ratios": ["1:1", "4:5"],
    "seconds": [5, 10],
    "resolution": "480p",
    "engine": "compositor",
    "platform": "shopify",
    "captions": {"enabled": True, "price": True, "cta": False},
}
AD_REQUEST_EXAMPLE = {
    "format": "ad",
    "product": 42,
    "photos": [311, 312],
    "market": "us",
    "platform": "tiktok",
    "aspect_ratio": "9:16",
    "seconds": 15,
    "resolution": "480p",
    "audio": 5,
    "seed": 7,
}
AD_STORYBOARD_EXAMPLE = {
    "engine": "compositor",
    "market": "us",
    "platform": "tiktok",
    "aspect_ratio": "9:16",
    "resolution": "480p",
    "width": 480,
    "height": 832,
    "fps": 16,
    "frames": 240,
    "seconds": 15.0,
    "seed": 7,
    "shots": [
        {"kind": "hero", "photo": 0, "start": 0, "end": 52, "motion": "orbit", "scene": "studio-sweep",
         "look": None, "seed": 81723, "transition_in": "cut", "window": None},
        {"kind": "angle", "photo": 1, "start": 52, "end": 93, "motion": "reveal", "scene": "studio-sweep",
         "look": None, "seed": 55120, "transition_in": "cut", "window": None},
        {"kind": "scene", "photo": 0, "start": 99, "end": 141, "motion": "pan", "scene": "living-room",
         "look": None, "seed": 90311, "transition_in": "crossfade", "window": None},
        {"kind": "endcard", "photo": 0, "start": 149, "end": 240, "motion": "settle", "scene": "studio-sweep",
         "look": None, "seed": 7, "transition_in": "white", "window": None},
    ],
    "transitions": [{"kind": "crossfade", "start": 93, "end": 99}, {"kind": "white", "start": 141, "end": 149}],
    "endcard": {"title": "Runner", "price": "$89.00", "cta": "Shop now", "language": "en", "direction": "ltr"},
    "label_rect": None,
    "beats": [0.6, 1.2, 1.8],
    "photo_ids": [311, 312],
    "audio": 5,
}  # fmt: skip
AD_ESTIMATE_EXAMPLE = {"credits": 15, "videos": 1, "seconds": 15.0, "storyboard": AD_STORYBOARD_EXAMPLE}
MARKET_EXAMPLE = {
    "slug": "us",
    "name": "United States",
    "locale": "en_US",
    "currency": "USD",
    "caption_language": "en",
    "direction": "ltr",
    "platforms": ["tiktok", "reels", "amazon", "shopify"],
    "aspect_ratios": ["9:16", "16:9", "1:1", "4:5"],
    "scenes": ["studio-sweep", "marble-counter"],
    "model_looks": [{"slug": "casual", "name": "Casual", "descriptors": "adult, casual knitwear", "own": False}],
}
SCENE_EXAMPLE = {
    "slug": "studio-sweep",
    "name": "Studio sweep",
    "style": "studio",
    "prompt": "seamless studio sweep, soft key light",
    "palette": ["#f4f4f2", "#d9d9d6", "#b9b9b4"],
}


def page_of(item: dict) -> dict:
    return {"next": "https://shop.example/api/v1/…?cursor=cD0xMjM%3D", "previous": None, "results": [item]}


def example(
    name: str, value, *, request: bool = False, response: bool = True, status_codes=None, media_type=None
) -> OpenApiExample:
    return OpenApiExample(
        name,
        value=value,
        request_only=request and not response,
        response_only=response and not request,
        status_codes=status_codes,
        media_type=media_type or "application/json",
    )


MULTIPART = "multipart/form-data"


def error_response(description: str, code: str, message: str, fields: dict | None = None) -> OpenApiResponse:
    return OpenApiResponse(
        s.ErrorSerializer,
        description=description,
        examples=[example(code, {"error": {"code": code, "message": message, "fields": fields or {}}})],
    )
