"""Seed the built-in markets, scenes and model looks from generation.presets (data, editable afterwards)."""

from django.db import migrations


def seed(apps, schema_editor):
    from generation.presets import MARKETS, SCENES

    Scene = apps.get_model("generation", "Scene")
    MarketPreset = apps.get_model("generation", "MarketPreset")
    ModelLook = apps.get_model("generation", "ModelLook")
    scenes = {}
    for s in SCENES:
        scenes[s.slug], _ = Scene.objects.update_or_create(
            slug=s.slug, defaults={"name": s.name, "style": s.style, "prompt": s.prompt, "palette": list(s.palette)}
        )
    for m in MARKETS:
        market, _ = MarketPreset.objects.update_or_create(
            slug=m.slug,
            defaults={
                "name": m.name, "locale": m.locale, "currency": m.currency, "caption_language": m.caption_language,
                "direction": m.direction, "platforms": list(m.platforms),
                "palettes": {style: list(colours) for style, colours in m.palettes.items()},
                "review_note": "Built-in preset: scenes and looks describe styling only; edit freely.",
            },
        )
        market.scenes.set([scenes[slug] for slug in m.scenes])
        for look in m.looks:
            ModelLook.objects.update_or_create(
                market=market, organization=None, slug=look.slug,
                defaults={"name": look.name, "descriptors": look.descriptors},
            )


class Migration(migrations.Migration):
    dependencies = [("generation", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
