"""Display helpers for dashboard templates: names in the merchant's language."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..forms import MARKET_NAMES, look_name, market_name, scene_name
from ..forms_ads import shot_kind_name

register = template.Library()

# Stage names the pipeline and the job service write to Job.stage; unknown ones are shown as they are.
STAGE_NAMES = {
    "claimed": gettext_lazy("starting"),
    "ingest": gettext_lazy("reading the photo"),
    "cutout": gettext_lazy("cutting out"),
    "layout": gettext_lazy("laying out"),
    "conditions": gettext_lazy("preparing"),
    "render": gettext_lazy("rendering"),
    "fidelity": gettext_lazy("restoring product pixels"),
    "encode": gettext_lazy("encoding"),
    "qa": gettext_lazy("quality check"),
    "retrying": gettext_lazy("retrying"),
    "requeued": gettext_lazy("queued again"),
}

register.filter("market_name", market_name)
register.filter("scene_name", scene_name)
register.filter("look_name", look_name)
register.filter("shot_kind_name", shot_kind_name)


@register.filter
def market_slug_name(slug: str, name: str = "") -> str:
    """A market's name from its slug (rows of values(), not objects): `{{ slug|market_slug_name:name }}`."""
    return str(MARKET_NAMES.get(slug, name or slug))


@register.filter
def batch_title(batch) -> str:
    """The batch's name, or "Batch 12" in the merchant's language when it has none."""
    return batch.name or _("Batch %(id)d") % {"id": batch.pk}


@register.filter
def stage_name(stage: str) -> str:
    return str(STAGE_NAMES.get(stage, stage))
