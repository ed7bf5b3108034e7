from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "shop_video.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # Hook the job signals of generation.services and the deploy checks.
        from . import checks, receivers  # noqa: F401
