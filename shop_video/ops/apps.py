from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "shop_video.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from shop_video.core import audit

        from . import metrics

        audit.connect_signals()
        metrics.register_collector()
        metrics.register_credits_source(metrics.ledger_credits_captured)
