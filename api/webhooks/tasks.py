import logging

from celery import shared_task

from api.webhooks import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def deliver_webhooks(ids: list[int]) -> dict[str, int]:
    """POST the given deliveries; rows already in flight, final or not yet due are skipped, so
    a replayed task sends nothing twice."""
    counts: dict[str, int] = {}
    for delivery in services.claim(ids):
        outcome = services.attempt(delivery)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != services.Outcome.DELIVERED:
            logger.info("Webhook delivery %s: %s", delivery.pk, outcome)
    return counts
