"""The caption records whether its title is the merchant's localized one or the original standing in for it."""

from __future__ import annotations

from dataclasses import asdict

from generation.pipeline.captions import caption_content
from generation.presets import MARKETS_BY_SLUG


def test_no_title_in_the_markets_language_is_recorded_as_a_fallback():
    content = caption_content(MARKETS_BY_SLUG["jp"], title="Amber glass bottle", localized_titles={"de": "Flasche"})
    assert content.title == "Amber glass bottle" and content.title_localized is False
    assert asdict(content)["title_localized"] is False  # what the video's caption summary carries


def test_a_title_in_the_markets_language_is_recorded_as_localized():
    content = caption_content(MARKETS_BY_SLUG["jp"], title="Amber glass bottle", localized_titles={"ja": "ガラス瓶"})
    assert content.title == "ガラス瓶" and content.title_localized is True


def test_a_blank_localized_title_is_a_fallback():
    content = caption_content(MARKETS_BY_SLUG["jp"], title="Amber glass bottle", localized_titles={"ja": "  "})
    assert content.title == "Amber glass bottle" and content.title_localized is False
