"""Thai captions break between dictionary words (PyThaiNLP's newmm over its bundled word list), never inside one.

Each title's word boundaries are labelled by hand below (the finest segmentation a Thai reader accepts); every line
break the caption wrapper makes must fall on one of them, at every line width where the longest word fits."""

import pytest

from generation.pipeline import captions

# Real product titles as Thai storefronts write them (no spaces between words), cut into words by hand.
TITLES = [
    ["รองเท้า", "ผ้าใบ", "วิ่ง", "น้ำหนัก", "เบา"],  # lightweight running sneakers
    ["เสื้อ", "ยืด", "คอ", "กลม", "ผ้า", "ฝ้าย", "สี", "ขาว"],  # white cotton crew-neck T-shirt
    ["กระเป๋า", "หนัง", "แท้", "สำหรับ", "ผู้", "หญิง", "สี", "ดำ"],  # genuine leather bag for women, black
    ["ครีม", "กัน", "แดด", "สูตร", "อ่อนโยน", "สำหรับ", "ผิว", "แพ้", "ง่าย"],  # gentle sunscreen, sensitive skin
    ["หู", "ฟัง", "ไร้", "สาย", "ตัด", "เสียง", "รบกวน"],  # wireless noise-cancelling earphones
]
SIZE = 24


def _boundaries(words: list[str]) -> set[int]:
    out, pos = set(), 0
    for word in words[:-1]:
        pos += len(word)
        out.add(pos)
    return out


@pytest.mark.parametrize("words", TITLES, ids=["sneakers", "t-shirt", "bag", "sunscreen", "earphones"])
def test_thai_lines_break_only_between_dictionary_words(words):
    text = "".join(words)
    allowed = _boundaries(words)
    # Widest dictionary word (compounds such as รองเท้าผ้าใบ count as one): narrower lines must cut a word.
    widest = max(captions.text_width(w, language="th", size=SIZE) for w in captions.thai_words(text))
    full = captions.text_width(text, language="th", size=SIZE)
    broken_somewhere = False
    for width in range(int(widest) + 1, int(full), 12):
        lines = captions.wrap(text, max_width=width, language="th", size=SIZE, max_lines=20)
        assert "".join(lines) == text, lines  # nothing lost, no U+200B left in a line
        breaks, pos = set(), 0
        for line in lines[:-1]:
            pos += len(line)
            breaks.add(pos)
        assert breaks <= allowed, f"width {width}: {lines} breaks inside a word ({sorted(breaks - allowed)})"
        for line in lines:
            assert captions.text_width(line, language="th", size=SIZE) <= width
        broken_somewhere |= len(lines) > 1
    assert broken_somewhere


def test_the_dictionary_splits_where_clusters_alone_would_not_know():
    # Grapheme clusters would allow a break after every consonant (กร|ะ…); the dictionary only between words.
    assert captions.thai_words("กระเป๋าหนังแท้สำหรับผู้หญิงสีดำ") == (
        "กระเป๋า",
        "หนัง",
        "แท้",
        "สำหรับ",
        "ผู้หญิง",
        "สี",
        "ดำ",
    )
    # Mixed text: only the Thai runs are cut; Latin words, digits and spaces stay as they were.
    assert captions.mark_thai_word_breaks("Aurora กระเป๋าเป้ 20L") == "Aurora กระเป๋า\u200bเป้ 20L"


def test_a_thai_caption_block_wraps_at_word_boundaries():
    from generation.presets import MARKETS_BY_SLUG

    words = TITLES[3]
    content = captions.caption_content(
        MARKETS_BY_SLUG["th"], title="Sunscreen", localized_titles={"th": "".join(words)}, price="390"
    )
    plan = captions.plan_captions(content, width=480, height=832, platform="tiktok")
    lines = captions.wrap(
        content.title,
        max_width=plan.safe_rect[2] - plan.safe_rect[0] - 2 * round(captions.PAD * 480),  # as render_block does
        language="th",
        size=round(captions.TITLE_SIZE * 480),
        max_lines=captions.TITLE_MAX_LINES,
    )
    assert len(lines) == 2 and "".join(lines) == content.title
    assert len(lines[0]) in _boundaries(words)
