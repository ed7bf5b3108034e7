"""Celery tasks: ids in, services do the work."""

from celery import shared_task

from billing import services


@shared_task(name="billing.tasks.process_pending_events")
def process_pending_events() -> int:
    return services.process_pending_events()


@shared_task(name="billing.tasks.process_event")
def process_event(event_pk: int) -> None:
    services.process_event(event_pk)
