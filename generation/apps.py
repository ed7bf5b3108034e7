from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = _("Generation")

    def ready(self) -> None:
        # Catalogue import: its Celery task module, and the check that refuses the test-only fetch allowlist.
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from generation import checks as cutout_checks  # noqa: F401  (the learned cutout model)
        from generation import tasks_import  # noqa: F401
        from generation.imports import checks  # noqa: F401

        if getattr(settings, "SHOPVIDEO_FETCH_ALLOWLIST", None) and not settings.DEBUG:
            raise ImproperlyConfigured("SHOPVIDEO_FETCH_ALLOWLIST is for tests only; it must not be set in production.")

        from celery.signals import worker_process_init

        # Sent in the process that runs the tasks, for the prefork and the solo pool alike.
        worker_process_init.connect(_warm_up_dit, weak=False, dispatch_uid="shopvideo-dit-warmup")


def _warm_up_dit(**_: object) -> None:
    from generation.engines import warmup

    warmup.start_in_background()
