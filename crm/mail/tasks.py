import contextlib
import logging

from celery import shared_task
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse
from django.utils.module_loading import import_string

from crm.mail import services
from crm.mail.models import OutgoingMessage

logger = logging.getLogger(__name__)
BATCH = 50


def unsubscribe_url(message: OutgoingMessage) -> str | None:
    if message.essential or message.contact_id is None:
        return None
    token = signing.dumps({"c": message.contact_id}, salt="mail.unsubscribe")
    return settings.CRM_SITE_URL.rstrip("/") + reverse("mail:unsubscribe", args=[token])


def build_email(message: OutgoingMessage, connection) -> EmailMultiAlternatives:
    headers = {"Message-ID": message.message_id}
    url = unsubscribe_url(message)
    if url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the URL.
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=[message.to_email],
        headers=headers,
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return email


@shared_task(acks_late=True)
def send_messages(ids: list[int]) -> dict[str, int]:
    """Send the given outbox rows over one SMTP connection; rows already in flight or final
    are skipped, so a replayed task sends nothing twice."""
    rows = services.claim(ids)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not rows:
        return counts
    connection = get_connection(fail_silently=False)
    try:
        for row in rows:
            try:
                connection.open()
                connection.send_messages([build_email(row, connection)])
            except Exception as exc:  # classified: temporary ones retried, the rest failed
                status = services.mark_error(row, exc)
                counts["retry" if status == OutgoingMessage.Status.RETRY else "failed"] += 1
                logger.warning("Mail %s to %s: %s", row.pk, row.to_email, exc)
                # After any SMTP error the connection is in an unknown state: start afresh.
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    connection.close()
            else:
                services.mark_sent(row)
                counts["sent"] += 1
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return counts


def run_schedulers() -> int:
    """Let each app create the outbox rows that have become due (reminders, digests). Each
    scheduler is idempotent — the outbox key makes a second pass find the rows it created — so
    two beats running at once cannot create a message twice."""
    created = 0
    for path in settings.OUTBOX_SCHEDULERS:
        try:
            created += import_string(path)()
        except Exception:  # one broken scheduler must not stop the others or the sending
            logger.exception("Scheduler %s failed", path)
    return created


@shared_task
def dispatch_outbox() -> dict[str, int]:
    """The periodic pass (every minute): create what the schedulers find due, surface rows
    stuck in flight as unknown, then enqueue every due row in batches. The database is the
    schedule; nothing waits in the broker."""
    scheduled = run_schedulers()
    unknown = services.mark_stale_unknown()
    ids = services.due_ids()
    for start in range(0, len(ids), BATCH):
        send_messages.delay(ids[start : start + BATCH])
    return {"scheduled": scheduled, "unknown": unknown, "enqueued": len(ids)}
