"""Settings for the web drain test: the test settings with one slow view added to the real URLs."""

from shop_video.settings_test import *  # noqa: F403

ROOT_URLCONF = "tests.drills.web_drain_urls"
