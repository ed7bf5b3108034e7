"""Built-in market presets, scenes and model looks.

This is data, not logic: a migration seeds it into the database, where organizations can add their own looks,
and `make_video` reads it directly so that it runs without a database. Looks describe styling, age range and
mood only; nothing here ties a market to an ethnicity or a body type: merchants choose and edit looks per market.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import get_date_format
from babel.numbers import format_currency, get_currency_precision, get_decimal_symbol, get_group_symbol

# Compositor scene styles (generation.engines.compositor renders each procedurally).
SCENE_STYLES = ("studio", "gradient", "marble", "wood", "bokeh", "room")


@dataclass(frozen=True)
class ScenePreset:
    slug: str
    name: str
    style: str
    prompt: str
    palette: tuple[str, ...]  # default colours, hex; a market may override per style


@dataclass(frozen=True)
class LookPreset:
    slug: str
    name: str
    descriptors: str


@dataclass(frozen=True)
class MarketPresetData:
    slug: str
    name: str
    locale: str
    currency: str
    caption_language: str
    direction: str
    platforms: tuple[str, ...]
    scenes: tuple[str, ...]
    palettes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    looks: tuple[LookPreset, ...] = ()
    # Digits prices are written in: "latn" (0-9) or a CLDR numbering system such as "arab" (٠-٩). Gulf storefronts
    # (the big marketplaces' .sa/.ae sites) show Latin digits, so the built-in sa/ae presets do too; editable.
    numbering_system: str = "latn"
    cta: str = ""  # call to action; empty: DEFAULT_CTA for the caption language
    review_note: str = ""  # empty: BUILTIN_REVIEW_NOTE
    # A visible "AI-generated" label in the video and poster (generation.pipeline.ai_label); the C2PA credentials
    # are on every file regardless. On where a law asks for visible disclosure of AI-generated or manipulated
    # media: the EU (AI Act art. 50, from August 2026) and South Korea (AI Basic Act, from January 2026). Elsewhere
    # the platforms label from the C2PA manifest themselves; a merchant may still want the label (editable data).
    ai_label: bool = False

    @property
    def language(self) -> str:
        return self.caption_language

    @property
    def call_to_action(self) -> str:
        return self.cta or DEFAULT_CTA.get(self.caption_language, DEFAULT_CTA["en"])

    @property
    def note(self) -> str:
        return self.review_note or BUILTIN_REVIEW_NOTE


# Platform → default aspect ratios, the order of preference when a market names the platform but not the ratio.
PLATFORM_ASPECTS: dict[str, tuple[str, ...]] = {
    "tiktok": ("9:16",),
    "reels": ("9:16",),
    "shorts": ("9:16",),
    "amazon": ("16:9", "1:1"),
    "shopify": ("1:1", "4:5"),
    "youtube": ("16:9",),
    "feed": ("4:5",),
}

# Default lengths (seconds) a market's videos for each platform get; within generation.constants.MAX_SECONDS.
# The platforms' hard limits (duration, size, bitrate) live in generation.pipeline.platforms.
PLATFORM_SECONDS: dict[str, tuple[int, ...]] = {
    "tiktok": (5, 10, 15),
    "reels": (5, 10, 15),
    "shorts": (10, 15),
    "amazon": (10, 15, 30),
    "shopify": (5, 10),
    "youtube": (15, 30),
    "feed": (5, 10, 15),
}

BUILTIN_REVIEW_NOTE = (
    "Built-in preset: scenes and looks describe styling only; edit freely. Call to action and formats to be "
    "reviewed by a native speaker of the market before launch."
)

# Call-to-action lines per caption language: data for the caption overlay (editable per market in the database),
# short imperative phrases as storefronts in each language use them. Product titles are never translated by us.
DEFAULT_CTA: dict[str, str] = {
    "en": "Shop now",
    "de": "Jetzt entdecken",
    "fr": "Découvrir",
    "es": "Comprar ahora",
    "it": "Scopri ora",
    "nl": "Bekijk nu",
    "pl": "Sprawdź teraz",
    "ja": "今すぐチェック",
    "ko": "지금 확인하기",
    "pt": "Confira já",
    "ar": "تسوّق الآن",
    "id": "Belanja sekarang",
    "th": "ช้อปเลย",
    "vi": "Mua ngay",
}

SCENES: tuple[ScenePreset, ...] = (
    ScenePreset(
        "studio-sweep",
        "Studio sweep",
        "studio",
        "seamless studio sweep, soft key light",
        ("#f4f4f2", "#d9d9d6", "#b9b9b4"),
    ),
    ScenePreset(
        "soft-gradient",
        "Soft gradient",
        "gradient",
        "smooth colour gradient backdrop",
        ("#f6e7d8", "#e8c5a8", "#c99b7a"),
    ),
    ScenePreset(
        "marble-counter",
        "Marble counter",
        "marble",
        "white marble countertop, bright daylight",
        ("#f2f1ee", "#cfcac3", "#8f8a84"),
    ),
    ScenePreset(
        "oak-table", "Oak table", "wood", "warm oak wooden table, natural light", ("#c89b6d", "#a87a4f", "#6e4b2e")
    ),
    ScenePreset(
        "garden-bokeh",
        "Garden bokeh",
        "bokeh",
        "outdoor garden, shallow depth of field, bokeh",
        ("#6f9a5b", "#cfe0a8", "#f3e9b5"),
    ),
    ScenePreset(
        "city-evening",
        "City evening",
        "bokeh",
        "city street at dusk, warm lights bokeh",
        ("#2b3145", "#f0b45a", "#e86f5a"),
    ),
    ScenePreset(
        "living-room",
        "Living room",
        "room",
        "bright modern living room, sofa, window light",
        ("#ece6dc", "#b9a58d", "#5f6f64"),
    ),
    ScenePreset(
        "kitchen",
        "Kitchen",
        "room",
        "clean modern kitchen, tiled wall, morning light",
        ("#f1efe9", "#9fb3b8", "#d0b48c"),
    ),
)

_NEUTRAL = {"studio": ("#f5f5f3", "#dadad6", "#b5b5b0"), "gradient": ("#eef1f6", "#c9d3e3", "#9aa9c4")}
_WARM = {
    "studio": ("#f7f1e8", "#e3d5c1", "#c2ab8d"),
    "gradient": ("#fbe8d3", "#f0bf95", "#d98c5f"),
    "room": ("#f3e9dc", "#c8a27c", "#7d5a3c"),
}
_COOL = {
    "studio": ("#f2f4f5", "#d3dadf", "#aab5bd"),
    "gradient": ("#e7f0f4", "#b7d0dc", "#7fa6ba"),
    "room": ("#eef0ef", "#b8c1bd", "#5d6a66"),
}
_PASTEL = {
    "studio": ("#f8f4f2", "#eadfdc", "#d4c2bd"),
    "gradient": ("#fbeef0", "#e9cfe0", "#c9b8e3"),
    "room": ("#f6f1ea", "#dcd0c2", "#a9b6a2"),
}
_VIVID = {
    "studio": ("#fff4e6", "#ffd6a5", "#ff9f6b"),
    "gradient": ("#ffe29a", "#ffa07a", "#e9546b"),
    "room": ("#fcefd9", "#e7a977", "#3f7f6e"),
}
_SAND = {
    "studio": ("#f6efe4", "#e2cfb0", "#c4a677"),
    "gradient": ("#f7ead2", "#e0c08c", "#b88a4a"),
    "room": ("#f2e8d9", "#cdb28a", "#8a6a44"),
    "marble": ("#f5f1ea", "#d8cbb8", "#9c8a6e"),
}


def _looks(*items: tuple[str, str, str]) -> tuple[LookPreset, ...]:
    return tuple(LookPreset(slug, name, descriptors) for slug, name, descriptors in items)


_CORE_LOOKS = (
    ("casual-20s", "Casual, 20s", "adult in their twenties, casual everyday outfit, relaxed friendly expression"),
    ("professional-30s", "Professional, 30s", "adult in their thirties, smart business-casual outfit, confident"),
    ("active", "Active", "athletic adult, sportswear, energetic movement"),
    ("mature-elegant", "Mature, elegant", "adult in their fifties, elegant understated outfit, warm smile"),
)
_MODEST_LOOKS = (
    ("modest-casual", "Modest casual", "adult, modest long-sleeved casual outfit, friendly expression"),
    ("modest-formal", "Modest formal", "adult, modest formal outfit, calm confident expression"),
)

_EU_PLATFORMS = ("tiktok", "reels", "amazon", "shopify", "feed")

MARKETS: tuple[MarketPresetData, ...] = (
    MarketPresetData(
        "us",
        "United States",
        "en_US",
        "USD",
        "en",
        "ltr",
        ("tiktok", "reels", "shorts", "amazon", "shopify", "youtube"),
        ("studio-sweep", "living-room", "city-evening", "kitchen", "oak-table"),
        _NEUTRAL,
        _looks(*_CORE_LOOKS),
    ),
    MarketPresetData(
        "gb",
        "United Kingdom",
        "en_GB",
        "GBP",
        "en",
        "ltr",
        _EU_PLATFORMS,
        ("studio-sweep", "living-room", "garden-bokeh", "oak-table"),
        _COOL,
        _looks(*_CORE_LOOKS),
    ),
    MarketPresetData(
        "de",
        "Germany",
        "de_DE",
        "EUR",
        "de",
        "ltr",
        _EU_PLATFORMS,
        ("studio-sweep", "oak-table", "kitchen", "soft-gradient"),
        _COOL,
        _looks(*_CORE_LOOKS),
        ai_label=True,
    ),
    MarketPresetData(
        "fr",
        "France",
        "fr_FR",
        "EUR",
        "fr",
        "ltr",
        _EU_PLATFORMS,
        ("marble-counter", "living-room", "city-evening", "studio-sweep"),
        _PASTEL,
        _looks(*_CORE_LOOKS),
        ai_label=True,
    ),
    MarketPresetData(
        "es",
        "Spain",
        "es_ES",
        "EUR",
        "es",
        "ltr",
        _EU_PLATFORMS,
        ("garden-bokeh", "kitchen", "soft-gradient", "studio-sweep"),
        _WARM,
        _looks(*_CORE_LOOKS),
        ai_label=True,
    ),
    MarketPresetData(
        "it",
        "Italy",
        "it_IT",
        "EUR",
        "it",
        "ltr",
        _EU_PLATFORMS,
        ("marble-counter", "oak-table", "city-evening", "studio-sweep"),
        _WARM,
        _looks(*_CORE_LOOKS),
        ai_label=True,
    ),
    MarketPresetData(
        "nl",
        "Netherlands",
        "nl_NL",
        "EUR",
        "nl",
        "ltr",
        _EU_PLATFORMS,
        ("living-room", "studio-sweep", "garden-bokeh", "soft-gradient"),
        _COOL,
        _looks(*_CORE_LOOKS),
        ai_label=True,
    ),
    MarketPresetData(
        "pl",
        "Poland",
        "pl_PL",
        "PLN",
        "pl",
        "ltr",
        _EU_PLATFORMS,
        ("studio-sweep", "living-room", "oak-table", "soft-gradient"),
        _NEUTRAL,
        _looks(*_CORE_LOOKS),
        ai_label=True,
    ),
    MarketPresetData(
        "jp",
        "Japan",
        "ja_JP",
        "JPY",
        "ja",
        "ltr",
        ("tiktok", "reels", "shorts", "amazon", "feed"),
        ("studio-sweep", "oak-table", "soft-gradient", "living-room"),
        _PASTEL,
        _looks(*_CORE_LOOKS),
    ),
    MarketPresetData(
        "kr",
        "South Korea",
        "ko_KR",
        "KRW",
        "ko",
        "ltr",
        ("tiktok", "reels", "shorts", "feed"),
        ("soft-gradient", "studio-sweep", "city-evening", "living-room"),
        _PASTEL,
        _looks(*_CORE_LOOKS),
        ai_label=True,
    ),
    MarketPresetData(
        "br",
        "Brazil",
        "pt_BR",
        "BRL",
        "pt",
        "ltr",
        ("tiktok", "reels", "shorts", "feed"),
        ("garden-bokeh", "soft-gradient", "living-room", "studio-sweep"),
        _VIVID,
        _looks(*_CORE_LOOKS),
    ),
    MarketPresetData(
        "mx",
        "Mexico",
        "es_MX",
        "MXN",
        "es",
        "ltr",
        ("tiktok", "reels", "amazon", "feed"),
        ("soft-gradient", "kitchen", "garden-bokeh", "studio-sweep"),
        _VIVID,
        _looks(*_CORE_LOOKS),
    ),
    MarketPresetData(
        "sa",
        "Saudi Arabia",
        "ar_SA",
        "SAR",
        "ar",
        "rtl",
        ("tiktok", "reels", "shorts", "amazon"),
        ("marble-counter", "studio-sweep", "living-room", "soft-gradient"),
        _SAND,
        _looks(*_MODEST_LOOKS, _CORE_LOOKS[3]),
    ),
    MarketPresetData(
        "ae",
        "United Arab Emirates",
        "ar_AE",
        "AED",
        "ar",
        "rtl",
        ("tiktok", "reels", "amazon", "feed"),
        ("marble-counter", "city-evening", "studio-sweep", "living-room"),
        _SAND,
        _looks(*_MODEST_LOOKS, _CORE_LOOKS[1], _CORE_LOOKS[3]),
    ),
    MarketPresetData(
        "id",
        "Indonesia",
        "id_ID",
        "IDR",
        "id",
        "ltr",
        ("tiktok", "reels", "shorts", "shopify"),
        ("garden-bokeh", "soft-gradient", "studio-sweep", "kitchen"),
        _WARM,
        _looks(_CORE_LOOKS[0], *_MODEST_LOOKS, _CORE_LOOKS[2]),
    ),
    MarketPresetData(
        "th",
        "Thailand",
        "th_TH",
        "THB",
        "th",
        "ltr",
        ("tiktok", "reels", "shorts", "feed"),
        ("garden-bokeh", "studio-sweep", "soft-gradient", "city-evening"),
        _VIVID,
        _looks(*_CORE_LOOKS),
    ),
    MarketPresetData(
        "vn",
        "Vietnam",
        "vi_VN",
        "VND",
        "vi",
        "ltr",
        ("tiktok", "reels", "shorts", "feed"),
        ("soft-gradient", "studio-sweep", "garden-bokeh", "kitchen"),
        _PASTEL,
        _looks(*_CORE_LOOKS),
    ),
)

MARKETS_BY_SLUG = {m.slug: m for m in MARKETS}
# The market slugs in order: the API's market fields and their one OpenAPI enum.
MARKET_SLUGS = sorted(MARKETS_BY_SLUG)
SCENES_BY_SLUG = {s.slug: s for s in SCENES}


def scene_palette(market: MarketPresetData, scene: ScenePreset) -> tuple[str, ...]:
    """The colours a scene is rendered in for a market: the market's palette for the style, else the scene's."""
    return market.palettes.get(scene.style, scene.palette)


def market_default_aspects(market: MarketPresetData) -> list[str]:
    seen: list[str] = []
    for platform in market.platforms:
        for aspect in PLATFORM_ASPECTS.get(platform, ()):
            if aspect not in seen:
                seen.append(aspect)
    return seen


@dataclass(frozen=True)
class PlatformDefault:
    platform: str
    aspects: tuple[str, ...]
    seconds: tuple[int, ...]


def market_platform_defaults(market: MarketPresetData) -> list[PlatformDefault]:
    """The market's platforms, each with its default aspect ratios and lengths."""
    return [PlatformDefault(p, PLATFORM_ASPECTS.get(p, ()), PLATFORM_SECONDS.get(p, ())) for p in market.platforms]


