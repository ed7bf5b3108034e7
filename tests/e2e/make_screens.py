"""Copy the e2e screenshots from $SHOPVIDEO_VAR_DIR/screens (var/ by default) to docs/screens/ and write
docs/screens.md. JPEGs are re-encoded smaller until each is at most 200 KB, so the docs stay light."""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(os.environ.get("SHOPVIDEO_VAR_DIR", ROOT / "var")) / "screens"
TARGET = ROOT / "docs" / "screens"
MAX_BYTES = 200 * 1024
SECTIONS = {"en": "English", "zh": "简体中文 (Simplified Chinese)", "phone": "Phone (390 px wide)"}


def small_jpeg(path: Path) -> bytes:
    image = Image.open(path).convert("RGB")
    width = min(image.width, 1280)
    for quality in (75, 65, 55, 45):
        for scale in (1.0, 0.8, 0.65, 0.5):
            w = int(width * scale)
            resized = image.resize((w, round(image.height * w / image.width)), Image.LANCZOS)
            buf = io.BytesIO()
            resized.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
            if buf.tell() <= MAX_BYTES:
                return buf.getvalue()
    return buf.getvalue()


def main() -> int:
    if not SOURCE.is_dir():
        print(f"no screenshots under {SOURCE}: run the e2e tests first (make screens)", file=sys.stderr)
        return 1
    shutil.rmtree(TARGET, ignore_errors=True)
    lines = [
        "# Screens",
        "",
        "Written by the end-to-end tests (`tests/e2e`, Chromium through Playwright) and copied here by",
        "`make screens`; regenerate them rather than editing this page.",
        "",
    ]
    for folder, title in SECTIONS.items():
        shots = sorted((SOURCE / folder).glob("*.jpg")) if (SOURCE / folder).is_dir() else []
        if not shots:
            continue
        (TARGET / folder).mkdir(parents=True, exist_ok=True)
        lines += [f"## {title}", ""]
        for shot in shots:
            (TARGET / folder / shot.name).write_bytes(small_jpeg(shot))
            name = shot.stem.split("-", 1)[-1] if shot.stem[:2].isdigit() else shot.stem
            lines += [f"### {name.replace('-', ' ')}", "", f"![{name}](screens/{folder}/{shot.name})", ""]
    (ROOT / "docs" / "screens.md").write_text("\n".join(lines))
    print(f"wrote docs/screens.md and {sum(1 for _ in TARGET.rglob('*.jpg'))} screenshots")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
