"""Periodic work of the member directory: retention (docs/privacy.md)."""

import logging

from celery import shared_task

from crm.mail.services import messages_purge_bodies
from members.selectors import contact_erasure_candidates

logger = logging.getLogger(__name__)


@shared_task
def retention_pass() -> dict[str, int]:
    """Daily (``CELERY_BEAT_SCHEDULE["retention"]``): purge the bodies of old outbox messages
    and count the contacts that have become erasure candidates. It never erases anyone: a
    coordinator does, from "Erasure candidates" on the contact list."""
    purged = messages_purge_bodies()
    candidates = contact_erasure_candidates().count()
    # Counts only: no names or addresses in logs.
    logger.info("Retention: %s outbox bodies purged, %s erasure candidates", purged, candidates)
    return {"purged": purged, "candidates": candidates}


def schedule_retention() -> int:
    """The embedded default's outbox pass (``OUTBOX_SCHEDULERS``): the purge only, which is
    idempotent and cheap when nothing is due. Creates no outbox rows, so returns 0."""
    messages_purge_bodies()
    return 0