def _market(market: MarketPresetData | str) -> MarketPresetData:
    return MARKETS_BY_SLUG[market] if isinstance(market, str) else market


# The zero digit of the CLDR numbering systems our markets may use (Unicode keeps each system's digits in order).
_DIGIT_ZERO = {"arab": 0x0660, "arabext": 0x06F0, "thai": 0x0E50, "deva": 0x0966, "beng": 0x09E6}


def format_price(
    amount: Decimal | float | int | str,
    market: MarketPresetData | str,
    currency: str | None = None,
    numbering_system: str | None = None,
) -> str:
    """A price as the market writes it (Babel, CLDR): de 19,99 €, jp ￥2,000, us $19.99, sa 19.99 ر.س.

    The currency's own precision decides the decimals (JPY and KRW have none). Bidi marks that CLDR puts around
    RTL prices are kept: the caption renderer lays the line out with them.
    """
    m = _market(market)
    system = numbering_system or m.numbering_system
    text = format_currency(Decimal(str(amount)), currency or m.currency, locale=m.locale, numbering_system=system)
    # Babel switches the symbols (٫ ٬) for a numbering system but leaves the digits Latin; map those too.
    zero = _DIGIT_ZERO.get(system)
    return text.translate({ord("0") + i: zero + i for i in range(10)}) if zero else text


def currency_decimals(currency: str) -> int:
    return get_currency_precision(currency)


def number_format(market: MarketPresetData | str) -> dict[str, str]:
    """The market's number conventions: decimal and group symbols and the decimal pattern (CLDR via Babel)."""
    m = _market(market)
    locale = Locale.parse(m.locale)
    return {
        "decimal": get_decimal_symbol(locale, numbering_system=m.numbering_system),
        "group": get_group_symbol(locale, numbering_system=m.numbering_system),
        "pattern": locale.decimal_formats[None].pattern,
    }


def date_format(market: MarketPresetData | str, length: str = "short") -> str:
    """The market's date pattern (CLDR), e.g. de dd.MM.yy, us M/d/yy, jp y/MM/dd."""
    return get_date_format(length, locale=_market(market).locale).pattern


def format_date(value: date, market: MarketPresetData | str, length: str = "medium") -> str:
    return babel_format_date(value, length, locale=_market(market).locale)
